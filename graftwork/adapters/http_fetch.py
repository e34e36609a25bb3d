"""Downloads for ingest: httpx for http(s), direct reads for file:// URLs and local paths.

Bodies are streamed into a file and hashed while streaming, with a size cap. Only what may
pass is retried, with exponential backoff: timeouts, connection resets and 5xx answers. A 4xx
answer, a host name that does not resolve and a refused connection fail at once (asking again
will not make a missing file or host appear), a host that did not resolve is not looked up
again by the same fetcher (fifty screenshots on one dead host cost one lookup), and names
under `.invalid` (RFC 6761) are not looked up at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from graftwork.core.ingest.ingest import Downloaded, FetchError

T = TypeVar("T")
CHUNK = 64 * 1024
USER_AGENT = "graftwork-ingest"


class _Retryable(Exception):
    """A failure worth another attempt; ``kind`` groups causes for the final message."""

    def __init__(self, kind: str, cause: str) -> None:
        super().__init__(cause)
        self.kind = kind
        self.cause = cause


def _too_large(what: str, max_bytes: int) -> FetchError:
    return FetchError(f"{what} larger than {max_bytes} bytes")


def _status_line(response: httpx.Response) -> str:
    """ "HTTP 404 Not Found": the standard phrase, since the server's own is untrusted text."""
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        raw = response.reason_phrase or ""
        phrase = "".join(ch for ch in raw if ch.isprintable())[:60]
    return f"HTTP {response.status_code} {phrase}".rstrip()


def local_path(url: str) -> Path | None:
    """The file a file:// URL or plain path names; None for http(s)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"file:// URL with a host ({parts.netloc}) is not supported")
        return Path(url2pathname(parts.path))
    if len(scheme) > 1:  # "C:" style drive letters parse as a one-letter scheme
        raise FetchError(f"unsupported URL scheme '{scheme}'")
    return Path(url).expanduser()


def _copy_capped(
    src: Path, sink: IO[bytes] | None, max_bytes: int, what: str
) -> tuple[bytes, str, int]:
    """Copy ``src`` to ``sink`` (or into memory), hashing and enforcing the cap."""
    digest = hashlib.sha256()
    kept = bytearray()
    size = 0
    try:
        with open(src, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(what, max_bytes)
                digest.update(chunk)
                if sink is None:
                    kept += chunk
                else:
                    sink.write(chunk)
    except FileNotFoundError:
        raise FetchError(f"file not found: {src}") from None
    except IsADirectoryError:
        raise FetchError(f"{src} is a folder, not a file") from None
    except PermissionError:
        raise FetchError(f"permission denied: {src}") from None
    return bytes(kept), digest.hexdigest(), size


class HttpFetcher:
    """The ingest Fetcher port. Create it anywhere; its httpx client opens inside the loop."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_connections: int = 8,
        deadline: float | None = None,
    ) -> None:
        self.timeout = timeout
        # httpx's timeout bounds each network wait; a server dripping one byte at a time
        # never trips it, so every attempt also has an overall deadline.
        self.deadline = deadline if deadline is not None else timeout * 10
        self.retries = retries
        self.backoff = backoff
        self.max_connections = max_connections
        self._client: httpx.AsyncClient | None = None
        self._unresolved: set[str] = set()  # hosts whose name did not resolve in this run

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(
                    max_connections=self.max_connections,
                    max_keepalive_connections=self.max_connections,
                ),
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- retries ---------------------------------------------------------------------
    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        tries = self.retries + 1
        last: _Retryable | None = None
        for n in range(1, tries + 1):
            try:
                return await attempt(), n
            except FetchError as exc:
                exc.attempts = n
                raise
            except _Retryable as exc:
                last = exc
            if n < tries and self.backoff > 0:
                await asyncio.sleep(self.backoff * 2 ** (n - 1))
        assert last is not None
        if last.kind == "timeout":
            raise FetchError(f"timed out after {tries} attempt{'s' if tries > 1 else ''}", tries)
        suffix = f" after {tries} attempts" if tries > 1 else ""
        raise FetchError(f"{last.cause}{suffix}", tries)

    async def _stream(
        self, url: str, on_chunk: Callable[[bytes], None], max_bytes: int, what: str
    ) -> None:
        """One GET attempt; translates httpx failures into retryable or final errors."""
        try:
            async with asyncio.timeout(self.deadline), self._http().stream("GET", url) as response:
                if response.status_code >= 500:
                    raise _Retryable("status", _status_line(response))
                if response.status_code >= 400:
                    raise FetchError(_status_line(response))
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(what, max_bytes)
                size = 0
                async for chunk in response.aiter_bytes(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise _too_large(what, max_bytes)
                    on_chunk(chunk)
        except (httpx.TimeoutException, TimeoutError):
            raise _Retryable("timeout", "timed out") from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            raise _Retryable("reset", "connection reset") from None
        except httpx.ConnectError as exc:
            raise self._connect_error(url, exc) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None

    def _connect_error(self, url: str, exc: httpx.ConnectError) -> Exception:
        """A reset while connecting may pass (retried); a name that does not resolve or a
        refused connection will not (final, and the host is remembered as unresolvable)."""
        causes = []
        cause: BaseException | None = exc
        while cause is not None and len(causes) < 10:
            causes.append(cause)
            cause = cause.__cause__ or cause.__context__
        if any(isinstance(c, ConnectionResetError) for c in causes):
            return _Retryable("reset", "connection reset")
        host = urlsplit(url).hostname or ""
        if any(isinstance(c, socket.gaierror) for c in causes):
            self._unresolved.add(host)
            return FetchError(f"cannot resolve host {host}")
        return FetchError(f"cannot connect to {host} ({exc or 'connection refused'})")

    def _check_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        # RFC 6761 §6.4: names under .invalid never resolve, and libraries should answer so
        # without asking a DNS server (which can take seconds when it drops queries)
        if host in self._unresolved or host == "invalid" or host.endswith(".invalid"):
            raise FetchError(f"cannot resolve host {host}")

    # ---- the port ------------------------------------------------------------------------
    async def download(self, url: str, dest: Path, *, max_bytes: int) -> Downloaded:
        path = local_path(url)
        if path is not None:

            def copy() -> tuple[str, int]:
                with open(dest, "wb") as sink:
                    _, sha, size = _copy_capped(path, sink, max_bytes, "archive")
                return sha, size

            sha, size = await asyncio.to_thread(copy)
            return Downloaded(sha256=sha, size=size, attempts=1)
        self._check_host(url)

        async def attempt() -> tuple[str, int]:
            digest = hashlib.sha256()
            size = 0
            with open(dest, "wb") as sink:  # truncated on every attempt

                def write(chunk: bytes) -> None:
                    nonlocal size
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)

                await self._stream(url, write, max_bytes, "archive")
            return digest.hexdigest(), size

        (sha, size), attempts = await self._with_retries(attempt)
        return Downloaded(sha256=sha, size=size, attempts=attempts)

    async def read(self, url: str, *, max_bytes: int) -> bytes:
        path = local_path(url)
        if path is not None:
            data, _, _ = await asyncio.to_thread(_copy_capped, path, None, max_bytes, "file")
            return data
        self._check_host(url)

        async def attempt() -> bytes:
            body = bytearray()
            await self._stream(url, body.extend, max_bytes, "response")
            return bytes(body)

        data, _ = await self._with_retries(attempt)
        return data
