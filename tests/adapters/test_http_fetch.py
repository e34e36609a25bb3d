"""The httpx fetcher against a real threaded server on 127.0.0.1 (httpx is not mocked)."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.http_server import HOLD, LocalServer, Reply, drip, reset_connection

from graftwork.adapters.http_fetch import HttpFetcher
from graftwork.core.ingest.ingest import FetchError

BODY = b"PK\x03\x04" + b"payload" * 100


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def fetcher(**kw: float) -> HttpFetcher:
    opts = {"timeout": 2.0, "retries": 2, "backoff": 0.0} | kw
    return HttpFetcher(**opts)  # type: ignore[arg-type]


async def download(f: HttpFetcher, url: str, dest: Path, max_bytes: int = 1_000_000):
    try:
        return await f.download(url, dest, max_bytes=max_bytes)
    finally:
        await f.aclose()


async def test_download_streams_and_hashes(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/w.zip", BODY)
    got = await download(fetcher(), url, tmp_path / "w.zip")
    assert (tmp_path / "w.zip").read_bytes() == BODY
    assert (
        got.sha256 == hashlib.sha256(BODY).hexdigest()
        and got.size == len(BODY)
        and got.attempts == 1
    )


async def test_404_fails_at_once_without_retry(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/gone.zip", Reply(status=404, body=b"no"))
    with pytest.raises(FetchError) as err:
        await download(fetcher(), url, tmp_path / "x")
    assert err.value.cause == "HTTP 404 Not Found"
    assert server.count("/gone.zip") == 1


async def test_unresolvable_host_fails_at_once_and_is_not_looked_up_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real lookup that fails (RFC 2606's .example has no such host) is final and is
    remembered; .invalid names (RFC 6761) are not even looked up."""
    # A spy, not a mock: every lookup still goes to the real resolver; we count them (a
    # count, not the wall time, which a slow resolver or a loaded machine stretches).
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def counting_getaddrinfo(host, *args, **kwargs):
        looked_up.append(host.decode() if isinstance(host, bytes) else str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting_getaddrinfo)
    f = fetcher(retries=3, backoff=0.5)
    host = "no-such-host.graftwork-test.example"
    try:
        for n in range(3):
            with pytest.raises(FetchError) as err:
                await f.read(f"http://{host}/{n}.png", max_bytes=1000)
            assert err.value.cause == f"cannot resolve host {host}"
            assert err.value.attempts == 1
        assert f._unresolved == {host}
        with pytest.raises(FetchError, match=r"^cannot resolve host shots\.invalid$"):
            await f.read("https://shots.invalid/x.png", max_bytes=1000)
        assert f._unresolved == {host}  # answered without a lookup
    finally:
        await f.aclose()
    # one lookup in all: not retried (with backoff), not repeated, .invalid never asked
    assert looked_up == [host]


async def test_refused_connection_is_not_retried(tmp_path: Path) -> None:
    with LocalServer() as gone:
        url = gone.url("/w.zip")
    with pytest.raises(FetchError) as err:
        await download(fetcher(retries=2, backoff=0.5), url, tmp_path / "x")
    assert err.value.attempts == 1 and err.value.cause.startswith("cannot connect to 127.0.0.1")


