"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

Implements POST /v1/chat/completions and GET /v1/models well enough for the official openai
client. Each chat request takes the next scripted action if one is queued, else answers
normally (after ``latency`` seconds). Every request is logged with its parsed body and what
was served, so tests can assert on retries, duplicates and waits. ``hold_after(n)`` holds
every request after the first ``n`` until ``release()``: a test that kills or cancels a run
"in the middle" waits for the n-th reply to be stored and knows nothing else got through,
however loaded the machine. Waits (delays, holds) end when the server stops.

Actions (dicts) for ``script(...)``:
  {"status": 429, "retry_after": 1.5}   rate limited, with a Retry-After header (seconds)
  {"status": 500}                       server error (any status; 401/403 for auth failures)
  {"delay": HOLD}                       answer only at stop() (past any client timeout)
  {"malformed": True}                   200 with a body that is not JSON
  {"empty_choices": True}               200 with "choices": []
  {"text": "..."}                       200 with this reply
  {"text": "...", "finish_reason": "length"}  200, cut off at the token limit
  {"refusal": "..."}                    200 with no content and this refusal

Run standalone for manual tries: python tests/support/fake_openai_server.py --port 8080
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A delay no client timeout in a test comes near: the reply is held until the server stops.
HOLD = 600.0

# A responder returns the reply text, or an action dict ({"text", "finish_reason", "refusal"}).
Responder = Callable[[dict[str, Any]], str | dict[str, Any]]


def default_responder(body: dict[str, Any]) -> str:
    """A plausible reply per stage, recognised by the stage marker in the system message."""
    messages = body.get("messages") or []
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    user = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
    match = re.search(r"^Widget: (.+)$", user, re.MULTILINE)
    name = match.group(1).strip() if match else "the widget"
    if "[stage:instruct]" in system:  # readmes: one instruction per numbered section
        count = user.count("### Section ")
        return json.dumps(
            [
                {"instruction": f"Write README section {n} for this project."}
                for n in range(1, count + 1)
            ]
        )
    if "[stage:judge]" in system:  # eval --judge: the answer sharing the reference's words wins
        return judge_by_reference(user)
    if "[stage:category]" in system:  # the first listed category named in the widget's name
        listed = re.search(r"^Categories: (.+)$", user, re.MULTILINE)
        names = listed.group(1).split(", ") if listed else ["other"]
        lowered = name.casefold()
        return next((c for c in names if c.split()[0] in lowered), names[-1])
    if "[stage:critique]" in system:
        return json.dumps({"verdict": "pass", "issues": []})
    if "[stage:refine]" in system:
        return f"Build an Übersicht widget called {name} that shows its information clearly in a small translucent panel, refreshing regularly."
    return f"Create an Übersicht widget called {name} that shows its information in a small panel on the desktop and refreshes regularly."


