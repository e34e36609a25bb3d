"""The mlx-lm training backend (core/train/port.Trainer): spawn the child, follow its events.

The rules (new run or resume, the run registry, the data export) are core's
(graftwork/core/train/train.py); this module only runs a prepared run.

The child is a separate Python process (not a thread: MLX in a thread can abort the process
at exit, P4), started in its own session so a terminal Ctrl-C reaches only us; we then ask it
to stop through a cancel file and it writes a checkpoint first, or, when it does not stop
within TERM_AFTER seconds, stop it with signals (see TERM_AFTER).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graftwork.adapters.mlx.child import MLX_LM_SCRATCH
from graftwork.core.base.atomic import sweep_staged, sweep_temp_files, write_json
from graftwork.core.train.events import decode, make_event
from graftwork.core.train.port import Outcome

OPENBLAS = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a child that runs MLX: offline hub, OpenBLAS on Linux (P1)."""
    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if (
        sys.platform.startswith("linux")
        and OPENBLAS.exists()
        and str(OPENBLAS) not in env.get("LD_PRELOAD", "")
    ):
        env["LD_PRELOAD"] = " ".join(p for p in (str(OPENBLAS), env.get("LD_PRELOAD", "")) if p)
    env.update(extra or {})
    return env


# A cancel takes effect within 2 s: the child gets TERM_AFTER seconds to stop at a safe point
# with a checkpoint, then SIGTERM (it stops where it is; the run resumes from its last
# checkpoint), then at KILL_AFTER SIGKILL (a step or load deep in native code ignores SIGTERM
# until it returns). Its checkpoint folders are replaced whole, so nothing is half-written.
TERM_AFTER = 1.0
KILL_AFTER = 1.5
# Seconds a cancel waits for a safe point (a checkpoint) before the child stops where it is
# (default: child.HARD_AFTER); the signals follow 0.2 s and 0.7 s later. More than 0.8 favours
# the checkpoint over the 2 s (a slow machine; tests that need the checkpoint every time).
GRACE_ENV = "GRAFTWORK_CANCEL_GRACE"


def _signal_times() -> tuple[float, float]:
    grace = os.environ.get(GRACE_ENV)
    return (float(grace) + 0.2, float(grace) + 0.7) if grace else (TERM_AFTER, KILL_AFTER)


TICK = 0.05  # how often we look for a cancel request (and the clock, once one came)


class Stopper:
    """The escalation of one child's cancel: the cancel file, SIGTERM, SIGKILL of its group."""

    def __init__(self, proc: subprocess.Popen[bytes], cancel_file: Path) -> None:
        self.proc = proc
        self.cancel_file = cancel_file
        self.asked_at: float | None = None
        self.signalled: list[str] = []  # "SIGTERM", "SIGKILL": what it took
        self.term_after, self.kill_after = _signal_times()

    def request(self) -> None:
        if self.asked_at is None:
            self.asked_at = time.monotonic()
            self.cancel_file.touch()

    def tick(self) -> None:
        if self.asked_at is None:
            return
        waited = time.monotonic() - self.asked_at
        if waited >= self.kill_after:
            self.kill()
        elif waited >= self.term_after and not self.signalled:
            self._signal(signal.SIGTERM, "SIGTERM")

    def kill(self) -> None:
        if "SIGKILL" not in self.signalled:
            self._signal(signal.SIGKILL, "SIGKILL")

    def _signal(self, sig: signal.Signals, name: str) -> None:
        self.signalled.append(name)
        # The child leads its own session (start_new_session): its group is its pid, and
        # holds anything it started too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def finish(self) -> int:
        """Wait for the child to end, escalating on the way if a cancel is pending."""
        while True:
            try:
                return self.proc.wait(timeout=TICK if self.asked_at is not None else 60)
            except subprocess.TimeoutExpired:
                if self.asked_at is None:
                    self.request()  # it outlived its pipe for a minute: stop it
                self.tick()
            except KeyboardInterrupt:
                self.request()
                self.kill()


