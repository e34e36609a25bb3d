"""The OpenAI adapter against a real HTTP server on 127.0.0.1: retries it owns (429 with
Retry-After, 5xx, timeouts, malformed JSON, empty choices), 401 without retry, no key leaks."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from support.fake_openai_server import HOLD, FakeOpenAIServer

from graftwork.adapters.teacher_openai import OpenAITeacher, retry_after_seconds, tiktoken_counter
from graftwork.core.base.errors import ConfigError
from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.port import (
    ChatRequest,
    TeacherAuthError,
    TeacherCallError,
    TeacherStopError,
)

KEY = "sk-adapter-SECRET-0042abcdef"
REQUEST = ChatRequest(
    "fake-teacher",
    [
        {"role": "system", "content": "[stage:draft] x"},
        {"role": "user", "content": "Widget: clock\nhi"},
    ],
    0.0,
    50,
)


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_ADAPTER_KEY", KEY)


def teacher(server: FakeOpenAIServer, **kw) -> OpenAITeacher:
    cfg = TeacherConfig(
        base_url=server.base_url,
        model="fake-teacher",
        api_key_env="GW_ADAPTER_KEY",
        backoff_seconds=0.05,
        **kw,
    )
    return OpenAITeacher(cfg)


def complete(t: OpenAITeacher):
    async def go():
        try:
            return await t.complete(REQUEST)
        finally:
            await t.close()

    return asyncio.run(go())


def test_plain_call_returns_text_usage_and_latency(server) -> None:
    server.latency = 0.05
    done = complete(teacher(server))
    assert done.text.startswith("Create an Übersicht widget called clock")
    assert done.input_tokens > 0 and done.output_tokens > 0 and done.latency_ms >= 50
    assert (
        done.attempts == 1
        and done.retries == []
        and done.raw["choices"][0]["message"]["content"] == done.text
    )
    body = server.requests[0]["body"]
    assert body == REQUEST.payload()


def test_429_waits_for_retry_after_then_succeeds(server) -> None:
    server.script({"status": 429, "retry_after": 0.8})
    done = complete(teacher(server))
    first, second = server.requests
    assert second["t"] - first["t"] >= 0.75  # Retry-After honoured, not the 0.05 s backoff
    assert done.attempts == 2 and done.retries == ["HTTP 429 rate limited"]


def test_500_then_success(server) -> None:
    server.script({"status": 500}, {"status": 503})
    done = complete(teacher(server))
    assert done.attempts == 3 and [r["served"] for r in server.requests] == ["500", "503", "ok"]


def test_timeout_is_retried(server) -> None:
    server.script({"delay": HOLD})  # the first reply is held until the server stops
    done = complete(teacher(server, timeout=0.3))
    assert done.attempts == 2 and done.retries[0].startswith("timed out after 0.3s")
    first, second = server.requests
    # gave up on the slow reply instead of waiting for it: it has not even been sent yet
    assert first["served"] is None and second["served"] == "ok"


@pytest.mark.parametrize(
    "action, cause",
    [({"malformed": True}, "malformed JSON"), ({"empty_choices": True}, "no choices")],
)
def test_unusable_replies_are_retried_a_bounded_number_of_times(server, action, cause) -> None:
    server.script(action)
    assert complete(teacher(server)).attempts == 2
    server.script(*[action] * 3)
    with pytest.raises(TeacherCallError) as info:
        complete(teacher(server, retries=2))
    assert cause in str(info.value) and info.value.attempts == 3
    assert len(server.requests) == 2 + 3


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_stops_without_retry_and_hides_the_key(server, status) -> None:
    server.script({"status": status})
    with pytest.raises(TeacherAuthError) as info:
        complete(teacher(server))
    assert len(server.requests) == 1
    message = str(info.value)
    assert KEY not in message and "GW_ADAPTER_KEY" in message and str(status) in message


def test_client_errors_are_not_retried(server) -> None:
    server.script({"status": 400})
    with pytest.raises(TeacherCallError, match="HTTP 400: server error 400"):
        complete(teacher(server))
    assert len(server.requests) == 1


def test_unknown_model_or_url_stops_the_run(server) -> None:
    server.script({"status": 404})
    with pytest.raises(TeacherStopError, match="HTTP 404 for model 'fake-teacher'"):
        complete(teacher(server))
    assert len(server.requests) == 1


def test_a_server_that_echoes_the_key_in_its_reply_is_redacted(server) -> None:
    server.script({"text": f"your key is {KEY}"})
    done = complete(teacher(server))
    assert KEY not in done.text and KEY not in str(done.raw)


def test_unreachable_server_is_retried_then_fails_clearly() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = TeacherConfig(
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key_env="GW_ADAPTER_KEY",
        backoff_seconds=0.01,
        retries=1,
    )
    with pytest.raises(TeacherCallError, match="connection failed"):
        complete(OpenAITeacher(cfg))


def test_missing_key_variable_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_ADAPTER_KEY")
    with pytest.raises(ConfigError, match="set the environment variable GW_ADAPTER_KEY"):
        OpenAITeacher(TeacherConfig(api_key_env="GW_ADAPTER_KEY"))
    OpenAITeacher(TeacherConfig(api_key_env=None))  # local servers: no key needed


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds({"retry-after": date}) <= 31
    assert retry_after_seconds({"retry-after": "soon"}) is None  # garbled: back off, do not crash


def test_models_endpoint_works_for_the_openai_client(server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    assert [m.id for m in client.models.list()] == ["fake-teacher"]


def test_tiktoken_counter_is_offline_cl100k() -> None:
    count = tiktoken_counter()
    assert count("hello world") == 2
    assert count("<|endoftext|>") > 1  # special tokens in widget code are plain text