def judge_by_reference(user: str) -> str:
    """A content-minded judge: the answer with more words of the reference answer wins."""
    sections = dict(
        re.findall(r"## (Reference answer|Answer A|Answer B)\n(.*?)(?=\n\n## |\Z)", user, re.S)
    )
    ref = set(sections.get("Reference answer", "").lower().split())
    a, b = (len(ref & set(sections.get(k, "").lower().split())) for k in ("Answer A", "Answer B"))
    winner = "A" if a > b else "B" if b > a else "tie"
    return json.dumps({"winner": winner, "reason": f"{a} vs {b} words of the reference"})


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms ACK waits

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): that is what some tests want

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": self.server.owner.model,
                            "object": "model",
                            "created": 0,
                            "owned_by": "fake",
                        }
                    ],
                },
            )
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, {"error": {"message": "request is not JSON"}})
            return
        action = owner.next_action()
        entry = {"t": time.monotonic(), "body": body, "action": action, "served": None}
        held = owner.log(entry)
        if held:
            owner.wait_released()
        delay = owner.latency + float(action.get("delay", 0))
        if delay:
            owner.stopping.wait(delay)
        status = int(action.get("status", 200))
        if status == 429:
            headers = {"Retry-After": str(action["retry_after"])} if "retry_after" in action else {}
            entry["served"] = "429"
            self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
        elif status in (401, 403):
            entry["served"] = str(status)
            # Like some real providers, echo part of the key: the client must never repeat it.
            auth = self.headers.get("Authorization", "")
            self._json(
                status,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {auth[7:]}",
                        "type": "invalid_request_error",
                    }
                },
            )
        elif status != 200:
            entry["served"] = str(status)
            self._json(status, {"error": {"message": f"server error {status}"}})
        elif action.get("malformed"):
            entry["served"] = "malformed"
            self._send(200, b'{"id": "chatcmpl-x", "choices": [ {"message": ')
        elif action.get("empty_choices"):
            entry["served"] = "empty"
            self._json(200, _completion(body, None, owner.model))
        else:
            text = action.get("text")
            if text is None:
                text = owner.responder(body)
                if isinstance(text, dict):  # a responder may answer with an action
                    action = {**action, **text}
                    text = action.get("text", "")
            entry["served"] = "ok"
            entry["text"] = text
            reply = _completion(body, text, owner.model)
            if "finish_reason" in action:
                reply["choices"][0]["finish_reason"] = action["finish_reason"]
            if "refusal" in action:
                reply["choices"][0]["message"].update(content=None, refusal=action["refusal"])
            self._json(200, reply)


def _completion(body: dict[str, Any], text: str | None, model: str) -> dict[str, Any]:
    prompt_tokens = max(1, len(json.dumps(body.get("messages", []))) // 4)
    choices = (
        []
        if text is None
        else [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": text},
            }
        ]
    )
    return {
        "id": f"chatcmpl-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": max(1, len(text or "") // 4),
            "total_tokens": prompt_tokens + max(1, len(text or "") // 4),
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients that gave up are expected
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer() as server:``; ``server.base_url`` ends in /v1."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        responder: Responder | None = None,
        model: str = "fake-teacher",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.responder: Responder = responder or default_responder
        self.model = model
        self._port = port
        self._lock = threading.Lock()
        self._actions: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self._hold_from: int | None = None
        self._released = threading.Event()

    # -- scripting ----------------------------------------------------------------------
    def script(self, *actions: dict[str, Any]) -> None:
        with self._lock:
            self._actions.extend(actions)

    def next_action(self) -> dict[str, Any]:
        with self._lock:
            return self._actions.popleft() if self._actions else {}

    def hold_after(self, n: int) -> None:
        """Hold every chat request after the next ``n`` until `release()` (or stop)."""
        with self._lock:
            self._hold_from = len(self.requests) + n
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hold_from = None
            self._released.set()

    def held(self) -> int:
        """How many requests are being held now."""
        with self._lock:
            if self._hold_from is None:
                return 0
            return sum(1 for r in self.requests[self._hold_from :] if r["served"] is None)

    def wait_released(self) -> None:
        while not (self._released.wait(0.05) or self.stopping.is_set()):
            pass

    def log(self, entry: dict[str, Any]) -> bool:
        """Log a request; whether it is to be held."""
        with self._lock:
            self.requests.append(entry)
            return self._hold_from is not None and len(self.requests) > self._hold_from

    def served(self, kind: str = "ok") -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["served"] == kind]

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        self.stopping.clear()
        self._httpd = _Server(("127.0.0.1", self._port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # held and delayed replies go out now (to clients long gone)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def server_process(latency: float = 0.0) -> Iterator[str]:
    """This server (default replies) in its own process, like a real teacher: benchmarks use
    it so the server does not compete with the client for one interpreter's GIL. Yields the
    base URL."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, __file__, "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if " at " not in line:
            raise SystemExit(f"fake server did not start: {line!r}")
        yield line.split(" at ")[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeOpenAIServer(latency=args.latency, port=args.port).start()
    print(f"fake teacher at {server.base_url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
