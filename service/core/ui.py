# ruff: noqa: RUF001, RUF002 - the en dash is what pages show for a missing score
"""The components drawn in table cells (pills, risk badges), written in Python: a Jinja
macro call costs several times a function call, and a page of 100 rows draws about 300 of
them. Every other component is a macro in templates/_ui.html."""

from __future__ import annotations

from markupsafe import Markup, escape

# The tones of a proposal's and a pledge's states (a state not listed is neutral).
STATE_TONES = {
    "approved": "good",
    "rejected": "bad",
    "in_review": "info",
    "draft": "warn",
    "paid": "good",
    "overdue": "bad",
    "pledged": "info",
    "partially_paid": "warn",
}


def pill(text: object, tone: str = "") -> Markup:
    """A short label; tone: good, warn, bad, info or "" (neutral)."""
    tone_class = f" {escape(tone)}" if tone else ""
    return Markup(f'<span class="pill{tone_class}">{escape(text)}</span>')


def state_pill(state: str) -> Markup:
    """A proposal's or a pledge's state as a pill (in review is information, not an alarm)."""
    return pill(state.replace("_", " "), STATE_TONES.get(state, ""))


def risk_badge(score: float | None) -> Markup:
    """A 0-100 risk score as a pill, "–" when it is not scored yet."""
    if score is None:
        return Markup('<span class="pill" title="Not scored yet">–</span>')
    return pill(f"{score:.1f}", "bad" if score >= 60 else ("warn" if score >= 40 else "good"))


TEMPLATE_GLOBALS = {"pill": pill, "state_pill": state_pill, "risk_badge": risk_badge}
