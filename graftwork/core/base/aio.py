"""asyncio helpers shared by the stages that run many items at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any


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
