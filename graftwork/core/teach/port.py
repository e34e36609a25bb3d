"""The teacher port: what core needs from an OpenAI-compatible chat endpoint.

Adapters (graftwork/adapters/teacher_openai.py) implement ``Teacher`` and translate their
library's failures into the two errors below, so core decides what to do without knowing
about HTTP status codes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from graftwork.core.base.errors import GraftworkError

HASH_PREFIX = "sha256:"  # algorithm tag, so a future change of hash is detectable


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int

    def payload(self) -> dict[str, Any]:
        """The request body as sent (never holds a key: keys travel in a header)."""
        return {
            "model": self.model,
            "messages": self.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def hash(self, base_url: str) -> str:
        blob = json.dumps(
            {"base_url": base_url, **self.payload()}, sort_keys=True, ensure_ascii=False
        )
        return HASH_PREFIX + hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    attempts: int = 1
    retries: list[str] = field(default_factory=list)  # causes of the attempts that failed
    raw: dict[str, Any] | None = None  # the response body as parsed


class TeacherCallError(GraftworkError):
    """A call failed for good (retries used up, or an unusable reply). Only this item fails."""

    def __init__(
        self, message: str, *, attempts: int = 1, retries: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.retries = retries or []


class TeacherEmptyReply(TeacherCallError):
    """Every attempt got a reply without content: the teacher's answer is empty (a gate
    rejects it as such; it is not a transport failure)."""


class TeacherStopError(GraftworkError):
    """A problem no widget can get past (wrong key, unknown model or URL): stops the run."""

    exit_code = 2


class TeacherAuthError(TeacherStopError):
    """401/403: the key is missing, wrong or not allowed. Stops the whole run, never retried."""


class Teacher(Protocol):
    """Required: ``complete``. ``close`` releases connections (optional, may be a no-op)."""

    base_url: str  # public form, without credentials

    async def complete(self, request: ChatRequest) -> Completion: ...

    async def close(self) -> None: ...
