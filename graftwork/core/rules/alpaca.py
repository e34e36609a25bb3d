"""The `templates` recipe's generator (seed 004): Alpaca records
``{"instruction", "input", "output", "meta"}`` from spec templates over a word list, each
validated against `ALPACA_SCHEMA` (JSON Schema draft-07, additionalProperties false, meta an
object of strings) before anything is written.

The spec is the `plan` spec (one language): categories are the template categories
(spelling_first, word_first, ...), tags record the style and separator (``template_style``,
``separator_style``), the ``word`` variable holds the words (``{file: words.txt}``), and the
`words` section can keep only the words a tokenizer folder encodes as one token (``single``)
or as several (``multi``). Splits put every word in exactly one of train/val/test.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from graftwork.core.base.config import StrictModel
from graftwork.core.dataset.splits import assign_split
from graftwork.core.spec.load import LoadedSpec, SpecError, Values, load_spec
from graftwork.core.spec.model import Category, Spec, Template
from graftwork.core.spec.templates import CompiledTemplate, TemplateError, compile_template

ALPACA_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["instruction", "input", "output"],
    "properties": {
        "instruction": {"type": "string", "minLength": 1},
        "input": {"type": "string"},
        "output": {"type": "string", "minLength": 1},
        "meta": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
SPLITS = ("train", "val", "test")


class AlpacaTemplate(Template):
    input: str | None = None  # template; default: the category's
    output: str | None = None  # template; default: the category's


class TemplateCategory(Category):
    templates: list[str | AlpacaTemplate] = Field(min_length=1)  # type: ignore[assignment]
    input: str = ""
    output: str = "{{ word }}"

    def template_list(self, category: str) -> list[Template]:
        out: list[Template] = []
        for pos, t in enumerate(self.templates, 1):
            tpl = AlpacaTemplate(text=t) if isinstance(t, str) else t
            out.append(tpl if tpl.id else tpl.model_copy(update={"id": f"{category}.{pos}"}))
        return out


class WordFilter(StrictModel):
    tokenizer: str | None = None  # a Hugging Face tokenizer folder, relative to the spec
    tokens: Literal["any", "single", "multi"] = "any"
    min_length: int = Field(1, ge=1)
    max_length: int | None = Field(None, ge=1)


class TemplatesSpec(Spec):
    categories: dict[str, TemplateCategory] = Field(min_length=1)  # type: ignore[assignment]
    words: WordFilter = Field(default_factory=WordFilter)


@dataclass
class AlpacaSet:
    records: list[dict[str, Any]]
    ids: list[str]
    splits: dict[str, list[int]]  # split -> record indexes
    counts: dict[str, dict[str, int]]  # "category" | "template_style" | ... -> value -> count
    warnings: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # each record's word (its split key)


def _filter_words(
    loaded: LoadedSpec[TemplatesSpec], open_tokenizer: Callable[[Path], Any] | None
) -> list[str]:
    """Apply the `words` section to every category's ``word`` values; warnings."""
    rule = loaded.spec.words
    warnings: list[str] = []
    enc = None
    if rule.tokens != "any":
        if rule.tokenizer is None:
            raise SpecError(f"{loaded.path}: key 'words.tokens': needs words.tokenizer (a folder)")
        from graftwork.core.rules.validate import ValidateError

        if open_tokenizer is None:
            raise SpecError(f"{loaded.path}: key 'words.tokenizer': no tokenizer backend given")
        try:
            enc = open_tokenizer((loaded.path.parent / rule.tokenizer).resolve())
        except ValidateError as exc:
            raise SpecError(f"{loaded.path}: key 'words.tokenizer': {exc}") from None
    cache: dict[tuple[str, ...], Values] = {}
    for plan in loaded.categories:
        values = plan.values.get("word")
        if values is None:
            continue
        key = tuple(map(str, values.items))
        if key not in cache:
            words = [
                w
                for w in key
                if len(w) >= rule.min_length
                and (rule.max_length is None or len(w) <= rule.max_length)
            ]
            if enc is not None:
                # The word as it appears after a space, as a model sees it inside a sentence.
                # An unknown token is in neither subset: the model has no token for the word.
                encoded = enc.encode([f" {w}" for w in words])
                single = rule.tokens == "single"
                words = [
                    w
                    for w, ids in zip(words, encoded, strict=True)
                    if enc.unk_id not in ids and (len(ids) == 1) == single
                ]
            if not words:
                raise SpecError(f"{loaded.path}: key 'words': no word is left after the filter")
            if len(words) < len(key):
                warnings.append(f"words: {len(words)} of {len(key)} kept by the filter")
            cache[key] = Values(tuple(words))
        plan.values["word"] = cache[key]
    return warnings


