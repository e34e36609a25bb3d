"""What to do after a job was interrupted (its process killed): one hint per job kind, shown
by `graftwork runs`, stored in the job's error by the reaper, and shown by the workstation's
Runs pane and run history. Pure strings: no stage or catalog imports."""

from __future__ import annotations

from typing import Any

# kind -> the command that resumes it, and why rerunning is safe
_RERUN: dict[str, tuple[str, str]] = {
    "ingest": ("graftwork ingest --manifest {manifest}", "finished downloads are kept"),
    "teach": ("graftwork teach prompts", "finished teacher calls are reused, not paid again"),
    "instruct": (
        "graftwork teach instructions",
        "finished teacher calls are reused, not paid again",
    ),
    "build": ("graftwork build --set {set_name}", "a set already placed is adopted"),
    "budget": ("graftwork budget", "it recounts from the catalog"),
    "prompts.import": (
        "graftwork prompts import {directory}",
        "files already imported are skipped",
    ),
    "import": ("graftwork import {path}", "records already imported are skipped"),
    "eval": (
        "graftwork eval --run {run_id}",
        "with the same settings it continues after the last finished example",
    ),
    "eval.judge": (
        "graftwork eval --run {run_id} --judge-only --resume",
        "finished verdicts are kept, answered calls are not paid again",
    ),
}


def train_hint(run_id: str) -> str:
    return (
        f"`graftwork train --resume {run_id}` continues from its last checkpoint, or restarts "
        "it with the same settings if it has none"
    )


def resume_hint(kind: str, params: dict[str, Any] | None = None, run_id: str | None = None) -> str:
    """The next step for an interrupted job of ``kind`` (``params`` as the job recorded them;
    ``run_id``: the training run a train job drove)."""
    params = params or {}
    if kind in ("train", "train.demo"):
        if run_id:
            return train_hint(run_id)
        return "rerun `graftwork train`: the run never started (no run to resume)"
    if kind.startswith("teach."):  # the plan recipe's teach drafts|critiques|refine
        return (
            f"rerun `graftwork teach {kind.split('.', 1)[1]}` to resume: finished teacher "
            "calls are reused, not paid again"
        )
    command, why = _RERUN.get(kind, (f"graftwork {kind.replace('.', ' ')}", ""))
    try:
        command = command.format_map(_Known(params))
    except (ValueError, IndexError):
        command = command.split(" {", 1)[0]
    return f"rerun `{command}` to resume" + (f": {why}" if why else "")


class _Known(dict):  # type: ignore[type-arg]
    """Fills a recorded param, or keeps the placeholder readable (DIR, SET) when missing."""

    def __missing__(self, key: str) -> str:
        return key.split("_")[0].upper()
