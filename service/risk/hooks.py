"""What the risk domain asks of the domains above it, without importing them."""

from __future__ import annotations

from flask.signals import Namespace
from sqlmodel import Session

_signals = Namespace()

# Sent with the session as sender and `company_id` when pledge coverage is computed. The
# allocation domain answers with what the company's current proposal gives each project,
# {project id: minor units} (it connects in service.allocation.init_app).
proposed_amounts_wanted = _signals.signal("proposed-amounts-wanted")


def proposed_amounts(session: Session, company_id: int) -> dict[int, int]:
    answers = proposed_amounts_wanted.send(session, company_id=company_id)
    if len(answers) != 1:
        raise RuntimeError(
            f"expected one answer to {proposed_amounts_wanted.name!r}, got {len(answers)}: "
            "the allocation domain connects it when the app starts"
        )
    return answers[0][1]
