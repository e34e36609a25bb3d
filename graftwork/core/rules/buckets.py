"""The `buckets` recipe's generator (seed 003): a spec (the `plan` spec language, extended by
the models below) fills named buckets with ``{"task_type", "instruction", "input", "output"}``
records, no teacher involved.

Each bucket is a spec category: its templates expand (core/spec/expand: deterministic for the
spec's seed, never the same instruction twice) into instructions; a rule *responder* writes the
output: ``text`` renders the template's ``output``; ``tool_call`` renders the template's
``arguments`` into a call of its ``tool`` (checked against the tool's JSON Schema);
``tool_neg`` makes that call wrong in one of the bucket's ``mistakes`` (chosen per record from
its id, so deterministic) and adds the template's explanation.

Templates besides the instruction (input, output, arguments, explanation) may use the
instruction's variables, the tags (drawn for every record) and ``category``, ``tool``,
``mistake``, ``other_tool``, ``missing`` (names the responder supplies).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from graftwork.core.spec.load import LoadedSpec, SpecError, load_spec
from graftwork.core.spec.model import Category, Spec, Template
from graftwork.core.spec.templates import CompiledTemplate, TemplateError, compile_template

Responder = Literal["text", "tool_call", "tool_neg"]
Mistake = Literal["wrong_tool", "missing_argument", "bad_json"]
RESPONDER_NAMES = frozenset({"category", "tool", "mistake", "other_tool", "missing"})


class BucketTemplate(Template):
    tool: str | None = None  # tool_call / tool_neg: which tool the instruction asks for
    arguments: dict[str, str] = Field(default_factory=dict)  # argument -> template
    input: str | None = None  # template; default: the bucket's
    output: str | None = None  # template (text buckets); default: the bucket's
    explanation: str | None = None  # template (tool_neg); default: the bucket's


class Bucket(Category):
    templates: list[str | BucketTemplate] = Field(min_length=1)  # type: ignore[assignment]
    task_type: str | None = None  # default: the bucket's name
    responder: Responder = "text"
    file: str | None = None  # default: <bucket>.jsonl
    input: str = ""
    output: str | None = None
    explanation: str = "The call is wrong: {{ mistake }} (expected {{ tool }})."
    mistakes: list[Mistake] = Field(
        default_factory=lambda: ["wrong_tool", "missing_argument", "bad_json"]
    )

    def template_list(self, category: str) -> list[Template]:
        out: list[Template] = []
        for pos, t in enumerate(self.templates, 1):
            tpl = BucketTemplate(text=t) if isinstance(t, str) else t
            out.append(tpl if tpl.id else tpl.model_copy(update={"id": f"{category}.{pos}"}))
        return out


class BucketSpec(Spec):
    categories: dict[str, Bucket] = Field(min_length=1)  # type: ignore[assignment]
    tools_file: str | None = None  # JSON list of {name, description, parameters}
    tools: list[dict[str, Any]] | None = None  # inline; default: the shipped Continue tools


@dataclass
class _Rules:
    """One template's compiled responder parts."""

    tool: str | None
    arguments: dict[str, CompiledTemplate]
    input: CompiledTemplate
    output: CompiledTemplate | None
    explanation: CompiledTemplate


@dataclass
class Generated:
    records: dict[str, list[dict[str, str]]]  # bucket -> records, in plan order
    ids: dict[str, list[str]]  # bucket -> record ids (same order)
    files: dict[str, str]  # bucket -> file name
    counts: dict[str, tuple[int, int]]  # bucket -> (made, target)
    warnings: list[str] = field(default_factory=list)


def load_buckets(path: Path | str) -> tuple[LoadedSpec[BucketSpec], dict[str, Any]]:
    """The loaded spec and its tools; SpecError names the key and cause of any problem."""
    from graftwork.core.rules.tools import ToolsError, default_tools_path, load_tools, read_tools

    loaded = load_spec(path, BucketSpec)
    spec, source = loaded.spec, loaded.path
    try:
        if spec.tools is not None:
            tools = load_tools(spec.tools, f"{source}: key 'tools'")
        elif spec.tools_file:
            try:
                tools = read_tools(source.parent / spec.tools_file)
            except ToolsError as exc:
                raise SpecError(f"{source}: key 'tools_file': {exc}") from None
        else:
            tools = read_tools(default_tools_path())
    except ToolsError as exc:
        raise SpecError(str(exc)) from None
    return loaded, tools


def _compile(source: Path, key: str, tid: str, text: str, allowed: set[str]) -> CompiledTemplate:
    try:
        compiled = compile_template(tid, text)
    except TemplateError as exc:
        raise SpecError(f"{source}: key '{key}': does not parse: {exc}") from None
    missing = sorted(compiled.variables - allowed)
    if missing:
        raise SpecError(
            f"{source}: key '{key}': uses {', '.join(missing)}, which the instruction template "
            "does not use and no tag supplies"
        )
    return compiled