def run_child(
    spec: dict[str, Any],
    run_dir: Path,
    on_event: Callable[[dict[str, Any]], None],
    should_cancel: Callable[[], bool],
) -> Outcome:
    """Spawn the child and feed its events to ``on_event`` until it ends.

    A cancel comes from ``should_cancel()``, Ctrl-C (KeyboardInterrupt) or the run's cancel
    file appearing (`graftwork runs --cancel`, another window); see TERM_AFTER. A second
    Ctrl-C kills the child at once."""
    spec_path = run_dir / "spec.json"
    write_json(spec_path, spec)
    cancel_file = Path(spec["cancel_file"])
    cancel_file.unlink(missing_ok=True)
    read_fd, write_fd = os.pipe()
    log = open(run_dir / "child.log", "ab")  # noqa: SIM115 (closed below; the child writes into it)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graftwork.adapters.mlx.child", str(spec_path), str(write_fd)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            env=child_env(),
            start_new_session=True,
        )
    finally:
        os.close(write_fd)
        log.close()
    outcome = Outcome()
    stopper = Stopper(proc, cancel_file)
    # Raw reads + our own line splitting: a buffered reader could hold complete lines that
    # select() no longer reports, delaying live progress.
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    pending = b""
    interrupts = 0
    try:
        while True:
            try:
                if sel.select(timeout=TICK):
                    chunk = os.read(read_fd, 65536)
                    if not chunk:  # child closed the pipe: it is exiting
                        break
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        event = decode(line.decode("utf-8", errors="replace"))
                        if event is None or (event["type"] == "finished" and outcome.final):
                            continue  # (a SIGTERM while the child was exiting: said already)
                        outcome.events.append(event)
                        if event["type"] == "finished":
                            outcome.final = event
                            if stopper.signalled:  # it ended on our signal, not on its own
                                event["stopped_by"] = stopper.signalled[-1]
                        on_event(event)
                if stopper.asked_at is None and (should_cancel() or cancel_file.exists()):
                    stopper.request()
                stopper.tick()
            except KeyboardInterrupt:
                interrupts += 1
                stopper.request()
                if interrupts > 1:
                    stopper.kill()
    except BaseException:
        stopper.request()  # we cannot follow it any more: stop it (escalating in finish)
        raise
    finally:
        sel.close()
        os.close(read_fd)
        rc = stopper.finish()
        _tidy(run_dir, cancel_file)
    if not outcome.final and stopper.asked_at is not None:
        # Killed before it could say so: the run stands at its last complete checkpoint.
        outcome.final = make_event(
            "finished",
            state="cancelled",
            iteration=_checkpoint_iteration(run_dir),
            checkpoint="kept",
            stopped_by=stopper.signalled[-1] if stopper.signalled else "exit",
        )
        outcome.events.append(outcome.final)
        on_event(outcome.final)
    if outcome.final:
        outcome.state = outcome.final.get("state", "failed")
        outcome.error = outcome.final.get("error")
    else:
        outcome.error = f"the training process ended without a result (exit code {rc}); see {run_dir / 'child.log'}"
    return outcome


def _tidy(run_dir: Path, cancel_file: Path) -> None:
    """After the child: put back or delete what a killed checkpoint write left, and the
    cancel request that was answered."""
    adapters = run_dir / "adapters"
    for name in ("last", "best"):
        sweep_staged(adapters / name)
    (adapters / MLX_LM_SCRATCH).unlink(missing_ok=True)
    sweep_temp_files(run_dir, adapters)
    cancel_file.unlink(missing_ok=True)


def _checkpoint_iteration(run_dir: Path) -> int:
    """The iteration the run's last complete checkpoint holds (0: none, it restarts)."""
    try:
        state = json.loads((run_dir / "adapters" / "last" / "state.json").read_text())
        return int(state["iteration"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


class MlxTrainer:
    """Runs each run in a child Python process (graftwork.adapters.mlx.child)."""

    def run(
        self,
        spec: dict[str, Any],
        run_dir: Path,
        on_event: Callable[[dict[str, Any]], None],
        should_cancel: Callable[[], bool],
    ) -> Outcome:
        return run_child(spec, run_dir, on_event, should_cancel)
