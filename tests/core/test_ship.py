"""Pieces of `graftwork ship` that need no model: the chat template's translation to Ollama's
Go template, the Modelfile, whole folders written beside and renamed, and data licences."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graftwork.adapters.mlx.tiny_model import CHAT_TEMPLATE, _tokenizer_config
from graftwork.core.base.atomic import staged_dir
from graftwork.core.base.workspace import Workspace
from graftwork.core.ship.card import data_licences
from graftwork.core.ship.chat_template import (
    TokenizerFacts,
    _pieces,
    read_tokenizer_facts,
    render,
    render_pieces,
    translate,
)
from graftwork.core.ship.modelfile import check_ollama_name, modelfile_text

CHATML = TokenizerFacts(
    CHAT_TEMPLATE, None, "<|im_end|>", ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
)
# Llama 3's shape (our own rendition): bos written by the template, headers per role.
LLAMA3 = TokenizerFacts(
    "{{- bos_token }}{%- for m in messages %}"
    "{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}",
    "<|begin_of_text|>",
    "<|eot_id|>",
    ("<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"),
)
# Gemma's shape: no system role, the system text opens the first user turn.
GEMMA = TokenizerFacts(
    "{{ bos_token }}{% set ns = namespace(prefix='') %}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.prefix = m['content'] + '\n\n' %}"
    "{% else %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
    "{{ '<start_of_turn>' + role + '\n' }}{% if loop.index0 == 1 or (loop.first and role == 'user') %}"
    "{{ ns.prefix }}{% endif %}{{ m['content'] | trim }}<end_of_turn>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
    "<bos>",
    "<eos>",
    ("<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"),
)
# Llama 2's shape: [INST] turns, the system text in <<SYS>> inside the first one, eos and bos
# around every answer.
LLAMA2 = TokenizerFacts(
    "{% for m in messages %}{% if m['role'] == 'system' %}{% set sys = m['content'] %}"
    "{% elif m['role'] == 'user' %}{{ bos_token + '[INST] ' }}"
    "{% if loop.index0 == 1 and messages[0]['role'] == 'system' %}"
    "{{ '<<SYS>>\n' + messages[0]['content'] + '\n<</SYS>>\n\n' }}{% endif %}"
    "{{ m['content'] + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}"
    "{% endif %}{% endfor %}",
    "<s>",
    "</s>",
    ("<s>", "</s>"),
)
FAMILIES = [CHATML, LLAMA3, GEMMA, LLAMA2]
FAMILY_IDS = ["chatml", "llama3", "gemma", "llama2"]
CONVERSATION = [
    {"role": "user", "content": "One"},
    {"role": "assistant", "content": "Two"},
    {"role": "user", "content": "Three"},
    {"role": "assistant", "content": "Four"},
    {"role": "user", "content": "Five"},
]


def _jinja(facts: TokenizerFacts, convo: list[dict[str, str]]) -> str:
    """What the model's own chat template writes for ``convo`` before the next answer."""
    return render(
        facts.chat_template or "",
        convo,
        add_generation_prompt=True,
        bos_token=facts.bos_token,
        eos_token=facts.eos_token,
    )


@pytest.mark.parametrize("facts", FAMILIES, ids=FAMILY_IDS)
def test_translation_writes_what_the_jinja_template_writes(facts: TokenizerFacts) -> None:
    result = translate(facts)
    assert result.go_template is not None, result.note
    pieces = _pieces(facts)
    assert not isinstance(pieces, str)
    for system in ("Be kind.", None):
        convo = ([{"role": "system", "content": system}] if system else []) + CONVERSATION
        jinja = _jinja(facts, convo)
        assert pieces.bos + render_pieces(pieces, system, CONVERSATION) == jinja
    assert "{{ .System }}" in result.go_template and "{{ .Content }}" in result.go_template
    # the runtime writes the leading bos (a bos between turns is the template's own text)
    assert not result.go_template.startswith(facts.bos_token or "<none>")


