"""Stand-ins for parts other areas are still writing. The fake token counter replaces
graftwork.wiring.token_counter only while that function does not exist yet: it counts
whitespace-separated words per part, which is deterministic and fast."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from graftwork.core.examples import Example
from graftwork.core.services import Services, is_available


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
    """Use the real token counter when it has landed, else the fake one."""
    if is_available(services.token_counter):
        return services
    counter = FakeCounter()
    return dataclasses.replace(services, token_counter=lambda: counter)
