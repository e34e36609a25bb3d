"""The mlx-lm training backend (core/train/port.Trainer): spawn the child, follow its events.

The rules (new run or resume, the run registry, the data export) are core's
(graftwork/core/train/train.py); this module only runs a prepared run.

The child is a separate Python process (not a thread: MLX in a thread can abort the process
at exit, P4), started in its own session so a terminal Ctrl-C reaches only us; we then ask it
to stop through a cancel file and it writes a checkpoint first.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_json
from graftwork.core.train.events import decode
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


def run_child(
    spec: dict[str, Any],
    run_dir: Path,
    on_event: Callable[[dict[str, Any]], None],
    should_cancel: Callable[[], bool],
) -> Outcome:
    """Spawn the child and feed its events to ``on_event`` until it ends.

    Ctrl-C (KeyboardInterrupt) or ``should_cancel()`` asks the child to checkpoint and stop;
    a second Ctrl-C kills it."""
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
    # Raw reads + our own line splitting: a buffered reader could hold complete lines that
    # select() no longer reports, delaying live progress.
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    pending = b""
    interrupts = 0
    try:
        while True:
            try:
                if sel.select(timeout=0.2):
                    chunk = os.read(read_fd, 65536)
                    if not chunk:  # child closed the pipe: it is exiting
                        break
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        event = decode(line.decode("utf-8", errors="replace"))
                        if event is not None:
                            outcome.events.append(event)
                            if event["type"] == "finished":
                                outcome.final = event
                            on_event(event)
                if should_cancel() and not cancel_file.exists():
                    cancel_file.touch()
            except KeyboardInterrupt:
                interrupts += 1
                cancel_file.touch()
                if interrupts > 1:
                    proc.kill()
    except BaseException:
        cancel_file.touch()  # we cannot follow it any more: let it checkpoint and stop
        raise
    finally:
        sel.close()
        os.close(read_fd)
        rc = _wait(proc)
    if outcome.final:
        outcome.state = outcome.final.get("state", "failed")
        outcome.error = outcome.final.get("error")
    else:
        outcome.state = "cancelled" if interrupts > 1 else "failed"
        outcome.error = f"the training process ended without a result (exit code {rc}); see {run_dir / 'child.log'}"
    return outcome


def _wait(proc: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return proc.wait(timeout=60)
        except KeyboardInterrupt:
            proc.kill()
        except subprocess.TimeoutExpired:
            proc.kill()


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
