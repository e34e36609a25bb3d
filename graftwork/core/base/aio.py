"""asyncio helpers shared by the stages that run many items at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from graftwork.core.base.jobs import Cancelled


async def all_or_cancel(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Wait for every task; the first one that raises cancels the others (awaited, so none
    is left writing) and its exception goes on to the caller."""
    try:
        for fut in asyncio.as_completed(tasks):
            await fut
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def all_or_cancel_job(
    tasks: Sequence[asyncio.Task[Any]], cancelled: Callable[[], bool], message: str
) -> None:
    """`all_or_cancel`, watching the job: once ``cancelled()`` turns true (polled every 0.1 s)
    every task is cancelled and `Cancelled(message)` is raised."""

    async def watch() -> None:
        while not cancelled():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        await all_or_cancel(tasks)
    except BaseException:
        if cancelled():
            raise Cancelled(message) from None
        raise
    finally:
        watcher.cancel()
