"""Stand-ins for the TUI tests. The fake token counter replaces graftwork.wiring.token_counter
in the app's live gauge (the real tiktoken counter is tested by its own area): it counts
whitespace-separated words per part, so the numbers in pictures and asserts are stable.
Stages the app starts (budget, build) still use the real counter through wiring."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from graftwork.core.dataset.examples import Example
from graftwork.core.services import Services


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
