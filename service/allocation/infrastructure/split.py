# ruff: noqa: RUF002, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""How much of a month's budget goes to the registries, and to which. Pure.

The company's dependence on an ecosystem is the allocation's own measure summed over the
packages of that ecosystem: for each package, Σ over the products using it of
``decay^(depth−1)`` at its shallowest depth there (unknown depth = the policy's default).

The policy sets a part of the budget aside (a fraction or a fixed amount). Each
ecosystem's share of the dependence decides what of that part it stands for:

- an ecosystem whose registry's steward takes contributions: its share goes to that
  steward, through the allocation engine (weight = dependence, the policy's infrastructure
  cap and the usual minimum, exact cents);
- an ecosystem whose steward takes none (a commercial vendor), or that the table does not
  list: its share goes back to the maintainers' pool, and the proposal says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from service.allocation.engine import Candidate
from service.allocation.infrastructure.table import RegistryTable, Steward
from service.allocation.policy import Policy


@dataclass(frozen=True, slots=True)
class PackageUse:
    """One package of one product (shallowest depth there; None = unknown)."""

    package: str
    ecosystem: str
    product: str
    depth: int | None


@dataclass(frozen=True, slots=True)
class EcosystemShare:
    """One ecosystem of the company's inventory and who runs its registry."""

    ecosystem: str
    dependence: Fraction
    packages: int
    status: str  # "payable", "no_channel" (the steward takes no contributions), "unlisted"
    key: str | None = None  # the steward's recipient key ("infrastructure/pypi")
    registry: str | None = None  # "PyPI"
    steward: str | None = None  # "Python Software Foundation"
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "dependence": str(self.dependence),
            "packages": self.packages,
            "status": self.status,
            "key": self.key,
            "registry": self.registry,
            "steward": self.steward,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EcosystemShare:
        return cls(**{**data, "dependence": Fraction(str(data["dependence"]))})


@dataclass(frozen=True)
class InfrastructurePlan:
    """What the policy sets aside, per ecosystem; what of it the stewards can take."""

    part: int  # minor units the policy sets aside
    payable: int  # of which goes to stewards that take contributions (the rest: maintainers)
    ecosystems: tuple[EcosystemShare, ...]

    @property
    def total_dependence(self) -> Fraction:
        return sum((share.dependence for share in self.ecosystems), Fraction(0))

    def share_of(self, ecosystem: str) -> Fraction:
        """The ecosystem's share of the company's whole dependence (0..1)."""
        total = self.total_dependence
        found = next((e for e in self.ecosystems if e.ecosystem == ecosystem), None)
        return found.dependence / total if found and total else Fraction(0)

    def candidates(self) -> list[Candidate]:
        """One engine candidate per steward that takes contributions."""
        groups: dict[str, list[EcosystemShare]] = defaultdict(list)
        for share in self.ecosystems:
            if share.status == "payable" and share.key:
                groups[share.key].append(share)
        total = self.total_dependence
        return [steward_candidate(group, total) for _, group in sorted(groups.items())]

    def to_dict(self) -> dict[str, Any]:
        return {
            "part_minor": self.part,
            "payable_minor": self.payable,
            "ecosystems": [share.to_dict() for share in self.ecosystems],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InfrastructurePlan:
        return cls(
            part=int(data["part_minor"]),
            payable=int(data["payable_minor"]),
            ecosystems=tuple(EcosystemShare.from_dict(e) for e in data["ecosystems"]),
        )


def ecosystem_dependence(
    uses: Iterable[PackageUse], policy: Policy
) -> dict[str, tuple[Fraction, int]]:
    """{ecosystem: (dependence, packages)}, each package counted once per product."""
    shallowest: dict[tuple[str, str], tuple[str, int | None]] = {}
    for use in uses:
        slot = (use.package, use.product)
        depth = use.depth if use.depth is None or use.depth >= 1 else None
        if slot not in shallowest:
            shallowest[slot] = (use.ecosystem.casefold(), depth)
        else:
            current = shallowest[slot][1]
            if depth is not None and (current is None or depth < current):
                shallowest[slot] = (use.ecosystem.casefold(), depth)
    dependence: dict[str, Fraction] = defaultdict(Fraction)
    packages: dict[str, set[str]] = defaultdict(set)
    for (package, _), (ecosystem, depth) in shallowest.items():
        dependence[ecosystem] += policy.decay ** ((depth or policy.unknown_depth) - 1)
        packages[ecosystem].add(package)
    return {eco: (dependence[eco], len(packages[eco])) for eco in sorted(dependence)}


def plan_infrastructure(
    dependence: Mapping[str, tuple[Fraction, int]],
    table: RegistryTable,
    policy: Policy,
    budget: int,
) -> InfrastructurePlan:
    """The part the policy sets aside and what of it goes to stewards taking contributions."""
    step = policy.granularity
    part = policy.infrastructure_part(budget) // step * step
    shares = tuple(
        _share(eco, dep, count, table.for_ecosystem(eco))
        for eco, (dep, count) in sorted(dependence.items())
        if dep > 0
    )
    total = sum((share.dependence for share in shares), Fraction(0))
    payable_dependence = sum(
        (share.dependence for share in shares if share.status == "payable"), Fraction(0)
    )
    payable = int(part * payable_dependence / total) // step * step if total else 0
    return InfrastructurePlan(part, payable, shares)


def _share(ecosystem: str, dependence: Fraction, packages: int, steward: Steward | None):
    if steward is None:
        return EcosystemShare(ecosystem, dependence, packages, "unlisted")
    return EcosystemShare(
        ecosystem,
        dependence,
        packages,
        "payable" if steward.payable else "no_channel",
        key=steward.key,
        registry=steward.name,
        steward=steward.steward,
        note=steward.note,
    )


def steward_candidate(shares: list[EcosystemShare], total: Fraction) -> Candidate:
    """The engine's candidate for one steward: weight = its ecosystems' dependence."""
    first = shares[0]
    dependence = sum((s.dependence for s in shares), Fraction(0))
    packages = sum(s.packages for s in shares)
    ecosystems = ", ".join(s.ecosystem for s in shares)
    plural = "s" if packages != 1 else ""
    basis = (
        f"infrastructure: {_percent(dependence / total)} of your dependence is on "
        f"{first.registry} packages ({packages} package{plural}: {ecosystems}); "
        f"{first.registry} is run by {first.steward}"
    )
    assert first.key is not None
    return Candidate(
        key=first.key,
        claimed=True,  # a steward listed with a channel is payable as it is
        owner=first.key.split("/", 1)[1],
        ecosystem=first.ecosystem,
        dependence=dependence,
        basis=basis,
    )


def _percent(value: Fraction) -> str:
    percent = float(value * 100)
    return f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"
