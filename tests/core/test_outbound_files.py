"""Slots and spacing shared through lock files by the processes of one machine (SQLite)."""

from __future__ import annotations

import multiprocessing

from service.core.outbound_files import FileLimits
from tests.core.test_http import NOW, Clock

KEY = "registry.example:443"


def test_two_processes_never_hold_more_slots_than_the_limit_together(tmp_path):
    clock = Clock()
    one, two = FileLimits(tmp_path, clock, clock.sleep), FileLimits(tmp_path, clock, clock.sleep)
    held = [one.acquire(KEY, 2, 0.0), one.acquire(KEY, 2, 0.0)]
    polls: list[float] = []

    def poll(seconds: float) -> None:  # the other process frees a slot while this one waits
        polls.append(seconds)
        one.release(KEY, held.pop())

    two._sleep = poll
    token = two.acquire(KEY, 2, 0.0)
    assert len(polls) == 1 and token.split(":")[0] in {"0", "1"}
    two.release(KEY, token)
    one.release(KEY, held.pop())


def hold_a_slot_and_die(directory) -> None:
    FileLimits(directory, lambda: NOW, lambda _s: None).acquire(KEY, 1, 0.0)


def test_the_slot_of_a_process_that_died_is_free(tmp_path):
    child = multiprocessing.get_context("spawn").Process(
        target=hold_a_slot_and_die, args=(tmp_path,)
    )
    child.start()
    child.join()
    clock = Clock()
    limits = FileLimits(tmp_path, clock, clock.sleep)
    limits.release(KEY, limits.acquire(KEY, 1, 0.0))
    assert clock.sleeps == []  # free at once, nothing waited


def test_the_spacing_a_source_asks_for_holds_across_processes(tmp_path):
    clock = Clock()
    one, two = FileLimits(tmp_path, clock, clock.sleep), FileLimits(tmp_path, clock, clock.sleep)
    one.release(KEY, one.acquire(KEY, 1, 1.0))
    two.release(KEY, two.acquire(KEY, 1, 1.0))
    assert clock.sleeps == [1.0]
    clock.now += 5.0
    one.release(KEY, one.acquire(KEY, 1, 1.0))
    assert clock.sleeps == [1.0]


def test_a_directory_that_cannot_be_written_means_this_process_only(tmp_path, caplog):
    (tmp_path / "file").write_text("")
    clock = Clock()
    limits = FileLimits(tmp_path / "file" / "below", clock, clock.sleep)
    token = limits.acquire(KEY, 1, 0.0)
    limits.release(KEY, token)
    assert token == "" and "taken in this process only" in caplog.text
