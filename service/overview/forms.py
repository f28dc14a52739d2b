"""The activity page's filters."""

from __future__ import annotations

from service.core.forms import Choice, PageForm, Text
from service.overview.activity import kinds


class ActivityForm(PageForm):
    """An unknown kind is read as no filter and an over-long login is cut: a hand-edited
    link keeps working."""

    kind = Choice(choices=kinds(), strict=False)
    actor = Text(limit=100, strict=False)  # a member's GitHub login
