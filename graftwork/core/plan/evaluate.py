"""The plan recipe's part of `graftwork eval` (core/eval): its fixed suite (written by
`graftwork split`) is the default suite, its accepted answers are the suite's references, and
its answers are scored with the spec's contract (parse, schema, required keys, every rule of
the checker; the ``contract`` metric set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftwork.core.plan import store
from graftwork.core.plan.paths import PlanPaths
from graftwork.core.spec.contract import ContractChecker
from graftwork.core.spec.load import load_spec


def contract_checker(db: Any) -> ContractChecker:
    """The contract of the newest plan's spec (the file as it is now)."""
    loaded = load_spec(store.latest_spec(db)["path"])
    spec = loaded.spec
    return ContractChecker(spec.contract, loaded.schema, spec.gating)


def default_suite(ws: Any, db: Any) -> Path:
    """eval/suites/<spec eval.name>_<version>.jsonl of the newest plan."""
    spec = load_spec(store.latest_spec(db)["path"]).spec
    return PlanPaths(ws, spec.dataset.version).suite_file(spec.eval.name)


def system_prompt(db: Any) -> str:
    return load_spec(store.latest_spec(db)["path"]).spec.system_prompt or ""


def references(db: Any) -> dict[str, str]:
    """Accepted answers by planned prompt id (what a suite prompt is measured against)."""
    return {
        iid: g["answer"] for iid, g in store.gates(db, "main").items() if g["state"] == "accepted"
    }