def _rules(loaded: LoadedSpec[BucketSpec], tools: dict[str, Any]) -> dict[str, _Rules]:
    """Template id -> its responder parts, every name checked before anything is generated."""
    source = loaded.path
    out: dict[str, _Rules] = {}
    for plan in loaded.categories:
        bucket = loaded.spec.categories[plan.name]
        compiled = {c.id: c for c, _w in plan.templates}
        for pos, tpl in enumerate(bucket.template_list(plan.name)):
            assert isinstance(tpl, BucketTemplate)
            key = f"categories.{plan.name}.templates.{pos}"
            if tpl.id not in compiled:
                continue  # skipped by load_spec (with its warning)
            allowed = set(compiled[tpl.id].variables) | set(plan.tags) | RESPONDER_NAMES
            if bucket.responder != "text":
                if tpl.tool is None:
                    raise SpecError(
                        f"{source}: key '{key}': a {bucket.responder} template needs 'tool'"
                    )
                if tpl.tool not in tools:
                    raise SpecError(
                        f"{source}: key '{key}.tool': unknown tool {tpl.tool!r}; "
                        f"known: {', '.join(sorted(tools))}"
                    )
            output = tpl.output if tpl.output is not None else bucket.output
            if bucket.responder == "text" and output is None:
                raise SpecError(f"{source}: key '{key}': a text bucket needs an output template")
            tid = str(tpl.id)
            out[tid] = _Rules(
                tpl.tool,
                {
                    a: _compile(source, f"{key}.arguments.{a}", tid, t, allowed)
                    for a, t in tpl.arguments.items()
                },
                _compile(source, f"{key}.input", tid, tpl.input or bucket.input or "", allowed),
                _compile(source, f"{key}.output", tid, output, allowed) if output else None,
                _compile(
                    source,
                    f"{key}.explanation",
                    tid,
                    tpl.explanation or bucket.explanation,
                    allowed,
                ),
            )
    return out


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """A rendered argument as the type its schema asks for (JSON text for non-strings)."""
    if schema.get("type", "string") == "string":
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # the schema check reports it


def _arguments(rules: _Rules, tool: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    props = tool.parameters.get("properties", {})
    return {a: _typed(t.render(ctx).strip(), props.get(a, {})) for a, t in rules.arguments.items()}


def _negative(
    rid: str, bucket: Bucket, rules: _Rules, tools: dict[str, Any], ctx: dict[str, Any]
) -> str | None:
    from graftwork.core.rules.tools import call_text

    tool = tools[rules.tool]
    args = _arguments(rules, tool, ctx)
    present_required = [r for r in tool.required if r in args]
    usable = [
        m
        for m in bucket.mistakes
        if (m != "missing_argument" or present_required) and (m != "wrong_tool" or len(tools) > 1)
    ]
    if not usable:
        return None
    pick = int(hashlib.sha256(rid.encode()).hexdigest()[:8], 16)
    mistake = usable[pick % len(usable)]
    others = sorted(n for n in tools if n != tool.name)
    other = others[pick % len(others)] if others else ""
    missing = (
        present_required[pick % len(present_required)] if mistake == "missing_argument" else ""
    )
    if mistake == "wrong_tool":
        call = call_text(other, args)
    elif mistake == "missing_argument":
        call = call_text(tool.name, {k: v for k, v in args.items() if k != missing})
    else:
        call = call_text(tool.name, args)[:-1]  # the closing brace dropped: not JSON
    ctx = {**ctx, "mistake": mistake, "other_tool": other, "missing": missing}
    return json.dumps(
        {
            "mistake": mistake,
            "expected_tool": tool.name,
            "call": call,
            "explanation": rules.explanation.render(ctx).strip(),
        },
        ensure_ascii=False,
    )


def generate(loaded: LoadedSpec[BucketSpec], tools: dict[str, Any]) -> Generated:
    """Every bucket's records. Records the rules cannot make valid are left out with a warning
    (the count says so); nothing here writes files."""
    from graftwork.core.rules.tools import call_text, check_output
    from graftwork.core.spec.expand import expand

    rules = _rules(loaded, tools)
    expansion = expand(loaded)
    spec = loaded.spec
    gen = Generated(
        {b: [] for b in spec.categories},
        {b: [] for b in spec.categories},
        {b: bucket.file or f"{b}.jsonl" for b, bucket in spec.categories.items()},
        {},
        list(expansion.warnings),
    )
    dropped: dict[str, int] = {}
    for p in expansion.prompts:
        bucket = spec.categories[p.category]
        r = rules[p.template_id]
        ctx: dict[str, Any] = {**p.variables, **p.tags, "category": p.category, "tool": r.tool}
        task_type = bucket.task_type or p.category
        if bucket.responder == "text":
            output = r.output.render(ctx).strip() if r.output else ""
        elif bucket.responder == "tool_call":
            output = call_text(str(r.tool), _arguments(r, tools[r.tool], ctx))
        else:
            output = _negative(p.id, bucket, r, tools, ctx) or ""
        cause = None if bucket.responder == "text" else check_output(task_type, output, tools)
        if not output or cause:
            dropped[p.category] = dropped.get(p.category, 0) + 1
            if dropped[p.category] <= 3:
                gen.warnings.append(
                    f"{p.id} ({p.template_id}): left out: {cause or 'empty output'}"
                )
            continue
        gen.records[p.category].append(
            {
                "task_type": task_type,
                "instruction": p.prompt,
                "input": r.input.render(ctx).strip(),
                "output": output,
            }
        )
        gen.ids[p.category].append(p.id)
    for name, (_made, target) in expansion.counts.items():
        gen.counts[name] = (len(gen.records[name]), target)
        if dropped.get(name):
            gen.warnings.append(f"bucket {name}: {dropped[name]} record(s) left out by the rules")
    return gen
