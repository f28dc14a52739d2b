"""The pledge list's filters (page and API), read with the shared input fields."""

from __future__ import annotations

from service.core.forms import Choice, InputField, QueryForm, Text
from service.pledges.lifecycle import PLATFORMS, TransitionError, parse_period
from service.pledges.models import PledgeState
from service.pledges.services import PledgeFilters


class Period(InputField):
    """A month, YYYY-MM."""

    def parse(self, raw: str) -> str:
        try:
            parse_period(raw)
        except TransitionError as exc:
            raise ValueError(exc.message) from None
        return raw


class PledgeFilterForm(QueryForm):
    """A bad filter is named in `problems` and left out of `filters`."""

    period = Period()
    state = Choice(
        choices=[s.value for s in PledgeState], message="Unknown state {raw!r}: one of {choices}."
    )
    project = Text(limit=200, strict=False)  # part of the project key
    platform = Choice(choices=PLATFORMS, message="Unknown platform {raw!r}: one of {choices}.")

    @property
    def filters(self) -> PledgeFilters:
        return PledgeFilters(**self.values)
