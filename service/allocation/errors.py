"""Why a request about a proposal or policy cannot be carried out."""

from __future__ import annotations

from service.allocation.models import OPEN_STATES, Proposal


class ProposalError(ValueError):
    """A request about a proposal or policy that cannot be carried out; says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def require_open(proposal: Proposal, doing: str) -> None:
    if proposal.state not in OPEN_STATES:
        raise ProposalError(
            f"This proposal is {proposal.state.replace('_', ' ')}; only a draft or a proposal "
            f"in review can be {doing}."
        )