def load_templates(
    path: Path | str, open_tokenizer: Callable[[Path], Any] | None = None
) -> tuple[LoadedSpec[TemplatesSpec], list[str]]:
    """The loaded spec (its words filtered) and warnings. ``open_tokenizer``: folder ->
    encoder (graftwork.wiring.open_tokenizer), needed by a `words.tokens` filter."""
    loaded = load_spec(path, TemplatesSpec)
    return loaded, _filter_words(loaded, open_tokenizer)


def _compile(
    loaded: LoadedSpec[TemplatesSpec],
) -> dict[str, tuple[CompiledTemplate, CompiledTemplate]]:
    """Template id -> (input, output) templates; names the key of one that cannot work."""
    out = {}
    for plan in loaded.categories:
        cat = loaded.spec.categories[plan.name]
        usable = {c.id: c for c, _w in plan.templates}
        for pos, tpl in enumerate(cat.template_list(plan.name)):
            assert isinstance(tpl, AlpacaTemplate)
            if tpl.id not in usable:
                continue
            allowed = set(usable[tpl.id].variables) | set(plan.tags) | {"category"}
            parts = []
            for part, text in (
                ("input", tpl.input or cat.input),
                ("output", tpl.output or cat.output),
            ):
                key = f"categories.{plan.name}.templates.{pos}.{part}"
                try:
                    compiled = compile_template(str(tpl.id), text)
                except TemplateError as exc:
                    raise SpecError(f"{loaded.path}: key '{key}': does not parse: {exc}") from None
                missing = sorted(compiled.variables - allowed)
                if missing:
                    raise SpecError(
                        f"{loaded.path}: key '{key}': uses {', '.join(missing)}, which the "
                        "instruction does not use and no tag supplies"
                    )
                parts.append(compiled)
            out[str(tpl.id)] = (parts[0], parts[1])
    return out


def split_fractions(spec: TemplatesSpec) -> dict[str, float]:
    """The spec's fractions under build's split names (val -> valid)."""
    return {"train": spec.splits.train, "valid": spec.splits.val, "test": spec.splits.test}


def split_of(word: str, seed: int, fractions: dict[str, float]) -> str:
    """The split of a word (train, val or test): `assign_split`'s seeded hash of the word,
    so one word is always in one split, and build (which hashes the record's split key, the
    word, with the same fractions and seed) puts every record where these files have it."""
    name = assign_split(word, fractions, seed)
    return "val" if name == "valid" else name


@functools.cache
def alpaca_check(*, where: bool = False) -> Callable[[dict[str, Any]], str | None]:
    """``check(record)``: None when the record validates against ALPACA_SCHEMA, else the first
    problem (``where``: prefixed with the field's path, the message cut at 120 characters, as
    the templates view shows it). Compiled once: fastjsonschema turns the schema into Python
    code (a few µs a record; jsonschema's interpreter took ~130 µs, 13 s of a 100,000-record
    set), and jsonschema, the reference, words the message for a record that fails."""
    import fastjsonschema
    from jsonschema.validators import Draft7Validator

    fast = fastjsonschema.compile(ALPACA_SCHEMA)
    reference = Draft7Validator(ALPACA_SCHEMA)

    def check(record: dict[str, Any]) -> str | None:
        try:
            fast(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            first = next(reference.iter_errors(record), None)
            message = first.message if first is not None else exc.message
            if not where:
                return message
            path = "/".join(str(p) for p in first.absolute_path) if first is not None else ""
            return f"{path or 'record'}: {message[:120]}"
        return None

    return check


def generate_alpaca(
    loaded: LoadedSpec[TemplatesSpec], warnings: list[str] | None = None
) -> AlpacaSet:
    from graftwork.core.spec.expand import expand

    parts = _compile(loaded)
    expansion = expand(loaded)
    check = alpaca_check()
    spec = loaded.spec
    fractions = split_fractions(spec)
    out = AlpacaSet(
        [], [], {s: [] for s in SPLITS}, {"category": {}}, [*(warnings or []), *expansion.warnings]
    )
    for p in expansion.prompts:
        ctx: dict[str, Any] = {**p.variables, **p.tags, "category": p.category}
        inp, outp = parts[p.template_id]
        meta = {"template_category": p.category, **{k: str(v) for k, v in p.tags.items()}}
        rec = {
            "instruction": p.prompt,
            "input": inp.render(ctx).strip(),
            "output": outp.render(ctx).strip(),
            "meta": meta,
        }
        problem = check(rec)
        if problem is not None:
            out.warnings.append(f"{p.id} ({p.template_id}): left out: {problem[:120]}")
            continue
        word = str(p.variables.get("word", p.prompt))
        out.splits[split_of(word, spec.splits.seed, fractions)].append(len(out.records))
        out.words.append(word)
        out.records.append(rec)
        out.ids.append(p.id)
        for key, value in meta.items():
            bucket = out.counts.setdefault("category" if key == "template_category" else key, {})
            bucket[value] = bucket.get(value, 0) + 1
    return out


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
