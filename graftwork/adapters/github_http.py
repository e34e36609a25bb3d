"""GitHub's REST API over httpx, behind core's GitHubPort.

Rate limits are honoured: a 403/429 with Retry-After waits that long; X-RateLimit-Remaining
at 0 waits for X-RateLimit-Reset before the next request. A wait longer than
``max_wait`` stops the collect (CollectStop) with the time the limit resets. 401 stops at
once. Timeouts, resets and 5xx are retried with exponential backoff. The token travels only
in the Authorization header; no message holds it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx

from graftwork.core.sources.readmes.model import (
    ApiResponse,
    CollectStop,
    NotFoundError,
    RepoError,
)

USER_AGENT = "graftwork-collect"
MAX_LIMIT_WAITS = 5  # rate-limit answers to one request before the collect stops


class GitHubHttp:
    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        token_env: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        max_connections: int = 8,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.token_env = token_env
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_connections = max_connections
        self._client: httpx.AsyncClient | None = None
        # Requests in flight are bounded here, not by making them queue in httpx's pool: a
        # waiting request then costs nothing (httpcore rescans its whole queue on every
        # connection change), and a request waiting for a slot is not yet timing out.
        self._slots: asyncio.Semaphore | None = None
        self._reset_at = 0.0  # epoch seconds; > now while the limit is used up

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": "2022-11-28",
            }
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._client = httpx.AsyncClient(
                base_url=self.api_url,
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(
                    max_connections=self.max_connections,
                    max_keepalive_connections=self.max_connections,
                ),
                headers=headers,
                follow_redirects=True,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- rate limits ---------------------------------------------------------------------
    def _stop_for_limit(self, wait: float) -> CollectStop:
        when = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M:%S UTC")
        hint = (
            f"; set {self.token_env} to a GitHub token for a higher limit"
            if self.token_env and not self._token
            else ""
        )
        return CollectStop(
            f"GitHub rate limit reached; it resets at {when} (in {wait:.0f} s){hint}"
        )

    async def _wait(self, seconds: float) -> None:
        if seconds > self.max_wait:
            raise self._stop_for_limit(seconds)
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _note_limits(self, resp: httpx.Response) -> None:
        remaining = resp.headers.get("x-ratelimit-remaining", "")
        reset = resp.headers.get("x-ratelimit-reset", "")
        if remaining == "0" and reset.isdigit():
            self._reset_at = max(self._reset_at, float(reset))

    def _limit_wait(self, resp: httpx.Response) -> float | None:
        """Seconds to wait before retrying a 403/429, None when it is not a rate limit."""
        after = resp.headers.get("retry-after", "")
        if after.strip().isdigit():
            return float(after)
        if resp.headers.get("x-ratelimit-remaining") == "0":
            reset = resp.headers.get("x-ratelimit-reset", "")
            return max(0.0, float(reset) - time.time()) if reset.isdigit() else 60.0
        return None

    # ---- the port --------------------------------------------------------------------------
    async def get(self, path: str, *, accept: str, etag: str | None = None) -> ApiResponse:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        attempt = 0
        limited = 0
        while True:
            if self._reset_at > time.time():
                await self._wait(self._reset_at - time.time() + 0.05)
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.max_connections)
            try:
                async with self._slots:
                    resp = await self._http().get(path, headers=headers)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                attempt += 1
                if attempt > self.retries:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
                    raise RepoError(
                        f"GitHub API {kind} after {attempt} attempt{'s' if attempt > 1 else ''}"
                    ) from None
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            self._note_limits(resp)
            status = resp.status_code
            if status == 304:
                return ApiResponse(304, b"", etag)
            if 200 <= status < 300:
                return ApiResponse(status, resp.content, resp.headers.get("etag"))
            if status == 401:
                who = f"the token in ${self.token_env}" if self._token else "the request"
                raise CollectStop(
                    f"GitHub rejected {who} (401 Unauthorized): check or unset it; nothing else "
                    "is sent"
                )
            if status in (403, 429):
                wait = self._limit_wait(resp)
                if wait is None:
                    raise RepoError(f"GitHub refused access to {path} (HTTP {status})")
                limited += 1
                if limited > MAX_LIMIT_WAITS:
                    raise self._stop_for_limit(wait)
                await self._wait(wait)
                continue
            if status in (404, 409, 410, 451):
                raise NotFoundError(f"GitHub has no {path} (HTTP {status})")
            if status >= 500:
                attempt += 1
                if attempt > self.retries:
                    raise RepoError(f"GitHub API answered HTTP {status} after {attempt} attempts")
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            raise RepoError(f"GitHub API answered HTTP {status} for {path}")
