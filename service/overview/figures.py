"""How a figure moved, for the home page's tiles. Pure."""

from __future__ import annotations


def trend(
    now: float | None, before: float | None, against: str, more_is: str = "good"
) -> tuple[str, str, str] | None:
    """(text, direction, tone) of the change from `before` to `now`, e.g.
    ("+12% against 2026-11", "up", "good"); `more_is` says whether a rise is "good" or
    "bad" news. None without a base to compare with."""
    if now is None or not before:
        return None
    ratio = (now - before) / before
    if abs(ratio) < 0.005:
        return (f"same as {against}", "flat", "")
    direction = "up" if ratio > 0 else "down"
    welcome = (direction == "up") == (more_is == "good")
    return (f"{ratio:+.0%} against {against}", direction, "good" if welcome else "bad")
