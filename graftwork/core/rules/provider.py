"""The templates recipe's examples: the imported records (sources/imported.py), with the
split the stage gave each record's word. The stage stores the word in the catalog's copy of
the record's meta (``split_key``); this provider moves it out of the record's own meta (so
exports give back the record as its file has it) into ``Example.meta["split_key"]``, and
``splits(db)`` gives build the fractions and seed the stage used: build then hashes the word
as the stage did, and a word is never in two splits of a built set either."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from graftwork.core.base.jobs import newest_summary
from graftwork.core.dataset.examples import OWN_META_KEY, Example
from graftwork.core.sources.base import Candidate
from graftwork.core.sources.imported import ImportedProvider

SPLIT_KEY = "split_key"


def _lift(ex: Example) -> Example:
    own = ex.meta.get(OWN_META_KEY)
    if not isinstance(own, dict) or SPLIT_KEY not in own:
        return ex
    record = {k: v for k, v in own.items() if k != SPLIT_KEY}
    return dataclasses.replace(
        ex, meta={**ex.meta, OWN_META_KEY: record, SPLIT_KEY: str(own[SPLIT_KEY])}
    )


class TemplatesExamples(ImportedProvider):
    def splits(self, db: Any) -> tuple[dict[str, float], int] | None:
        rule = (newest_summary(db, "templates") or {}).get("split_rule")
        return (rule["fractions"], int(rule["seed"])) if rule else None

    def examples(
        self, db: Any, cands: Sequence[Candidate]
    ) -> tuple[list[Example], list[tuple[str, str]]]:
        examples, failed = super().examples(db, cands)
        return [_lift(ex) for ex in examples], failed

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        return _lift(super().example_for(db, item_id, prompt))


def provider(ws: Any) -> TemplatesExamples:
    return TemplatesExamples(ws)