async def test_500_then_success_is_retried(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/flaky.zip", Reply(status=500), Reply(status=503), Reply(body=BODY))
    got = await download(fetcher(retries=3), url, tmp_path / "f.zip")
    assert got.attempts == 3
    assert server.count("/flaky.zip") == 3
    assert (tmp_path / "f.zip").read_bytes() == BODY  # nothing of the failed answers left behind


async def test_500_forever_gives_up_naming_status(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/down.zip", Reply(status=500))
    with pytest.raises(FetchError) as err:
        await download(fetcher(retries=2), url, tmp_path / "x")
    assert err.value.cause == "HTTP 500 Internal Server Error after 3 attempts"
    assert err.value.attempts == 3 and server.count("/down.zip") == 3


async def test_timeout_is_retried_then_reported(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/slow.zip", Reply(body=BODY, delay=HOLD))  # never in time
    with pytest.raises(FetchError) as err:
        await download(fetcher(timeout=0.2, retries=1), url, tmp_path / "x")
    assert err.value.cause == "timed out after 2 attempts"
    assert server.count("/slow.zip") == 2


async def test_stalled_body_times_out(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/stall.zip", Reply(action=drip(BODY, pause=0.5)))
    with pytest.raises(FetchError, match=r"^timed out after 1 attempt$"):
        await download(fetcher(timeout=0.2, retries=0), url, tmp_path / "x")


async def test_dripping_server_hits_the_attempt_deadline(
    server: LocalServer, tmp_path: Path
) -> None:
    # Each byte arrives well within the per-read timeout (30 s: it never fires here), but the
    # whole body would take 10 s; only the attempt's 0.5 s deadline can end it in an error.
    url = server.route("/drip.zip", Reply(action=drip(BODY[:100], pause=0.1)))
    with pytest.raises(FetchError, match=r"^timed out after 1 attempt$"):
        await download(fetcher(timeout=30.0, retries=0, deadline=0.5), url, tmp_path / "x")
    assert (tmp_path / "x").stat().st_size < 100  # cut off mid-body


async def test_backoff_doubles_between_attempts(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/busy.zip", Reply(status=502))
    start = time.monotonic()
    with pytest.raises(FetchError, match="HTTP 502 Bad Gateway after 3 attempts"):
        await download(fetcher(retries=2, backoff=0.15), url, tmp_path / "x")
    assert time.monotonic() - start >= 0.15 + 0.3


async def test_reset_connection_is_retried_then_reported(
    server: LocalServer, tmp_path: Path
) -> None:
    url = server.route("/reset.zip", Reply(action=reset_connection))
    with pytest.raises(FetchError) as err:
        await download(fetcher(retries=1), url, tmp_path / "x")
    assert err.value.cause == "connection reset after 2 attempts"
    assert server.count("/reset.zip") == 2


async def test_reset_then_success(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/r.zip", Reply(action=reset_connection), Reply(body=BODY))
    got = await download(fetcher(retries=1), url, tmp_path / "r.zip")
    assert got.attempts == 2 and (tmp_path / "r.zip").read_bytes() == BODY


async def test_oversized_archive_refused_by_header_and_by_count(
    server: LocalServer, tmp_path: Path
) -> None:
    url = server.route("/big.zip", BODY)
    with pytest.raises(FetchError, match=r"^archive larger than 100 bytes$"):
        await download(fetcher(), url, tmp_path / "x", max_bytes=100)
    # A server that lies about (or omits) its length is caught while streaming.
    lying = server.route("/lying.zip", Reply(action=_no_length(BODY)))
    with pytest.raises(FetchError, match=r"^archive larger than 100 bytes$"):
        await download(fetcher(), lying, tmp_path / "y", max_bytes=100)
    assert server.count("/big.zip") == 1  # not retried


def _no_length(body: bytes):
    def act(handler) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    return act


async def test_connection_refused_names_the_cause(tmp_path: Path) -> None:
    server = LocalServer()
    url = server.url("/x.zip")
    server.stop()  # the port is now closed
    with pytest.raises(FetchError, match="cannot connect"):
        await download(fetcher(retries=1), url, tmp_path / "x")


async def test_file_url_and_plain_path(tmp_path: Path) -> None:
    src = tmp_path / "dir with space" / "w.zip"
    src.parent.mkdir()
    src.write_bytes(BODY)
    by_url = await download(fetcher(), src.as_uri(), tmp_path / "a")
    by_path = await download(fetcher(), str(src), tmp_path / "b")
    assert by_url == by_path and by_url.sha256 == hashlib.sha256(BODY).hexdigest()
    assert (tmp_path / "b").read_bytes() == BODY


async def test_local_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="file not found"):
        await download(fetcher(), str(tmp_path / "missing.zip"), tmp_path / "x")
    with pytest.raises(FetchError, match="is a folder"):
        await download(fetcher(), tmp_path.as_uri(), tmp_path / "x")
    big = tmp_path / "big.zip"
    big.write_bytes(BODY)
    with pytest.raises(FetchError, match="archive larger than 10 bytes"):
        await download(fetcher(), str(big), tmp_path / "x", max_bytes=10)
    with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        await download(fetcher(), "ftp://example.invalid/x.zip", tmp_path / "x")


async def test_read_small_resource(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/m.json", b'{"widgets": []}')
    f = fetcher()
    try:
        assert await f.read(url, max_bytes=1000) == b'{"widgets": []}'
        with pytest.raises(FetchError, match="response larger than 5 bytes"):
            await f.read(url, max_bytes=5)
    finally:
        await f.aclose()
