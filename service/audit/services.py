"""Writing to the audit trail; every state-changing service calls record()."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.audit.models import Event


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, an API token, or a named process (cli, scheduler)."""

    user_id: int | None = None
    token_id: int | None = None
    label: str | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(label=label)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Details of a change for `record`: both states, and {field: [old, new]} for each field
    that changed (nested policy fields by their own name)."""
    changed: dict[str, list[Any]] = {}
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            for key, value in changes(old, new)["changed"].items():
                changed[f"{name}.{key}"] = value
        elif old != new:
            changed[name] = [old, new]
    return {"before": before, "after": after, "changed": changed}


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    company_id: int | None = None,
    obj: object | None = None,
    **details: Any,
) -> Event:
    """Add an event to the session; it commits with the change it describes."""
    event = Event(
        actor_user_id=actor.user_id,
        actor_token_id=actor.token_id,
        actor_label=actor.label,
        company_id=company_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        details=details,
    )
    session.add(event)
    return event