@pytest.mark.parametrize("facts", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("system", ["Be kind.", None])
@pytest.mark.parametrize("turns", [1, 3, 5])
def test_the_go_template_itself_writes_what_jinja_writes(
    facts: TokenizerFacts, system: str | None, turns: int
) -> None:
    # the Modelfile's TEMPLATE text run by an interpreter of Go's text/template subset, with
    # the data Ollama gives it (.System, and .Messages, which also holds the system turn)
    from support.go_template import execute

    go = translate(facts).go_template
    assert go is not None
    convo = ([{"role": "system", "content": system}] if system else []) + CONVERSATION[:turns]
    jinja = _jinja(facts, convo)
    messages = [{"Role": m["role"], "Content": m["content"]} for m in convo]
    written = execute(go, {"System": system or "", "Messages": messages})
    assert (facts.bos_token or "") + written == jinja


def test_the_go_template_interpreter_knows_its_subset() -> None:
    from support.go_template import execute

    data = {"Xs": ["a", "b", "c"], "S": "hi"}
    assert (
        execute(
            "{{ range $i, $x := .Xs }}{{ if eq $i 0 }}[{{ else }},{{ end }}{{ $x }}{{ end }}]", data
        )
        == "[a,b,c]"
    )
    assert execute("{{ $n := 0 }}{{ range .Xs }}{{ $n = . }}{{ end }}{{ $n }}", data) == "c"
    assert execute("x  {{- .S -}}  y {{ len (slice .Xs 1) }}", data) == "xhiy 2"
    with pytest.raises(ValueError):
        execute("{{ if .S }}open", data)


def test_stops_are_eos_and_the_turn_tokens_never_bos() -> None:
    assert translate(CHATML).stops == ("<|im_end|>", "<|im_start|>")
    assert translate(LLAMA3).stops == ("<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>")


def test_untranslatable_templates_say_why() -> None:
    # Mistral's old template refuses a system turn: no cut can be made on our conversation.
    mistral = TokenizerFacts(
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
        "{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}"
        "{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}",
        "<s>",
        "</s>",
    )
    result = translate(mistral)
    assert result.go_template is None and "Only user and assistant" in result.note
    whispering = TokenizerFacts(
        "{% for m in messages %}{{ m['content'] | lower }}\n{% endfor %}", None, None
    )
    assert "rewrites" in translate(whispering).note
    assert translate(TokenizerFacts(None, None, None)).note == "the model has no chat template"


def test_tokenizer_facts_from_a_model_folder(tmp_path: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config()))
    facts = read_tokenizer_facts(tmp_path)
    assert facts.chat_template == CHAT_TEMPLATE and facts.eos_token == "<|im_end|>"
    assert set(facts.special_tokens) == {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    (tmp_path / "chat_template.jinja").write_text("{{ messages[0].content }}")  # newer layout wins
    assert read_tokenizer_facts(tmp_path).chat_template == "{{ messages[0].content }}"
    (tmp_path / "chat_template.jinja").unlink()
    cfg = {
        "chat_template": [
            {"name": "tool_use", "template": "x"},
            {"name": "default", "template": "d"},
        ]
    }
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    assert read_tokenizer_facts(tmp_path).chat_template == "d"


def test_modelfile_content() -> None:
    text = modelfile_text("model.gguf", translate(CHATML), 'Say "hi".', "graftwork ship")
    assert "FROM ./model.gguf\n" in text
    assert 'SYSTEM """Say "hi"."""\n' in text
    assert text.count("PARAMETER stop ") == 2 and 'PARAMETER stop "<|im_end|>"\n' in text
    assert 'TEMPLATE """{{ if .System }}<|im_start|>system\n' in text
    bare = modelfile_text("model.gguf", translate(TokenizerFacts(None, None, "</s>")), '"""', "x")
    assert "TEMPLATE" not in bare.replace("no TEMPLATE", "")
    assert "# SYSTEM left out" in bare and 'PARAMETER stop "</s>"' not in bare  # no translation


def test_ollama_names() -> None:
    assert check_ollama_name("tiny-widgets:v1") == "tiny-widgets:v1"
    with pytest.raises(Exception, match="Try 'my-model'"):
        check_ollama_name("My Model")


def test_staged_dir_publishes_whole_or_not_at_all(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with staged_dir(dest) as stage:
        (stage / "a.txt").write_text("1")
        assert not dest.exists()
    assert (dest / "a.txt").read_text() == "1" and oct(dest.stat().st_mode & 0o777) != "0o700"
    with pytest.raises(RuntimeError), staged_dir(tmp_path / "failed") as stage:
        (stage / "half").write_text("x")
        raise RuntimeError("boom")
    assert not (tmp_path / "failed").exists()
    with pytest.raises(FileExistsError), staged_dir(dest) as stage:
        (stage / "b.txt").write_text("2")
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt"]
    with staged_dir(dest, replace=True) as stage:
        (stage / "b.txt").write_text("2")
    assert sorted(p.name for p in dest.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_dir_of_a_killed_writer_is_swept(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from graftwork.core.base.atomic import staged_dir
        with staged_dir(Path(sys.argv[1])) as stage:
            (stage / "half.bin").write_bytes(b"x" * 1000)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    dest = tmp_path / "model"
    subprocess.run([sys.executable, "-c", script, str(dest)], check=False)
    left = [p.name for p in tmp_path.iterdir()]
    assert not dest.exists() and len(left) == 1 and left[0].endswith(".partial")
    with staged_dir(dest) as stage:
        (stage / "whole.bin").write_bytes(b"y")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_data_licences_from_readme_repositories(workspace: Workspace) -> None:
    manifest = workspace.datasets_dir / "s" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    ids = ["a#1", "a#2", "b#1", "plain"]
    manifest.write_text(json.dumps({"items": [{"id": i} for i in ids]}))
    with workspace.catalog() as db:
        db["readme_repos"].insert_all(
            [
                {"id": "a", "location": "a", "license": "MIT"},
                {"id": "b", "location": "b", "license": ""},
            ]
        )
        db["readme_chunks"].insert_all(
            [{"item_id": i, "repo_id": i.split("#")[0]} for i in ids[:3]]
        )
        assert data_licences(db, manifest) == {"MIT": 2, "unknown": 2}
        assert data_licences(db, manifest.with_name("missing.json")) == {}


def test_card_scores_say_which_adapter_was_evaluated() -> None:
    from graftwork.core.ship.card import CardFacts, card_text

    facts = CardFacts(
        title="t",
        target="mlx",
        quantize=8,
        base_model="m",
        architecture="llama",
        run_id="r",
        which="last",
        set_name="s",
        manifest_sha256="abc",
        licences={"MIT": 3},
        config={},
        scores=[
            {
                "metric": "judge_win_rate",
                "base": None,
                "adapter": None,
                "pair": 0.75,
                "n": 4,
                "source": "suite:s.jsonl",
                "checkpoint": "best",
            }
        ],
        usage={"out": "/o"},
    )
    text = card_text(facts)
    assert "| judge_win_rate | - | - | 0.75 | 4 | suite:s.jsonl | best |" in text
    assert "These scores are for the best adapter; this model is the last one." in text
    assert 'license: "MIT"' in text and "8-bit (mlx-lm)" in text
