"""The buckets recipe: generation from the shipped example spec (deterministic, no duplicates,
rule responders valid), bad specs, the catalog, and `graftwork validate` with a real offline
tokenizer built here with the `tokenizers` library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graftwork.core.base.config import configs_dir
from graftwork.core.base.workspace import Workspace
from graftwork.core.rules.buckets import generate, load_buckets
from graftwork.core.rules.tools import check_output, default_tools_path, read_tools
from graftwork.core.spec.load import SpecError

SPEC = configs_dir() / "specs" / "buckets_coding.yaml"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graftwork", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_shipped_tools_are_the_eleven_continue_tools() -> None:
    tools = read_tools(default_tools_path())
    assert sorted(tools) == sorted(
        [
            "read_file",
            "create_new_file",
            "run_terminal_command",
            "file_glob_search",
            "view_diff",
            "read_currently_open_file",
            "ls",
            "create_rule_block",
            "fetch_url_content",
            "edit_existing_file",
            "single_find_and_replace",
        ]
    )


def test_generation_is_deterministic_unique_and_rule_valid() -> None:
    loaded, tools = load_buckets(SPEC)
    first, again = generate(loaded, tools), generate(*load_buckets(SPEC))
    assert first.records == again.records
    assert {b: m for b, (m, _t) in first.counts.items()} == {
        "tool_core": 120, "tool_neg": 40, "style_core": 10, "style_refactor": 10,
        "guardrail": 15, "eval": 10,
    }  # fmt: skip
    every = [r for recs in first.records.values() for r in recs]
    assert len({json.dumps(r, sort_keys=True) for r in every}) == len(every)
    for rec in first.records["tool_core"]:
        assert check_output("tool_core", rec["output"], tools) is None
        call = json.loads(rec["output"])
        assert call["tool"] in tools and not tools[call["tool"]].problems(call["arguments"])
    mistakes = {json.loads(r["output"])["mistake"] for r in first.records["tool_neg"]}
    assert mistakes == {"wrong_tool", "missing_argument", "bad_json"}
    for rec in first.records["tool_neg"]:
        out = json.loads(rec["output"])
        assert check_output("tool_neg", rec["output"], tools) is None
        assert out["mistake"] in out["explanation"]
    # A tool_neg output whose call is in fact right is caught.
    good = first.records["tool_core"][0]["output"]
    fake = json.dumps(
        {"mistake": "bad_json", "expected_tool": "read_file", "call": good, "explanation": "x"}
    )
    assert "parses" in str(check_output("tool_neg", fake, tools))


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
dataset: {name: t}
variables: {path: [a.py, b.py]}
categories:
  tool_core:
    count: 5
    responder: tool_call
    templates: [{tool: %s, text: "read {{ path }}", arguments: {filepath: "{{ path }}"}}]
"""


def test_bad_specs_name_the_cause(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown tool 'read_fil'"):
        load_and_generate(_spec(tmp_path, BASE % "read_fil"))
    bad_schema = BASE % "t1" + "tools: [{name: t1, parameters: {type: 12}}]\n"
    with pytest.raises(SpecError, match="tool t1: not a valid JSON Schema"):
        load_and_generate(_spec(tmp_path, bad_schema))
    gen = load_and_generate(_spec(tmp_path, BASE % "read_file"))
    assert gen.counts["tool_core"] == (2, 5)
    assert any("only 2 possible without repeats" in w for w in gen.warnings)


def load_and_generate(path: Path):  # type: ignore[no-untyped-def]
    return generate(*load_buckets(path))


def test_stage_writes_bucket_files_and_catalog_items(workspace: Workspace) -> None:
    workspace.config_path.write_text("recipe: buckets\n")
    proc = _cli("-w", str(workspace.root), "buckets", "--spec", str(SPEC))
    assert proc.returncode == 0, proc.stderr
    out = workspace.root / "data" / "processed" / "buckets"
    assert sorted(p.name for p in out.glob("*.jsonl")) == sorted(
        f"{b}.jsonl"
        for b in ("tool_core", "tool_neg", "style_core", "style_refactor", "guardrail", "eval")
    )
    first = json.loads((out / "tool_core.jsonl").read_text().splitlines()[0])
    assert set(first) == {"task_type", "instruction", "input", "output"}
    with workspace.catalog() as db:
        n = db.execute("SELECT COUNT(*) FROM items WHERE source = 'import'").fetchone()[0]
    assert n == 205
    # Running again changes nothing in the catalog.
    proc = _cli("-w", str(workspace.root), "buckets", "--spec", str(SPEC))
    assert proc.returncode == 0 and "generated 205" in proc.stdout
    proc = _cli(
        "validate",
        *map(str, sorted(out.glob("*.jsonl"))),
        "--rules",
        "json,fields,tool_calls,tokens",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "validate_report.json").read_text())
    assert report["records"] == 205 and report["rules"]["tool_calls"]["passed"] == 160


def _tokenizers(root: Path) -> tuple[Path, Path]:
    """A byte-level BPE (round-trips any text) and a word-level one with an unknown token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = ["read the file a.py please", "run npm test", "wrong call"] * 20
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    words = Tokenizer(models.WordLevel({"[UNK]": 0, "read": 1, "the": 2}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    out = []
    for name, tok in (("bpe", bpe), ("words", words)):
        folder = root / name
        folder.mkdir()
        tok.save(str(folder / "tokenizer.json"))
        out.append(folder)
    return out[0], out[1]


def test_validate_rules_lines_and_exit_codes(tmp_path: Path) -> None:
    bpe, words = _tokenizers(tmp_path)
    data = tmp_path / "d.jsonl"
    good = {"task_type": "tool_core", "instruction": "read a.py", "input": "p",
            "output": json.dumps({"tool": "read_file", "arguments": {"filepath": "a.py"}})}  # fmt: skip
    bad_call = {**good, "output": json.dumps({"tool": "read_file", "arguments": {}})}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "input": ""}), json.dumps(bad_call)]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _cli("validate", str(data), "--tokenizer", str(bpe), "--max-tokens", "4")
    assert proc.returncode == 1
    assert f"{data}:2: not JSON" in proc.stdout
    assert f"{data}:3: missing or empty: input" in proc.stdout
    assert f"{data}:4: read_file:" in proc.stdout and "'filepath' is a required" in proc.stdout
    report = json.loads((tmp_path / "validate_report.json").read_text())
    rules = report["rules"]
    assert rules["json"] == {**rules["json"], "passed": 3, "failed": 1}
    assert rules["tokenizer"]["failed"] == 0 and rules["tokens"]["failed"] == 3
    data.write_text(json.dumps(good) + "\n", encoding="utf-8")
    proc = _cli("validate", str(data), "--tokenizer", str(words))
    assert proc.returncode == 1 and "unknown token(s)" in proc.stdout
    assert _cli("validate", str(data), "--tokenizer", str(bpe)).returncode == 0
    proc = _cli("validate", str(data), "--tokenizer", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "no tokenizer.json" in proc.stderr
    (words / "tokenizer.json").write_text("{broken", encoding="utf-8")
    proc = _cli("validate", str(data), "--tokenizer", str(words))
    assert proc.returncode == 2 and "not a usable tokenizer" in proc.stderr
    assert "Traceback" not in proc.stderr
