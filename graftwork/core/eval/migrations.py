"""Schema of evaluation results. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.eval")


@migrations()
def m001_eval_results(db: Database) -> None:
    # One row per (evaluation, model, metric). An evaluation (eval_id) is one `graftwork eval`
    # over one split or suite of a run: base and adapter rows share its id, so a report or a
    # model card reads both sides of the same examples and seed.
    db["eval_results"].create(
        {
            "id": int,
            "eval_id": str,
            "run_id": str,
            "model": str,  # base | adapter | pair (a judgement compares both)
            "checkpoint": str,  # the adapter checkpoint evaluated: best | last
            "source": str,  # split:test | suite:<file name>
            "metric": str,
            "value": float,
            "n": int,  # how many examples the value is over
            "detail": str,  # JSON: counts and anything a report wants beside the value
            "created_at": str,
        },
        pk="id",
    )
    db["eval_results"].create_index(["run_id", "metric", "created_at"])
    db["eval_results"].create_index(["eval_id"])


@migrations()
def m002_eval_items(db: Database) -> None:
    # Per example of an evaluation, each model's metric values (and, model "pair", the
    # judge's verdicts), tied to the samples row holding both answers: the review screen shows
    # them beside the outputs, the report lists them.
    db["eval_items"].create(
        {
            "id": int,
            "eval_id": str,
            "run_id": str,
            "sample_id": int,
            "item_id": str,
            "model": str,  # base | adapter | pair
            "metrics": str,  # JSON {metric: value | null}
            "created_at": str,
        },
        pk="id",
    )
    db["eval_items"].create_index(["eval_id"])
    db["eval_items"].create_index(["sample_id"])


@migrations()
def m003_eval_progress(db: Database) -> None:
    # An evaluation in progress (core/eval/progress.py): its settings, and every generation and
    # loss as it finishes, so a killed `graftwork eval` rerun with the same settings continues
    # after the last finished example. Deleted in the transaction that stores the results.
    db["eval_pending"].create(
        {
            "eval_id": str,
            "run_id": str,
            "settings_key": str,  # sha256 of the settings JSON
            "settings": str,  # JSON: what must match for a rerun to continue it
            "created_at": str,
        },
        pk="eval_id",
    )
    db["eval_pending"].create_index(["run_id"])
    db["eval_progress"].create(
        {
            "eval_id": str,
            "kind": str,  # sample | loss
            "model": str,  # base | adapter
            "case_key": str,  # the example's key ("" for a loss)
            "event": str,  # JSON: the generator's event as it came
            "created_at": str,
        },
        pk=("eval_id", "kind", "model", "case_key"),
    )
