"""Apple's own token counts: budget and build count with the toolkit's SentencePiece model and
chat template when train.apple.toolkit_dir is configured, and say "approximate" otherwise.

The toolkit's real tokenizer may not be redistributed: a SentencePiece model trained offline in
the test (tests/support/apple_tokenizer.py) stands in for it, laid out as the toolkit ships its
own (assets/tokenizer.model). Everything else is real: catalog, budget stage, CLI, files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.apple_tokenizer import encode, make_toolkit
from support.cli import run_main
from support.widget_rows import add_widget, widget_source

from graftwork.core.base.workspace import Workspace


def _configure(ws: Workspace, toolkit: Path | None, **tokenizer: str) -> None:
    data: dict = {}
    if toolkit is not None:
        data["train"] = {"apple": {"toolkit_dir": str(toolkit)}}
    if tokenizer:
        data["project"] = {"tokenizer": tokenizer}
    ws.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def _fill(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_widget(db, ws, "clock", order=0)
        add_widget(db, ws, "cpu", prompt="Show CPU load\nin a bar ✓", order=1)
        add_widget(db, ws, "huge", code=widget_source("huge", lines=200), order=2)


def _expected_count(line: str) -> int:
    """The toolkit's input length for one Apple JSONL line, written out here from the
    template's description (not through graftwork's renderer): sentencepiece's own encoding,
    first id dropped, EOS in front."""
    system, *turns = json.loads(line)
    text = "<turn_start> system<n>" + system["content"]
    if system.get("tools"):
        text += "<n>system tools: " + "<n>".join(
            json.dumps(t, ensure_ascii=False) for t in system["tools"]
        )
    text += "<turn_end>"
    for turn in turns:
        text += f"<turn_start> {turn['role']}<n>{turn['content']}<turn_end>"
    ids = encode(text.replace("\n", "<n>"))
    return len(ids) - 1 + 1


def _lines(ws: Workspace, set_name: str) -> dict[str, str]:
    """Item id -> the JSONL line build wrote for it (found by the manifest's sha256)."""
    import hashlib

    manifest = json.loads((ws.datasets_dir / set_name / "manifest.json").read_text())
    by_sha = {}
    for split in ("train", "valid", "test"):
        text = (ws.datasets_dir / set_name / f"{split}.jsonl").read_text(encoding="utf-8")
        for ln in text.splitlines():
            by_sha[hashlib.sha256(ln.encode()).hexdigest()] = ln
    return {i["id"]: by_sha[i["example_sha256"]] for i in manifest["items"]}


def _report(ws: Workspace) -> dict[str, dict[str, str]]:
    import csv

    with (ws.root / "widget_processing_results.csv").open(encoding="utf-8", newline="") as fh:
        return {r["PS_widgetfoldername"].split("/")[0]: r for r in csv.DictReader(fh)}


def _budget_rows(ws: Workspace) -> dict[str, tuple[int, str, str]]:
    with ws.catalog() as db:
        return {
            r["item_id"]: (r["total_tokens"], r["action"], r["tokenizer"])
            for r in db.query("select item_id, total_tokens, action, tokenizer from budget")
        }


def test_budget_counts_exactly_what_the_toolkit_sees(
    workspace: Workspace, tmp_path: Path, capsys
) -> None:
    toolkit = make_toolkit(tmp_path / "toolkit")
    _configure(workspace, toolkit)
    _fill(workspace)
    assert run_main(workspace, "build", "--set", "v1", "--max-tokens", "100000") == 0
    lines = _lines(workspace, "v1")
    assert set(lines) == {"clock", "cpu", "huge"}
    capsys.readouterr()
    assert run_main(workspace, "budget") == 0
    out = capsys.readouterr().out
    rows = _budget_rows(workspace)
    for item_id, line in lines.items():
        assert rows[item_id][0] == _expected_count(line), item_id
        assert rows[item_id][2].startswith("apple:")
    assert "exact" in out and "approximate" not in out
    analysis = json.loads((workspace.root / "training_data_size_analysis.json").read_text())
    strategy = json.loads((workspace.root / "training_data_strategy.json").read_text())
    assert analysis["token_counts"] == strategy["token_counts"] == "exact"
    # the seed's shape is intact: the added key sits beside the seed's ones
    assert {"max_sequence_length", "strategy", "summary"} <= set(strategy)
    report = _report(workspace)
    assert report["cpu"]["PS_token_counts"] == "exact"
    assert int(report["cpu"]["PS_tokens"]) == rows["cpu"][0]

    # keep/exclude at the limit is exact: == limit keeps, one more token excludes
    cpu = rows["cpu"][0]
    capsys.readouterr()
    assert run_main(workspace, "budget", "--max-tokens", str(cpu)) == 0
    assert _budget_rows(workspace)["cpu"][1] == "keep"
    assert run_main(workspace, "budget", "--max-tokens", str(cpu - 1)) == 0
    assert _budget_rows(workspace)["cpu"][1] == "exclude"
    manifest_build = run_main(workspace, "build", "--set", "v2", "--max-tokens", str(cpu - 1))
    assert manifest_build == 0
    manifest = json.loads((workspace.datasets_dir / "v2" / "manifest.json").read_text())
    assert manifest["token_counts"] == "exact"
    assert "cpu" not in {i["id"] for i in manifest["items"]}


def test_without_the_toolkit_counts_are_labelled_approximate(workspace: Workspace, capsys) -> None:
    _fill(workspace)
    assert run_main(workspace, "budget") == 0
    out = capsys.readouterr().out
    assert "approximate" in out and "train.apple.toolkit_dir" in out
    analysis = json.loads((workspace.root / "training_data_size_analysis.json").read_text())
    strategy = json.loads((workspace.root / "training_data_strategy.json").read_text())
    assert analysis["token_counts"] == strategy["token_counts"] == "approximate"
    assert all(t.startswith("tiktoken:") for _, _, t in _budget_rows(workspace).values())
    assert {r["PS_token_counts"] for r in _report(workspace).values()} == {"approximate"}
    assert run_main(workspace, "build", "--set", "v1") == 0
    assert "approximate counts" in capsys.readouterr().out
    assert run_main(workspace, "budget", "--widgets-only") == 0
    assert "code only, approximate counts" in capsys.readouterr().out
    sizes = json.loads((workspace.root / "widget_size_analysis.json").read_text())
    assert sizes["token_counts"] == "approximate"


def test_switching_tokenizers_never_reads_stale_counts(
    workspace: Workspace, tmp_path: Path
) -> None:
    _fill(workspace)
    assert run_main(workspace, "budget") == 0
    before = _budget_rows(workspace)
    toolkit = make_toolkit(tmp_path / "toolkit")
    _configure(workspace, toolkit)
    assert run_main(workspace, "build", "--set", "v1", "--max-tokens", "100000") == 0
    assert run_main(workspace, "budget") == 0
    after = _budget_rows(workspace)
    lines = _lines(workspace, "v1")
    assert {i: r[0] for i, r in after.items()} == {
        i: _expected_count(ln) for i, ln in lines.items()
    }
    assert {i: r[0] for i, r in after.items()} != {i: r[0] for i, r in before.items()}
    # and back: tiktoken's own cached counts again, not the Apple ones
    _configure(workspace, toolkit, kind="tiktoken")
    assert run_main(workspace, "budget") == 0
    assert _budget_rows(workspace) == before


def test_tokenizer_config_tokens_are_added_like_the_toolkit_does(tmp_path: Path) -> None:
    from graftwork.adapters.apple_tokenizer import AppleToolkitBackend

    plain = AppleToolkitBackend(make_toolkit(tmp_path / "a"))
    config = json.dumps({"tokenizer": {"user_defined_tokens": ["<extra_marker>", "<n>"]}})
    extended = AppleToolkitBackend(make_toolkit(tmp_path / "b", config=config))
    assert plain.count_texts(["x<extra_marker>"]) != extended.count_texts(["x<extra_marker>"])
    assert extended.count_texts(["x<extra_marker>"]) == [len(encode("x")) + 1]
    assert plain.id != extended.id  # the config is part of the tokenizer's identity


def test_a_broken_tokenizer_model_is_one_clear_line(
    workspace: Workspace, tmp_path: Path, capsys
) -> None:
    toolkit = make_toolkit(tmp_path / "toolkit")
    (toolkit / "assets" / "tokenizer.model").write_bytes(b"not a model")
    _configure(workspace, toolkit)
    _fill(workspace)
    assert run_main(workspace, "budget") == 2
    err = capsys.readouterr().err
    assert "tokenizer.model" in err and "Traceback" not in err


def test_doctor_says_how_to_make_counts_exact(workspace: Workspace, tmp_path: Path, capsys) -> None:
    assert run_main(workspace, "doctor", "--json", "--offline") == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["token counts"]["status"] == "warn"
    assert "approximate" in checks["token counts"]["detail"]
    assert "train.apple.toolkit_dir" in checks["token counts"]["hint"]
    assert "tamm" in checks
    _configure(workspace, make_toolkit(tmp_path / "toolkit"))
    assert run_main(workspace, "doctor", "--json", "--offline") == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["token counts"]["status"] == "ok"
    assert "tokenizer.model" in checks["token counts"]["detail"]


def test_rendering_matches_tamms_reference_renderer(tmp_path: Path) -> None:
    """Only where Apple's tamm (needs torch) is installed; it is never a dependency."""
    pytest.importorskip("tamm", reason="tamm is not installed: reference-renderer check skipped")
    from tamm.preprocessors.instruct_lm.afm import AFMChatTemplateV6Preprocessor
    from tamm.tokenizers.afm import AFMTokenizer

    from graftwork.adapters.apple_tokenizer import AppleToolkitBackend
    from graftwork.core.dataset.examples import Example

    toolkit = make_toolkit(tmp_path / "toolkit")
    ours = AppleToolkitBackend(toolkit)
    tool = {"type": "function", "function": {"name": "w", "arguments": {"type": "object"}}}
    example = Example(
        "x",
        [
            {"role": "system", "content": "You write widgets."},
            {"role": "user", "content": "A clock\nwith seconds ✓"},
            {"role": "assistant", "content": "export const a = 1;\n"},
        ],
        [tool],
    )
    tokenizer = AFMTokenizer(vocab_path=str(toolkit / "assets" / "tokenizer.model"))
    reference = AFMChatTemplateV6Preprocessor(
        tokenizer_spec=tokenizer, prepend_system_message=False
    )
    messages = [dict(m) for m in example.messages]
    expected = reference(messages, tools=[tool]).input_ids
    assert ours.total(ours.render(example)) == len(expected)
