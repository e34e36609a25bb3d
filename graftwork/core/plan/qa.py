"""`graftwork qa`: the optional clean pass over dataset_<v>.jsonl -> dataset_<v>_clean.jsonl
and dataset_<v>_qa_report.json, saying what was removed and why.

Rules (the first that matches removes a record; earlier records win over later ones):
``exact_duplicate`` (same prompt or same answer, after trimming), ``near_duplicate`` (prompts
or answers whose word 3-gram sets overlap by at least NEAR, Jaccard), ``empty`` (no answer
text), ``truncated`` (a JSON answer that does not parse, or a text answer that stops
mid-sentence), ``repeats_prompt`` (the answer is mostly the prompt again) and
``language_mismatch`` (prompt and answer confidently in different languages or scripts).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from typing import Any

from graftwork.core.base.atomic import write_json
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import records
from graftwork.core.plan.exports import export_teach_files, read_jsonl, write_jsonl
from graftwork.core.plan.paths import PlanPaths

NEAR = 0.8
_WORD = re.compile(r"\w+", re.UNICODE)
_END = re.compile(r"""[.!?…:;)\]}"'`*»」。！？]\s*$""")
STOPWORDS = {
    "en": {
        "the",
        "and",
        "is",
        "to",
        "of",
        "in",
        "for",
        "you",
        "with",
        "it",
        "on",
        "what",
        "how",
        "your",
        "are",
        "this",
        "that",
        "can",
    },
    "de": {
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ich",
        "zu",
        "mit",
        "ein",
        "eine",
        "für",
        "auf",
        "wie",
        "sie",
        "es",
    },
    "fr": {
        "le",
        "la",
        "les",
        "et",
        "est",
        "des",
        "un",
        "une",
        "pour",
        "dans",
        "que",
        "vous",
        "pas",
        "avec",
        "du",
        "je",
    },
    "es": {
        "el",
        "la",
        "los",
        "las",
        "y",
        "es",
        "de",
        "que",
        "en",
        "un",
        "una",
        "para",
        "con",
        "por",
        "como",
        "qué",
    },
    "it": {
        "il",
        "lo",
        "gli",
        "e",
        "è",
        "di",
        "che",
        "per",
        "un",
        "una",
        "con",
        "non",
        "sono",
        "come",
        "della",
    },
    "pt": {
        "o",
        "os",
        "as",
        "e",
        "é",
        "de",
        "que",
        "em",
        "um",
        "uma",
        "para",
        "com",
        "não",
        "como",
        "do",
        "da",
    },
}


def answer_text(rec: dict[str, Any]) -> str:
    """The words of an answer: the string values of a JSON answer, else the text."""
    value = rec.get("response_json")
    if value is None:
        return str(rec.get("response") or "")
    strings: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return " ".join(strings)


def script(text: str) -> str | None:
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            counts[name.split(" ")[0] if name else "?"] += 1
    if not counts:
        return None
    top, n = counts.most_common(1)[0]
    return top if n / sum(counts.values()) >= 0.6 else None


def language(text: str) -> str | None:
    """A script name, or for Latin text the language whose stopwords clearly dominate."""
    sc = script(text)
    if sc != "LATIN":
        return sc
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 5:
        return None
    hits = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    (best, a), (_, b) = ranked[0], ranked[1]
    return best if a >= 3 and a >= 2 * b else None


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 3:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(zip(words, words[1:], words[2:], strict=False))


class _NearIndex:
    """Jaccard over 3-gram sets, candidates found through an inverted index."""

    def __init__(self) -> None:
        self.sets: list[frozenset[tuple[str, ...]]] = []
        self.ids: list[str] = []
        self.index: dict[tuple[str, ...], list[int]] = {}

    def match(self, sh: frozenset[tuple[str, ...]]) -> str | None:
        if not sh:
            return None
        seen: Counter[int] = Counter()
        for g in sh:
            for i in self.index.get(g, ()):
                seen[i] += 1
        for i, inter in seen.most_common(5):
            if inter / (len(sh) + len(self.sets[i]) - inter) >= NEAR:
                return self.ids[i]
        return None

    def add(self, rid: str, sh: frozenset[tuple[str, ...]]) -> None:
        n = len(self.sets)
        self.sets.append(sh)
        self.ids.append(rid)
        for g in sh:
            self.index.setdefault(g, []).append(n)


