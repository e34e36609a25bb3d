"""The templates recipe: Alpaca records from the shipped word list and spec, schema-valid,
deterministic, splits that never share a word, skipped templates warned, bad word lists and
tokenizer folders named; the output loads with Hugging Face `datasets`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from graftwork.core.base.workspace import Workspace
from graftwork.core.rules.alpaca import ALPACA_SCHEMA, generate_alpaca, load_templates
from graftwork.core.spec.load import SpecError
from graftwork.wiring import open_tokenizer

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "data" / "templates" / "spelling.yaml"


def test_records_schema_splits_counts_and_skips() -> None:
    made = generate_alpaca(*load_templates(SPEC))
    again = generate_alpaca(*load_templates(SPEC))
    assert made.records == again.records and len(made.records) == 1250
    check = Draft7Validator(ALPACA_SCHEMA)
    assert all(not list(check.iter_errors(r)) for r in made.records)
    assert len({r["instruction"] for r in made.records}) == 1250
    seen = {}
    for split, indexes in made.splits.items():
        for i in indexes:
            rec = made.records[i]
            word = rec["output"] if rec["meta"]["template_category"] == "spelling_first" else None
            if word:
                assert seen.setdefault(word, split) == split
    assert sum(len(ix) for ix in made.splits.values()) == 1250
    assert made.counts["category"]["word_length"] == 150
    assert set(made.counts["separator_style"]) == {"space", "comma", "dash"}
    assert any("word_length.2 skipped: no values for language" in w for w in made.warnings)
    spelled = [r for r in made.records if r["meta"]["template_category"] == "word_first"]
    dash = next(r for r in spelled if r["meta"]["separator_style"] == "dash")
    word = dash["instruction"].split("'")[1] if "'" in dash["instruction"] else None
    assert word is None or dash["output"] == "-".join(word)


def _spec(tmp: Path, words: bytes, extra: str = "") -> Path:
    (tmp / "w.txt").write_bytes(words)
    path = tmp / "s.yaml"
    path.write_text(
        "dataset: {name: t}\nvariables: {word: {file: w.txt}}\n" + extra + "categories:\n"
        "  c: {count: 3, templates: ['Spell {{ word }}']}\n",
        encoding="utf-8",
    )
    return path


def test_bad_word_lists_and_tokenizer_folders(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="holds no values"):
        load_templates(_spec(tmp_path, b"\n\n"))
    with pytest.raises(SpecError, match="is not UTF-8"):
        load_templates(_spec(tmp_path, b"caf\xe9\n"))
    extra = "words: {tokenizer: nowhere, tokens: single}\n"
    with pytest.raises(SpecError, match=r"words\.tokenizer.*no tokenizer\.json"):
        load_templates(_spec(tmp_path, b"cat\ndog\n", extra), open_tokenizer)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "tokenizer.json").write_text('{"model": ', encoding="utf-8")
    extra = "words: {tokenizer: broken, tokens: single}\n"
    with pytest.raises(SpecError, match=r"words\.tokenizer.*not a usable tokenizer"):
        load_templates(_spec(tmp_path, b"cat\ndog\n", extra), open_tokenizer)


def test_counts_past_the_words_make_what_is_possible_and_say_so(tmp_path: Path) -> None:
    made = generate_alpaca(*load_templates(_spec(tmp_path, b"cat\ndog\n")))
    assert sorted(r["output"] for r in made.records) == ["cat", "dog"]
    assert any("3 prompts asked, only 2 possible without repeats" in w for w in made.warnings)


def test_a_record_the_schema_refuses_is_left_out_with_the_schemas_words(tmp_path: Path) -> None:
    path = _spec(tmp_path, b"cat\ndog\n")
    path.write_text(
        path.read_text().replace(
            "['Spell {{ word }}']", "['Spell {{ word }}'], output: \"{{ '' }}\""
        ),
        encoding="utf-8",
    )
    made = generate_alpaca(*load_templates(path))
    assert made.records == []
    assert any("left out: '' should be non-empty" in w for w in made.warnings), made.warnings


def test_single_token_filter_with_a_real_tokenizer(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path / "tok"
    folder.mkdir()
    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "cat": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    loaded, _ = load_templates(
        _spec(tmp_path, b"cat\nelephant\n", "words: {tokenizer: tok, tokens: single}\n"),
        open_tokenizer,
    )
    assert loaded.categories[0].values["word"].items == ("cat",)  # elephant is [UNK]
    with pytest.raises(SpecError, match="no word is left"):
        load_templates(
            _spec(tmp_path, b"cat\nelephant\n", "words: {tokenizer: tok, tokens: multi}\n"),
            open_tokenizer,
        )


def test_stage_writes_splits_that_load_with_datasets(workspace: Workspace) -> None:
    workspace.config_path.write_text("recipe: templates\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "graftwork",
            "-w",
            str(workspace.root),
            "templates",
            "--spec",
            str(SPEC),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "generated 1250 record(s)" in proc.stdout and "word_length 150" in proc.stdout
    out = workspace.root / "data" / "processed" / "templates"
    lines = (out / "spelling_v1.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["meta"]["template_category"]
    with workspace.catalog() as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 1250
    datasets = pytest.importorskip("datasets")
    files = {s: str(out / f"{s}.jsonl") for s in ("train", "val", "test")}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(workspace.root / "hf"))
    assert sum(len(loaded[s]) for s in files) == 1250
    assert set(loaded["train"].column_names) == {"instruction", "input", "output", "meta"}
