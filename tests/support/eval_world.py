"""Evaluations without mlx: a run whose adapter file is a placeholder, evaluated with a
scripted generator (a stand-in for the mlx child process, which tests/core/eval/test_eval_run.py
runs for real). For tests about what happens to the answers: scoring, reports, the judge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.review_world import make_run

from graftwork.core.base.jobs import StageResult, run_job
from graftwork.core.base.workspace import Workspace


def stub_run(ws: Workspace, set_name: str) -> str:
    """A finished run with a placeholder best adapter (never loaded: the generator is scripted)."""
    run_id = make_run(ws, set_name, "some/model")
    best = ws.runs_dir / run_id / "adapters" / "best"
    best.mkdir(parents=True)
    (best / "adapters.safetensors").write_bytes(b"\0")
    return run_id


def scripted(answer: Callable[[str, int], str]) -> Callable[..., None]:
    """A generator answering prompt i as ``answer(which, i)``, base first, then adapter."""

    def generate(
        model: str,
        adapter: str | None,
        prompts: list[dict[str, Any]],
        *,
        on_event,
        skip: dict[str, list[str]] | None = None,
        **_: Any,
    ) -> None:
        for which in ("base", "adapter"):
            for i, p in enumerate(prompts):
                if p["key"] in (skip or {}).get(which, ()):
                    continue  # answered before (a resumed evaluation)
                text = answer(which, i)
                event = {"type": "sample", "which": which, "key": p["key"], "text": text}
                on_event({**event, "ms": 5.0, "tokens": 4})

    return generate


def evaluate_suite(
    ws: Workspace, run_id: str, suite: str, generate: Callable[..., None], **settings: Any
) -> StageResult:
    from graftwork.core.eval.evaluate import evaluate_run
    from graftwork.core.eval.metrics import Services
    from graftwork.core.review.samples import SampleSettings

    with ws.catalog() as db:
        return run_job(
            db,
            "eval",
            lambda job: evaluate_run(
                ws,
                run_id,
                suite=suite,
                settings=SampleSettings(**settings),
                generate=generate,
                services=Services(),
                job=job,
            ),
        )
