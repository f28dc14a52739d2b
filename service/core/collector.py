"""Pausing Python's cyclic garbage collector around bulk work.

A large SBOM becomes millions of acyclic objects (the decoded document, components,
rows), and every few thousand allocations the collector would walk all of them again:
a third of a parse, and half a second of a 100,000-component upload. Reference counting
still frees everything; only reference cycles wait until the collector runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector in the block or decorated function (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
