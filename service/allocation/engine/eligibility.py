# ruff: noqa: RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Steps 1 and 5: who takes no part this month, and why (first-party, excluded, unused,
unclaimed under "skip", or held for ``hold_months`` already)."""

from __future__ import annotations

from service.allocation.engine.model import (
    Candidate,
)
from service.allocation.policy import Policy


def ineligible(candidate: Candidate, policy: Policy) -> tuple[str, str] | None:
    """(code, reason) when the candidate takes no part this month (steps 1 and 5)."""
    named_owners = policy.first_party_owners or policy.exclude_owners
    owner = candidate.owner_name if named_owners else ""
    if candidate.first_party:
        return "first_party", "first-party: the company's own project"
    # The policy's name sets are usually empty: no case folding for them then.
    if policy.first_party_owners and owner.casefold() in policy.first_party_owners:
        return "first_party", f"first-party: owned by the company's organisation {owner}"
    if candidate.excluded:
        return "excluded", "excluded by the OSPO"
    if policy.exclude_projects and candidate.key.casefold() in policy.exclude_projects:
        return "policy_excluded", "excluded by policy (project)"
    if policy.exclude_owners and owner.casefold() in policy.exclude_owners:
        return "policy_excluded", f"excluded by policy (owner {owner})"
    if candidate.ecosystem and candidate.ecosystem.casefold() in policy.exclude_ecosystems:
        return "policy_excluded", f"excluded by policy (ecosystem {candidate.ecosystem})"
    if not candidate.uses and candidate.dependence is None:
        return "not_used", "not used by any product"
    if not candidate.claimed:
        if policy.unclaimed == "skip":
            return (
                "unclaimed_skipped",
                "unclaimed, and the policy skips unclaimed projects: its share went to the others",
            )
        if candidate.months_held >= policy.hold_months:
            return (
                "hold_expired",
                f"unclaimed after {candidate.months_held} month(s) on hold: "
                "its share went to the others",
            )
    return None
