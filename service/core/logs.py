"""Logging for the long-running commands (scheduler, worker, jobs), so their lines are kept."""

from __future__ import annotations

import logging


def configure_logging(level: int = logging.INFO) -> None:
    """Lines to stderr with time, level and logger name (once per process)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
