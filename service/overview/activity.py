"""The audit trail read as sentences: "dave overrode github.com/psf/requests to 120.00 USD:
'core dependency'". Pure: an event's action and details in, one line of text out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from service.money import format_amount

Details = Mapping[str, Any]


def _money(minor: object, currency: str) -> str:
    return f"{format_amount(int(minor), currency)} {currency}" if minor is not None else "?"


def _quoted(text: object) -> str:
    return f": “{text}”" if text else ""


def _adjusted(d: Details, currency: str) -> str:
    project, kind = d.get("project", "a line"), d.get("kind")
    if kind == "override":
        what = f"overrode {project} to {_money(d.get('amount_after'), currency)}"
    elif kind == "exclude":
        what = f"excluded {project}"
    elif kind == "boost":
        what = f"boosted {project} by {d.get('value')}"
    elif kind == "pin_minimum":
        what = f"pinned {project} to the minimum"
    else:
        what = f"adjusted {project}"
    return f"{what} in {d.get('period', 'a proposal')}{_quoted(d.get('note'))}"


def _uploaded(d: Details, currency: str) -> str:
    change = f", {d['added']} packages added, {d.get('removed', 0)} removed" if "added" in d else ""
    product, components = d.get("product", "a product"), d.get("components", "?")
    return f"uploaded an SBOM of {product}: {components} components{change}"


_SENTENCES: dict[str, Callable[[Details, str], str]] = {
    "proposal.adjusted": _adjusted,
    "proposal.adjustment_removed": lambda d, c: (
        f"removed the {str(d.get('kind', '')).replace('_', ' ')} of {d.get('project')} "
        f"in {d.get('period')}"
    ),
    "proposal.generated": lambda d, c: (
        f"computed the {d.get('period')} proposal (revision {d.get('revision')}): "
        f"{_money(d.get('paid_minor'), c)} to pay, {_money(d.get('held_minor'), c)} held"
    ),
    "proposal.submitted": lambda d, c: f"put the {d.get('period')} proposal up for review",
    "proposal.approved": lambda d, c: (
        f"approved the {d.get('period')} proposal: {_money(d.get('paid_minor'), c)} to pay"
        f"{_quoted(d.get('comment'))}"
    ),
    "proposal.rejected": lambda d, c: (
        f"rejected the {d.get('period')} proposal{_quoted(d.get('comment'))}"
    ),
    "sbom.uploaded": _uploaded,
    "product.created": lambda d, c: f"created the product {d.get('name')}",
    "github.imported": lambda d, c: (
        f"imported {d.get('imported', 0)} of {d.get('repositories', 0)} repositories "
        f"of {d.get('org')} from GitHub"
    ),
    "member.invited": lambda d, c: f"invited {d.get('login')} as {d.get('role')}",
    "member.joined": lambda d, c: f"joined as {d.get('role')}",
    "member.role_changed": lambda d, c: (
        f"changed a member's role from {d.get('before')} to {d.get('after')}"
    ),
    "member.removed": lambda d, c: "removed a member",
    "member.invitation_revoked": lambda d, c: "withdrew an invitation",
    "token.created": lambda d, c: f"created the API token “{d.get('name')}”",
    "token.revoked": lambda d, c: f"revoked the API token {d.get('prefix')}…",
    "company.created": lambda d, c: "created the company",
    "company.settings_changed": lambda d, c: "changed the company's name or budget",
    "allocation.policy_changed": lambda d, c: "changed the allocation policy",
    "risk.weights_changed": lambda d, c: "changed the risk weights",
    "risk.recomputed": lambda d, c: f"recomputed the risk of {d.get('projects', '?')} projects",
    "org.linked": lambda d, c: f"linked the GitHub organisation {d.get('org')}",
    "org.unlinked": lambda d, c: f"unlinked the GitHub organisation {d.get('org')}",
    "pledge.payment_recorded": lambda d, c: (
        f"recorded a payment of {_money(d.get('amount_minor'), d.get('currency') or c)}"
        + (f" on {d['platform']}" if d.get("platform") else "")
    ),
}


def sentence(action: str, details: Details, currency: str) -> str:
    """What happened, after the actor's name; unknown actions read as their name."""
    describe = _SENTENCES.get(action)
    if describe is None:
        return action.replace(".", ": ").replace("_", " ")
    return describe(details, currency)


def kinds() -> list[str]:
    """The action families the audit page filters by ("proposal", "sbom", …)."""
    return sorted({action.split(".")[0] for action in _SENTENCES})
