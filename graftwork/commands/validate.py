"""`graftwork validate FILE...`: named rules over any JSONL (also outside a workspace)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from graftwork.commands._common import err_console, out_console


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    default="json,fields,tool_calls,tokens,tokenizer",
    show_default=True,
    help="Comma-separated rules to apply (tokenizer needs --tokenizer).",
)
@click.option(
    "--tokenizer",
    type=click.Path(path_type=Path),
    default=None,
    help="A local Hugging Face tokenizer folder (tokenizer.json); default: tiktoken cl100k_base.",
)
@click.option("--max-tokens", type=int, default=2048, show_default=True, help="Token limit (<).")
@click.option(
    "--tools",
    type=click.Path(path_type=Path),
    default=None,
    help="Tool definitions JSON (default: the shipped Continue tools).",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the JSON report here (default: validate_report.json next to the first file).",
)
def command(
    files: tuple[Path, ...],
    rules: str,
    tokenizer: Path | None,
    max_tokens: int,
    tools: Path | None,
    report: Path | None,
) -> None:
    """Check JSONL records with named rules: json, fields, tool_calls (tool_core calls valid
    against the tool's schema; tool_neg wrong as declared), tokens (< --max-tokens) and
    tokenizer (round trip, no unknown tokens). Prints each rule's pass/fail counts and first
    failing lines (file:line), writes a JSON report. Exit 0 all pass, 1 any failure, 2 when
    the files or the tokenizer cannot be used.

    Example: graftwork validate data/processed/buckets/*.jsonl --tokenizer ~/models/qwen
    """
    from graftwork.adapters.rule_tokenizers import open_encoder
    from graftwork.core.base.atomic import atomic_writer
    from graftwork.core.rules.tools import ToolsError, read_tools
    from graftwork.core.rules.validate import ValidateError, validate_files

    names = [r.strip() for r in rules.split(",") if r.strip()]
    try:
        wants = {"tokens", "tokenizer"} & set(names)
        result = validate_files(
            list(files),
            rules=names,
            encoder=open_encoder(tokenizer) if wants else None,
            max_tokens=max_tokens,
            tools=read_tools(tools) if tools else None,
        )
    except (ValidateError, ToolsError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    say = out_console.print
    say(
        f"{result.records} record(s) in {len(files)} file(s); tokenizer {result.tokenizer or '-'}",
        markup=False,
        highlight=False,
    )
    for r in result.rules.values():
        say(f"  {r.name:<11} pass {r.passed:>7}  fail {r.failed:>7}", markup=False, highlight=False)
        for where, cause in r.first:
            say(f"    {where}: {cause}", markup=False, highlight=False)
    target = report or files[0].parent / "validate_report.json"
    with atomic_writer(target) as fh:
        json.dump(result.as_json(), fh, indent=2, ensure_ascii=False)
    say(f"report: {target}", markup=False, highlight=False)
    sys.exit(0 if result.ok else 1)
