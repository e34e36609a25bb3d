"""Waiting helpers: wait on workers and conditions, never on fixed sleeps alone."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from graftwork.tui.screens.main import MainScreen


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        for worker in list(pilot.app.workers):
            # an exclusive worker replaced by a newer one is cancelled: expected
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()


# Generous: a condition met in milliseconds on a quiet machine can take many seconds on a
# loaded 2-core CI box (two xdist workers, subprocesses, three Pythons one after another).
WAIT_SECONDS = 30.0


async def until(pilot: Pilot, cond: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def main_screen(pilot: Pilot) -> MainScreen:
    await until(
        pilot, lambda: isinstance(pilot.app.screen, MainScreen) and pilot.app.screen.loaded.is_set()
    )
    await settle(pilot)
    return pilot.app.screen  # type: ignore[return-value]
