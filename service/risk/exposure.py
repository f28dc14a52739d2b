# ruff: noqa: RUF002, RUF003 - formulas use × and − as DESIGN.md writes them
"""A company's exposure to the projects it depends on, and how much of it pledges cover.
Pure, no I/O.

**Dependence** of a company on a project is the weight the allocation gives a project
for its products and depths (DESIGN "Allocation", step 2, without risk and boosts)::

    dependence = Σ over the company's products using the project of decay^(depth − 1)

with ``depth`` the project's shallowest depth in that product's latest SBOM (1 = direct),
an unknown depth counted as ``unknown_depth``, and ``decay = 0.5`` and
``unknown_depth = 2`` (``DECAY``, ``UNKNOWN_DEPTH``: the allocation policy's defaults).
So a direct dependency of one product counts 1, a transitive one at depth 2 counts 0.5,
and a project used directly by three products counts 3. Using the allocation's own
numbers keeps exposure and the monthly split in agreement: the projects that hold most
of the exposure are the ones the split weighs most.

**Exposure** = Σ over projects of ``dependence × risk`` (risk 0..100). A project without
a score (no signal had data) counts at the neutral 50, as the allocation counts it.

**Pledge coverage** = the share of exposure held by projects with an active pledge at
or above the amount proposed for them (:func:`pledge_coverage`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "DECAY",
    "NEUTRAL_RISK",
    "NO_PLEDGES",
    "UNKNOWN_DEPTH",
    "PledgeCoverage",
    "dependence",
    "exposure_of",
    "pledge_coverage",
    "top_unfunded",
]

# Defined here, below the allocation, whose policy takes them as its defaults.
DECAY = Fraction(1, 2)
UNKNOWN_DEPTH = 2
NEUTRAL_RISK = 50.0

NO_PLEDGES = "no pledges recorded yet"
NO_EXPOSURE = "no exposure: no scored projects in the inventory"


def dependence(
    depths: Iterable[int | None],
    *,
    decay: Fraction | float = DECAY,
    unknown_depth: int = UNKNOWN_DEPTH,
) -> float:
    """Σ decay^(depth − 1) over the products' shallowest depths (one entry per product)."""
    total = Fraction(0)
    decay = Fraction(decay)
    for depth in depths:
        d = unknown_depth if depth is None else max(1, int(depth))
        total += decay ** (d - 1)
    return float(total)


def exposure_of(dependence_value: float, score: float | None) -> float:
    """One project's exposure: dependence × risk, an unscored project at the neutral 50."""
    return dependence_value * (NEUTRAL_RISK if score is None else score)


@dataclass(frozen=True, slots=True)
class PledgeCoverage:
    """The part of a company's exposure covered by pledges, and why it is what it is."""

    share: float  # 0..1
    covered: float
    total: float
    covered_projects: int
    reason: str | None  # set when the share is 0 for a reason worth saying

    def to_dict(self) -> dict[str, object]:
        return {
            "share": self.share,
            "covered_exposure": self.covered,
            "exposure": self.total,
            "covered_projects": self.covered_projects,
            "reason": self.reason,
        }


def pledge_coverage(
    projects: Mapping[int, tuple[float, int | None, int | None]],
) -> PledgeCoverage:
    """Coverage from ``{project_id: (dependence × risk, pledged_minor, proposed_minor)}``.

    A project counts as covered when it has an active pledge (``pledged_minor`` > 0) of at
    least the amount proposed for it; without a proposed amount (None) any active pledge
    covers it. ``pledged_minor`` None means "no pledge". Amounts are compared in the same
    currency (the company's), in minor units.
    """
    total = math.fsum(max(0.0, exposure) for exposure, _, _ in projects.values())
    pledged_any = any(p is not None and p > 0 for _, p, _ in projects.values())
    covered_ids = [
        project_id
        for project_id, (_, pledged, proposed) in projects.items()
        if pledged is not None and pledged > 0 and pledged >= (proposed or 0)
    ]
    covered = math.fsum(max(0.0, projects[i][0]) for i in covered_ids)
    if total <= 0:
        return PledgeCoverage(0.0, 0.0, 0.0, len(covered_ids), NO_EXPOSURE)
    reason = None if pledged_any else NO_PLEDGES
    share = round(covered / total, 4)
    return PledgeCoverage(share, covered, total, len(covered_ids), reason)


def top_unfunded(
    projects: Mapping[int, tuple[float, bool]], limit: int = 10
) -> list[tuple[int, float]]:
    """The ``limit`` projects with the highest exposure among the unfunded ones.

    ``projects`` is ``{project_id: (dependence × risk, funded)}``, where funded means the
    project has a funding channel, a maintainer's claim with a payout channel, or a
    pledge. Ties go to the lower project id, so the list is deterministic.
    """
    unfunded = [(pid, exposure) for pid, (exposure, funded) in projects.items() if not funded]
    unfunded.sort(key=lambda item: (-item[1], item[0]))
    return [item for item in unfunded[:limit] if item[1] > 0]
