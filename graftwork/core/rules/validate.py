"""`graftwork validate`: named rules over any JSONL of records, each counted pass/fail with its
first failing lines (file:line), as a report that can be written as JSON.

Rules:
- ``json``: every line is a JSON object.
- ``fields``: bucket records (with ``task_type``) have task_type, instruction, input, output
  as non-empty strings; Alpaca records have non-empty instruction and output, input a string.
- ``tool_calls``: tool_core/tool_call outputs are a call valid against the tool's schema;
  tool_neg outputs are wrong in the way they declare (rules/tools.check_output).
- ``tokens``: the record's text (instruction, input, output) has fewer than ``max_tokens``
  tokens with the named tokenizer (tiktoken cl100k_base, or the ``--tokenizer`` folder).
- ``tokenizer``: with a Hugging Face tokenizer folder: decode(encode(text)) == text and no
  unknown token, for every field.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graftwork.core.base.errors import ConfigError

ALL_RULES = ("json", "fields", "tool_calls", "tokens", "tokenizer")
SHOWN = 5  # failing lines kept per rule
# records tokenized per call: large, since each call of a parallel (Rust) tokenizer costs a
# fan-out and a join; 8,192 records of a few KB are a few tens of MB at most
BATCH = 8192


class ValidateError(ConfigError):
    """Cannot validate at all (no such file, unknown rule, broken tokenizer): exit code 2."""


@dataclass
class RuleResult:
    name: str
    passed: int = 0
    failed: int = 0
    first: list[tuple[str, str]] = field(default_factory=list)  # (file:line, cause)

    def fail(self, where: str, cause: str) -> None:
        self.failed += 1
        if len(self.first) < SHOWN:
            self.first.append((where, cause))


@dataclass
class Report:
    files: list[str]
    records: int
    tokenizer: str
    max_tokens: int
    rules: dict[str, RuleResult]

    @property
    def ok(self) -> bool:
        return all(r.failed == 0 for r in self.rules.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records": self.records,
            "tokenizer": self.tokenizer,
            "max_tokens": self.max_tokens,
            "ok": self.ok,
            "rules": {
                n: {
                    "passed": r.passed,
                    "failed": r.failed,
                    "first_failures": [{"where": w, "cause": c} for w, c in r.first],
                }
                for n, r in self.rules.items()
            },
        }


class Encoder(Protocol):
    """A tokenizer as the token rules use it (adapters/rule_tokenizers.py builds them)."""

    id: str
    unk_id: int | None

    def encode(self, texts: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: list[list[int]]) -> list[str]: ...

    # how many tokens each text has: what the tokens rule needs, without building the ids
    def count(self, texts: Sequence[str]) -> list[int]: ...


def _lines(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, decode problem) for each non-blank line."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ValidateError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                yield n, raw.decode("utf-8"), ""
            except UnicodeDecodeError as exc:
                yield n, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"


def _fields(rec: dict[str, Any]) -> str | None:
    keys = (
        ("task_type", "instruction", "input", "output")
        if "task_type" in rec
        else ("instruction", "output")
    )
    bad = [k for k in keys if not isinstance(rec.get(k), str) or not rec[k].strip()]
    if "task_type" not in rec and not isinstance(rec.get("input", ""), str):
        bad.append("input")
    return f"missing or empty: {', '.join(bad)}" if bad else None


def check_record(
    rec: dict[str, Any], rules: Container[str], tools: dict[str, Any]
) -> list[tuple[str, str | None]]:
    """The record rules (fields, tool_calls) that apply to one parsed record: (rule, cause or
    None when it passed). `validate` counts them per file; the workstation shows them per item."""
    from graftwork.core.rules.tools import TOOL_CORE_TYPES, TOOL_NEG_TYPES, check_output

    out: list[tuple[str, str | None]] = []
    if "fields" in rules:
        out.append(("fields", _fields(rec)))
    task = rec.get("task_type")
    if "tool_calls" in rules and task in TOOL_CORE_TYPES | TOOL_NEG_TYPES:
        out.append(("tool_calls", check_output(task, str(rec.get("output", "")), tools)))
    return out


def validate_files(
    paths: Sequence[Path],
    *,
    rules: Sequence[str] = ALL_RULES,
    encoder: Encoder | None = None,
    max_tokens: int = 2048,
    tools: dict[str, Any] | None = None,
) -> Report:
    """``encoder``: the tokenizer for the token rules (tokenizer needs one with ``decode``
    from a Hugging Face folder; without an encoder both token rules are left out)."""
    from graftwork.core.rules.tools import default_tools_path, read_tools

    unknown = [r for r in rules if r not in ALL_RULES]
    if unknown:
        raise ValidateError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(ALL_RULES)}")
    hf = encoder is not None and encoder.id.startswith("hf:")
    rules = [
        r
        for r in ALL_RULES
        if r in rules and (r != "tokenizer" or hf) and (r != "tokens" or encoder is not None)
    ]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ValidateError(f"{missing[0]}: no such file")
    if "tool_calls" in rules and tools is None:
        tools = read_tools(default_tools_path())
    enc = encoder
    results = {r: RuleResult(r) for r in rules}
    report = Report([str(p) for p in paths], 0, enc.id if enc else "", max_tokens, results)
    pending: list[tuple[str, dict[str, Any]]] = []

    def flush() -> None:
        if pending:
            _token_rules(pending, enc, results, max_tokens)
            pending.clear()

    for path in paths:
        for n, text, problem in _lines(Path(path)):
            where = f"{path}:{n}"
            report.records += 1
            rec: Any = None
            if text is not None:
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as exc:
                    problem = f"not JSON ({exc.msg} at column {exc.colno})"
                if rec is not None and not isinstance(rec, dict):
                    problem, rec = "not a JSON object", None
            if "json" in results:
                if rec is None:
                    results["json"].fail(where, problem)
                else:
                    results["json"].passed += 1
            if rec is None:
                continue
            for rule, cause in check_record(rec, results, tools or {}):
                if cause:
                    results[rule].fail(where, cause)
                else:
                    results[rule].passed += 1
            if enc is not None:
                pending.append((where, rec))
                if len(pending) >= BATCH:
                    flush()
    flush()
    return report


def _text(rec: dict[str, Any]) -> str:
    return "\n".join(str(rec.get(k) or "") for k in ("instruction", "input", "output"))


def _token_rules(
    batch: list[tuple[str, dict[str, Any]]], enc: Any, results: dict[str, RuleResult], limit: int
) -> None:
    texts = [_text(rec) for _w, rec in batch]
    # the ids only when the round-trip rule needs them; counting alone skips building a
    # Python list per record
    ids = enc.encode(texts) if "tokenizer" in results else None
    if "tokens" in results:
        res = results["tokens"]
        counts = [len(t) for t in ids] if ids is not None else enc.count(texts)
        for (where, _rec), n in zip(batch, counts, strict=True):
            if n >= limit:
                res.fail(where, f"{n} tokens, limit {limit} ({enc.id})")
            else:
                res.passed += 1
    if ids is not None:
        res = results["tokenizer"]
        back = enc.decode(ids)
        for (where, _rec), text, toks, again in zip(batch, texts, ids, back, strict=True):
            if enc.unk_id is not None and enc.unk_id in toks:
                res.fail(where, f"unknown token(s) ({toks.count(enc.unk_id)})")
            elif again != text:
                at = next(
                    (i for i, (a, b) in enumerate(zip(text, again, strict=False)) if a != b),
                    min(len(text), len(again)),
                )
                res.fail(
                    where, f"decode(encode(text)) differs at character {at}: {text[at : at + 20]!r}"
                )
            else:
                res.passed += 1
