"""`graftwork ship`: each target produced from a real run of a tiny llama model and read back
(mlx-lm loads the folders, the reference `gguf` reader opens the GGUF), and bad input refused
in one line. Apple's toolkit is our fake (tests/support/fake_apple_toolkit) and so is the
`ollama` executable in the one test that needs it installed (ollama cannot run here); the
rest is real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from support import ship_world, tiny_model
from support.cli import one_line, run_main
from support.readonly import read_only
from support.ship_world import SYSTEM, make_trained_run

from graftwork.core.base.workspace import Workspace

pytestmark = pytest.mark.mlx

llama_world = ship_world.llama_world  # session fixtures, made visible here
quantized_llama_world = ship_world.quantized_llama_world
tiny_model_dir = tiny_model.tiny_model_dir
FAKE_TOOLKIT = Path(__file__).resolve().parent / "support" / "fake_apple_toolkit"
RUN = "20261201-100000-tiny-abcd"


@pytest.fixture
def run_ws(workspace: Workspace, llama_world: tuple[Path, Path]) -> Workspace:
    model, adapter = llama_world
    make_trained_run(workspace, model, adapter, run_id=RUN)
    return workspace


def _mlx(code: str, *args: str) -> list[str]:
    """Run ``code`` with mlx in a child process; its stdout words."""
    from graftwork.adapters.mlx.trainer import child_env

    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


# For each model folder: the class of its first q_proj, whether LoRA layers are left, and the
# sum of that projection's absolute weights (dequantized when quantized).
_WEIGHT = (
    "import sys, mlx.core as mx; from mlx_lm import load\n"
    "for path in sys.argv[1:]:\n"
    "    m, _ = load(path); w = m.layers[0].self_attn.q_proj\n"
    "    x = mx.dequantize(w.weight, w.scales, w.biases, w.group_size, w.bits) "
    "if hasattr(w, 'scales') else w.weight\n"
    "    print(type(w).__name__, 'lora_a' in str(m.parameters().keys()), float(mx.abs(x).sum()))"
)


def test_mlx_target_is_the_fused_model_with_a_model_card(
    run_ws: Workspace, llama_world: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, _ = llama_world
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "mlx") == 0
    out = run_ws.runs_dir / RUN / "ship" / "mlx-best"
    assert str(out) in capsys.readouterr().out
    kind, has_lora, fused_sum, _, _, base_sum = _mlx(_WEIGHT, str(out), str(model))
    assert kind == "Linear" and has_lora == "False"  # a plain model: LoRA fused in
    assert abs(float(fused_sum) - float(base_sum)) > 1e-3  # and it changed the weights

    card = (out / "README.md").read_text()
    manifest_hash = json.loads(run_main_json(run_ws))["dataset_manifest_sha256"]
    assert f"`{model}` (llama)" in card and "`tiny`" in card
    assert f"`{manifest_hash}`" in card and len(manifest_hash) == 64
    assert "| Data licences | unknown (8 examples) |" in card  # the tiny set has no licences
    assert "Not evaluated." in card and '"learning_rate": 0.0001' in card
    record = json.loads((out / "ship.json").read_text())
    assert record["target"] == "mlx" and record["files"]["model.safetensors"] > 0
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # nothing left beside


def run_main_json(ws: Workspace) -> str:
    with ws.catalog() as db:
        row = db.execute("select dataset_manifest_sha256 from runs").fetchone()
    return json.dumps({"dataset_manifest_sha256": row[0]})


def test_mlx_quantized_4_bits_loads(run_ws: Workspace) -> None:
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "mlx", "--quantize", "4", "--last") == 0
    out = run_ws.runs_dir / RUN / "ship" / "mlx-q4-last"
    config = json.loads((out / "config.json").read_text())
    assert config["quantization"]["bits"] == 4
    kind, has_lora, _ = _mlx(_WEIGHT, str(out))
    assert kind == "QuantizedLinear" and has_lora == "False"
    assert "4-bit (mlx-lm)" in (out / "README.md").read_text()


def test_gguf_target_reads_back_with_the_gguf_package(
    run_ws: Workspace,
    llama_world: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import gguf

    from graftwork.core.eval.store import Score, record_scores

    model, _ = llama_world
    with run_ws.catalog() as db:  # an evaluation as `graftwork eval` stores it
        record_scores(
            db,
            RUN,
            checkpoint="best",
            source="split:test",
            scores=[Score("base", "perplexity", 812.5, 8), Score("adapter", "perplexity", 3.25, 8)],
        )
    outs = tmp_path / "outs"
    out = outs / "shipped"
    out.mkdir(parents=True)
    (out / "mine.txt").write_text("keep me")
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "gguf", "--out", str(out)) == 2
    assert "--force" in one_line(capsys.readouterr().err)
    assert (out / "mine.txt").read_text() == "keep me"
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "gguf", "--out", str(out), "--force") == 0
    assert [p.name for p in outs.iterdir()] == ["shipped"]  # no .partial or .old left
    card = (out / "README.md").read_text()
    assert "| perplexity | 812.5 | 3.25 | 8 | split:test | best |" in card
    assert "Not evaluated" not in card
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "model.gguf", "ship.json"]
    reader = gguf.GGUFReader(out / "model.gguf")
    config = json.loads((model / "config.json").read_text())
    hidden, layers, vocab = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
    tensors = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    # 9 per layer (q k v o, gate up down, 2 norms) + embeddings + final norm (output is tied)
    assert len(tensors) == 9 * layers + 2
    assert tensors["token_embd.weight"] == [hidden, vocab]  # GGUF lists dimensions innermost first
    assert tensors["blk.0.attn_q.weight"] == [hidden, hidden]
    assert tensors["blk.1.ffn_down.weight"] == [config["intermediate_size"], hidden]
    assert tensors["output_norm.weight"] == [hidden]
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert types["blk.0.attn_q.weight"] == "F16" and types["output_norm.weight"] == "F32"

    def field(key: str):
        return reader.fields[key].contents()

    tokenizer = json.loads((model / "tokenizer.json").read_text())
    assert field("general.architecture") == "llama"
    assert field("tokenizer.ggml.model") == "gpt2"  # byte-level BPE, with its merges
    assert len(field("tokenizer.ggml.merges")) == len(tokenizer["model"]["merges"])
    tokens = field("tokenizer.ggml.tokens")
    assert len(tokens) == vocab and tokens[2] == "<|im_end|>"
    assert field("tokenizer.ggml.eos_token_id") == 2
    assert field("tokenizer.ggml.token_type")[1] == 3  # <|im_start|> is a control token
    template = json.loads((model / "tokenizer_config.json").read_text())["chat_template"]
    assert field("tokenizer.chat_template") == template


def test_ollama_target_writes_modelfile_and_says_how_to_create(
    run_ws: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import gguf

    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # no ollama here (the child uses sys.executable)
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "ollama", "--name", "tiny-widgets") == 0
    out = run_ws.runs_dir / RUN / "ship" / "ollama-best"
    printed = capsys.readouterr().out
    assert "ollama is not installed" in printed
    assert f"ollama create tiny-widgets -f {out / 'Modelfile'}" in printed.replace("\n  ", " ")
    modelfile = (out / "Modelfile").read_text()
    assert "FROM ./model.gguf\n" in modelfile
    assert f'SYSTEM """{SYSTEM}"""' in modelfile  # the system prompt the run trained with
    assert 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'PARAMETER stop "<|im_start|>"' in modelfile
    template = modelfile.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    assert template.startswith("{{ if .System }}<|im_start|>system\n{{ .System }}")
    assert "{{ .Content }}{{ if $last }}<|im_end|>\n<|im_start|>assistant\n" in template
    assert len(gguf.GGUFReader(out / "model.gguf").tensors) == 20
    assert "ollama run tiny-widgets" in (out / "README.md").read_text()


def test_ollama_create_runs_when_ollama_is_installed(
    run_ws: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ollama cannot run here: a fake `ollama` on PATH records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    fake = bin_dir / "ollama"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        'if [ -n "$FAKE_OLLAMA_FAIL" ]; then echo "Error: no space left" >&2; exit 3; fi\n'
        'echo "success"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "ollama") == 0
    modelfile = run_ws.runs_dir / RUN / "ship" / "ollama-best" / "Modelfile"
    assert calls.read_text().split() == ["create", "tiny", "-f", str(modelfile)]
    assert "ollama create finished" in capsys.readouterr().out

    # ollama refuses: exit 1 with its reason in one line; the shipped folder stays in place
    monkeypatch.setenv("FAKE_OLLAMA_FAIL", "1")
    assert run_main(run_ws, "ship", "--run", RUN, "--to", "ollama", "--force") == 1
    line = one_line(capsys.readouterr().err)
    assert "ollama create exited with code 3: Error: no space left" in line
    assert modelfile.is_file() and (modelfile.parent / "model.gguf").is_file()


def test_fmadapter_exports_an_apple_toolkit_run_with_its_name_rules(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.review_world import make_set

    make_set(workspace, "widgets")
    make_set(workspace, "my-widgets")
    workspace.config_path.write_text(
        yaml.safe_dump(
            {"train": {"apple": {"toolkit_dir": str(FAKE_TOOLKIT), "python": sys.executable}}}
        )
    )
    assert run_main(workspace, "apple", "train", "--set", "widgets") == 0
    assert run_main(workspace, "apple", "train", "--set", "my-widgets", "--adapter-name", "mw") == 0
    with workspace.catalog() as db:
        jobs = {
            json.loads(r["params"])["set_name"]: r["id"]
            for r in db.query("select id, params from jobs where kind = 'apple.train'")
        }
    capsys.readouterr()
    run = f"apple-{jobs['widgets']}"
    assert run_main(workspace, "ship", "--run", run, "--to", "fmadapter") == 0
    out = workspace.runs_dir / run / "ship" / "fmadapter-best"
    meta = json.loads((out / "widgets.fmadapter" / "metadata.json").read_text())
    assert meta["adapterIdentifier"].startswith("fmadapter-widgets-")
    card = (out / "README.md").read_text()
    assert "Apple on-device Foundation Model" in card and "Apple's toolkit export" in card
    assert "(the set as it is now: the run did not record it)" in card

    # a set name Apple's runtime refuses: said before the toolkit runs, nothing written
    bad = f"apple-{jobs['my-widgets']}"
    assert run_main(workspace, "ship", "--run", bad, "--to", "fmadapter") == 2
    line = one_line(capsys.readouterr().err)
    assert "'my-widgets' is not allowed" in line and "Try 'my_widgets' (--name" in line
    assert not (workspace.runs_dir / bad / "ship").exists()
    assert (
        run_main(workspace, "ship", "--run", bad, "--to", "fmadapter", "--name", "my_widgets") == 0
    )


def test_bad_input_is_one_line(
    run_ws: Workspace,
    tiny_model_dir: Path,
    llama_world: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_trained_run(
        run_ws, tiny_model_dir, None, set_name="qwen", run_id="20261201-110000-qwen-1234"
    )
    cases = [
        (["--run", "nothing", "--to", "mlx"], "no run 'nothing'"),
        (["--run", RUN, "--to", "onnx"], "choose one of mlx, gguf, ollama, fmadapter"),
        (["--run", RUN, "--to", "mlx", "--quantize", "3"], "--quantize takes 4 or 8"),
        (["--run", RUN, "--to", "gguf", "--quantize", "4"], "use --to mlx --quantize 4"),
        (["--run", "20261201-110000", "--to", "mlx"], "has no best adapter"),
        (["--run", RUN, "--to", "ollama", "--name", "My Model"], "Try 'my-model'"),
        (["--run", RUN, "--to", "fmadapter"], "is an mlx-lm LoRA run"),
        (["--run", RUN, "--to", "mlx", "--out", str(run_ws.runs_dir)], "would replace"),
    ]
    for args, expected in cases:
        assert run_main(run_ws, "ship", *args) == 2, args
        assert expected in one_line(capsys.readouterr().err), args
    assert not (run_ws.runs_dir / RUN / "ship").exists()  # nothing started


def test_unsupported_architecture_names_what_works(
    run_ws: Workspace, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the check reads the base model's config.json before any mlx work: a stand-in adapter file
    make_trained_run(run_ws, tiny_model_dir, None, set_name="q", run_id="20261201-120000-q-1")
    (run_ws.runs_dir / "20261201-120000-q-1" / "adapters" / "best").mkdir(parents=True)
    (
        run_ws.runs_dir / "20261201-120000-q-1" / "adapters" / "best" / "adapters.safetensors"
    ).write_bytes(b"x")
    assert run_main(run_ws, "ship", "--run", "20261201-120000", "--to", "ollama") == 2
    line = one_line(capsys.readouterr().err)
    assert "qwen2" in line and "llama, mistral, mixtral" in line and "--to mlx" in line


def test_unwritable_out_is_one_line(
    run_ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        code = run_main(run_ws, "ship", "--run", RUN, "--to", "mlx", "--out", str(locked / "m"))
    assert code == 2
    assert "is not writable" in one_line(capsys.readouterr().err)


def test_a_killed_ship_leaves_nothing_half_written(run_ws: Workspace, tmp_path: Path) -> None:
    tmp_path = tmp_path / "outs"
    tmp_path.mkdir()
    out = tmp_path / "killed"
    env = {**os.environ, "COLUMNS": "200"}
    argv = [sys.executable, "-m", "graftwork", "-w", str(run_ws.root), "ship", "--run", RUN]
    proc = subprocess.Popen(
        [*argv, "--to", "mlx", "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".killed.*.partial")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob(".killed.*.partial")), "ship never started building"
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its mlx child, mid-build
    proc.wait()
    assert not out.exists()
    done = subprocess.run(
        [*argv, "--to", "mlx", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (out / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["killed"]  # the dead build was swept


def test_gguf_add_bos_follows_the_chat_template(llama_world: tuple[Path, Path]) -> None:
    from types import SimpleNamespace

    from transformers import AutoTokenizer

    from graftwork.adapters.mlx.ship import _template_starts_with

    model, _ = llama_world
    tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
    tokenizer.bos_token = "<|endoftext|>"
    vocab = SimpleNamespace(tokenizer=tokenizer)
    assert not _template_starts_with(vocab, "<|endoftext|>")  # ChatML writes no bos
    tokenizer.chat_template = "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"
    assert _template_starts_with(vocab, "<|endoftext|>")


def test_a_quantized_base_is_dequantized_for_gguf_and_for_other_bits(
    workspace: Workspace, quantized_llama_world: tuple[Path, Path]
) -> None:
    import gguf

    model, adapter = quantized_llama_world
    make_trained_run(workspace, model, adapter, run_id=RUN)
    assert json.loads((model / "config.json").read_text())["quantization"]["bits"] == 4
    assert run_main(workspace, "ship", "--run", RUN, "--to", "gguf") == 0
    out = workspace.runs_dir / RUN / "ship" / "gguf-best"
    tensors = {t.name: t for t in gguf.GGUFReader(out / "model.gguf").tensors}
    assert len(tensors) == 20 and "blk.0.attn_q.scales" not in tensors
    q = tensors["blk.0.attn_q.weight"]
    assert [int(n) for n in q.shape] == [64, 64] and q.tensor_type.name == "F16"
    assert "float16, dequantized from a 4-bit base" in (out / "README.md").read_text()

    assert run_main(workspace, "ship", "--run", RUN, "--to", "mlx", "--quantize", "8") == 0
    out = workspace.runs_dir / RUN / "ship" / "mlx-q8-best"
    assert json.loads((out / "config.json").read_text())["quantization"]["bits"] == 8
    kind, has_lora, _ = _mlx(_WEIGHT, str(out))
    assert kind == "QuantizedLinear" and has_lora == "False"


def test_cancel_stops_the_mlx_child_and_leaves_nothing(run_ws: Workspace, tmp_path: Path) -> None:
    # the workstation's cancel: the stage's cancel event, set once the child reports its first
    # step; the child is killed, the job ends cancelled and no folder is left
    import threading

    from graftwork.core.base.jobs import Cancelled, JobEvent
    from graftwork.core.stages import run_stage

    cancel = threading.Event()

    def on_event(event: JobEvent) -> None:
        if event.type == "log" and "loading the base model" in (event.message or ""):
            cancel.set()

    out = tmp_path / "outs" / "cancelled"
    params = {"run_id": RUN, "target": "gguf", "out": out}
    with pytest.raises(Cancelled):
        run_stage(run_ws, "ship", params, [on_event], cancel)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    with run_ws.catalog() as db:
        assert [r["state"] for r in db.query("select state from jobs where kind = 'ship'")] == [
            "cancelled"
        ]


def test_mixtral_experts_get_llama_cpp_names(workspace: Workspace, tmp_path: Path) -> None:
    import gguf

    model, adapter = ship_world.build_model_and_adapter(tmp_path / "mixtral", "mixtral")
    make_trained_run(workspace, model, adapter, run_id=RUN)
    assert run_main(workspace, "ship", "--run", RUN, "--to", "gguf") == 0
    reader = gguf.GGUFReader(workspace.runs_dir / RUN / "ship" / "gguf-best" / "model.gguf")
    tensors = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    config = json.loads((model / "config.json").read_text())
    hidden, ff = config["hidden_size"], config["intermediate_size"]
    assert tensors["blk.0.ffn_gate_exps.weight"] == [hidden, ff, 4]  # stacked, experts last
    assert tensors["blk.1.ffn_down_exps.weight"] == [ff, hidden, 4]
    assert tensors["blk.0.ffn_gate_inp.weight"] == [hidden, 4]  # the router
    assert not [name for name in tensors if "switch_mlp" in name or "moe" in name]
    assert reader.fields["llama.expert_count"].contents() == 4
    assert reader.fields["llama.expert_used_count"].contents() == 2
