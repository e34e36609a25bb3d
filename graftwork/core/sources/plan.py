"""The plan recipe's examples: user = the planned prompt, assistant = the answer the gate
accepted (main area), system = the spec's system prompt. Records that the newest `qa`
removed are left out with its reason."""

from __future__ import annotations

import json
from typing import Any

from graftwork.core.dataset.examples import Example, make_example, sha256_text
from graftwork.core.plan import store
from graftwork.core.sources.base import Candidate

AREA = "main"


class PlanExamples:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def _system(self, db: Any) -> str:
        spec = json.loads(store.latest_spec(db)["spec"])
        return (spec.get("system_prompt") or "").strip()

    def _rows(self, db: Any) -> dict[str, dict[str, Any]]:
        spec_id = store.latest_spec(db)["id"]
        rows = db.query(
            "SELECT p.item_id, p.category, p.tags, p.prompt, g.state, g.answer, g.reasons, q.rule, q.detail "
            "FROM plan_items p LEFT JOIN plan_gate g ON g.item_id = p.item_id AND g.area = ? "
            "LEFT JOIN plan_qa q ON q.item_id = p.item_id AND q.area = ? WHERE p.spec_id = ? ORDER BY p.ord",
            [AREA, AREA, spec_id],
        )
        return {r["item_id"]: r for r in rows}

    def splits(self, db: Any) -> tuple[dict[str, float], int]:
        """The spec's split fractions and seed: build assigns as `graftwork split` does."""
        from graftwork.core.plan.exports import spec_splits

        return spec_splits(json.loads(store.latest_spec(db)["spec"]))

    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        system = self._system(db)
        usable: list[Candidate] = []
        skipped: list[tuple[str, str]] = []
        for iid, r in self._rows(db).items():
            if r["state"] is None:
                skipped.append((iid, "no gated answer yet (run `graftwork teach refine`)"))
            elif r["state"] != "accepted":
                skipped.append((iid, f"rejected: {'; '.join(json.loads(r['reasons'] or '[]'))}"))
            elif r["rule"]:
                skipped.append((iid, f"removed by qa: {r['rule']}: {r['detail']}"))
            else:
                usable.append(
                    Candidate(iid, r["prompt"], sha256_text(system + "\0" + (r["answer"] or "")))
                )
        return usable, skipped

    def example(self, db: Any, cand: Candidate) -> Example:
        return self.example_for(db, cand.item_id, cand.prompt)

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        rows = list(
            db.query(
                "SELECT p.category, p.tags, g.answer, g.state FROM plan_items p LEFT JOIN plan_gate g "
                "ON g.item_id = p.item_id AND g.area = ? WHERE p.item_id = ?",
                [AREA, item_id],
            )
        )
        if not rows:
            raise ValueError(f"{item_id} is not a planned prompt")
        row = rows[0]
        if row["state"] != "accepted" or not row["answer"]:
            raise ValueError(f"{item_id} has no accepted answer")
        meta = {
            "source": "plan",
            "category": row["category"],
            "tags": json.loads(row["tags"] or "{}"),
        }
        return make_example(item_id, self._system(db), None, prompt, row["answer"], meta)