def _norm(text: str) -> str:
    return " ".join(text.split()).strip()


def check_records(
    rows: list[dict[str, Any]], wants_json: bool
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, str]] = []
    prompts: dict[str, str] = {}
    answers: dict[str, str] = {}
    near_p, near_a = _NearIndex(), _NearIndex()
    for rec in rows:
        rid, prompt, response = (
            rec["id"],
            _norm(rec.get("prompt") or ""),
            _norm(str(rec.get("response") or "")),
        )
        words = answer_text(rec) if wants_json else response
        sh_p, sh_a = shingles(prompt), shingles(words)
        why: tuple[str, str] | None = None
        if prompt in prompts:
            why = ("exact_duplicate", f"same prompt as {prompts[prompt]}")
        elif response and response in answers:
            why = ("exact_duplicate", f"same answer as {answers[response]}")
        elif (other := near_p.match(sh_p)) is not None:
            why = ("near_duplicate", f"prompt nearly the same as {other}")
        elif len(sh_a) >= 5 and (other := near_a.match(sh_a)) is not None:
            why = ("near_duplicate", f"answer nearly the same as {other}")
        elif not response or not words.strip():
            why = ("empty", "no answer text")
        elif wants_json and records.answer_value(response) is None:
            why = ("truncated", "the JSON answer does not parse (cut off?)")
        elif not wants_json and not _END.search(response):
            why = ("truncated", f"stops mid-sentence: …{response[-40:]!r}")
        elif (
            len(words) < 2 * len(prompt)
            and SequenceMatcher(None, prompt.lower(), words.lower()).ratio() >= 0.8
        ):
            why = ("repeats_prompt", "the answer is mostly the prompt again")
        else:
            lp, la = language(prompt), language(words)
            if lp and la and lp != la:
                why = ("language_mismatch", f"prompt looks {lp}, answer looks {la}")
        if why is not None:
            removed.append({"id": rid, "rule": why[0], "detail": why[1]})
            continue
        prompts[prompt] = rid
        if response:
            answers[response] = rid
        near_p.add(rid, sh_p)
        if len(sh_a) >= 5:
            near_a.add(rid, sh_a)
        kept.append(rec)
    return kept, removed


def run_qa(ws: Workspace, *, area: str = "main", job: Job) -> StageResult:
    db = stage_db(ws, job)
    view = records.read_view(db, area)
    export_teach_files(ws, db, area)  # dataset_<v>.jsonl as the catalog has it now
    paths = PlanPaths(ws, view.version, area)
    source = paths.dataset_file()
    if not source.exists():
        raise GraftworkError(f"{source} does not exist yet: run `graftwork teach refine` first")
    rows = read_jsonl(source)
    job.set_total(len(rows))
    wants_json = view.spec["parsed"].get("contract", {}).get("format") == "json"
    kept, removed = check_records(rows, wants_json)
    clean = write_jsonl(paths.dataset_file("_clean"), kept)
    by_rule = Counter(r["rule"] for r in removed)
    report = {
        "source": str(source),
        "records": len(rows),
        "kept": len(kept),
        "removed": len(removed),
        "removed_by_rule": dict(sorted(by_rule.items())),
        "items": removed,
    }
    report_path = paths.dataset_file("_qa_report", "json")
    write_json(report_path, report)
    stamp = now()
    with db.conn:
        db.conn.execute("DELETE FROM plan_qa WHERE area = ?", [area])
        db.conn.executemany(
            "INSERT INTO plan_qa (area, item_id, rule, detail, checked_at) VALUES (?, ?, ?, ?, ?)",
            [(area, r["id"], r["rule"], r["detail"], stamp) for r in removed],
        )
    for r in removed:
        job.log(f"{r['id']}: {r['rule']}: {r['detail']}", item_id=r["id"])
    job.advance(len(rows))
    return StageResult(
        ok=len(kept),
        skipped=[(r["id"], f"{r['rule']}: {r['detail']}") for r in removed],
        outputs=[clean, report_path],
        summary={k: v for k, v in report.items() if k != "items"}
        | {"clean": str(clean), "report": str(report_path)},
    )
