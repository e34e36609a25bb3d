"""Stand-ins for the TUI tests. The fake token counter replaces graftwork.wiring.token_counter
in the app's live gauge (the real tiktoken counter is tested by its own area): it counts
whitespace-separated words per part, so the numbers in pictures and asserts are stable.
Stages the app starts (budget, build) still use the real counter through wiring."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from graftwork.core.dataset.examples import Example
from graftwork.core.services import Services
from graftwork.core.stages import get_stage


@dataclass(frozen=True)
class FakeCount:
    total: int
    parts: dict[str, int]


class FakeCounter:
    STRUCTURE = 30

    def __init__(self) -> None:
        self.calls = 0

    def count(self, example: Example) -> FakeCount:
        self.calls += 1
        parts = {k: len(v.split()) for k, v in example.parts().items()}
        parts["structure"] = self.STRUCTURE
        return FakeCount(sum(parts.values()), parts)


def with_fakes(services: Services) -> Services:
    counter = FakeCounter()
    return dataclasses.replace(services, token_counter=lambda: counter)


def replace_stage(monkeypatch: pytest.MonkeyPatch, name: str, fn: Callable[..., Any]) -> None:
    """Run ``fn(*, job, **params)`` in place of the declared stage ``name``'s function for one
    test (the app still starts it through the registry, so kind and params are the real ones).
    A stand-in, where the real stage would need the network, mlx or a long wait."""
    module, _, attr = get_stage(name).fn.partition(":")
    monkeypatch.setattr(importlib.import_module(module), attr, lambda ws, **params: fn(**params))
