"""Ship a run's model with mlx-lm: fuse the adapter into the base model, quantize it with
mlx-lm's converter, save an mlx model folder or write a GGUF file with mlx-lm's exporter.

The work runs in a child process (MLX never runs in the caller's process or threads: P4):
`python -m graftwork.adapters.mlx.ship REQUEST_JSON`. The child prints one line per step; the
parent hands them to the job's log.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Cancelled

if TYPE_CHECKING:  # the child process stays light: it never needs the stage's module
    from graftwork.core.ship.ship import BuildSpec


class MlxShipError(GraftworkError):
    pass


class MlxShipper:
    """The mlx-lm side of `graftwork ship` (core/ship/ship.py's ModelBuilder port)."""

    def model_dir(self, model: str) -> Path:
        """The base model's local folder: a path, or a snapshot already in the Hugging Face
        cache (never downloaded: shipping works offline)."""
        path = Path(model).expanduser()
        if path.is_dir():
            return path
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True))
        except Exception as exc:  # not a repo id, not cached: one line, not the hub's story
            raise MlxShipError(
                f"base model {model!r} is neither a folder nor in the local Hugging Face cache "
                f"({type(exc).__name__})"
            ) from exc

    def build(
        self,
        spec: BuildSpec,
        log: Callable[[str], None],
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Run the build in the child; its step lines go to ``log``; ``should_stop`` (polled
        every 0.2 s) kills the child and raises Cancelled."""
        from graftwork.adapters.mlx.trainer import child_env

        request = {
            "model": str(self.model_dir(spec.model)),
            "adapter": str(spec.adapter),
            "out": str(spec.out),
            "quantize": spec.quantize,
            "gguf": str(spec.gguf) if spec.gguf else None,
            "name": spec.name,
        }
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as err_file:
            # stderr to a file: a chatty library can never fill a pipe nobody reads
            proc = subprocess.Popen(
                [sys.executable, "-m", "graftwork.adapters.mlx.ship", json.dumps(request)],
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=err_file,
                text=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
            try:
                while (line := _next_line(lines, should_stop)) is not None:
                    if line.startswith("step: "):
                        log(line[len("step: ") :].rstrip())
                code = proc.wait()
            finally:
                if proc.poll() is None:  # cancelled, Ctrl-C or a failure: no orphan child
                    proc.kill()
                    proc.wait()
            err_file.seek(0)
            err = err_file.read()
        if code != 0:
            tail = "\n".join(err.strip().splitlines()[-5:])
            raise MlxShipError(f"mlx-lm could not ship the model:\n{tail}")


def _pump(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    """The child's stdout, line by line, then None (read in a thread: the caller polls)."""
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _next_line(lines: queue.Queue[str | None], should_stop: Callable[[], bool]) -> str | None:
    while True:
        if should_stop():
            raise Cancelled("ship cancelled")
        try:
            return lines.get(timeout=0.2)
        except queue.Empty:
            continue


# ---- the child ----------------------------------------------------------------------------


def _step(message: str) -> None:
    print(f"step: {message}", flush=True)


def _fused(model_path: str, adapter_path: str, dequantize: bool) -> tuple[Any, Any, dict[str, Any]]:
    """The base model with the adapter fused in; ``dequantize`` turns a quantized base into
    float weights (for GGUF, or to quantize again with other bits)."""
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import dequantize_model, load

    model, tokenizer, config = load(model_path, adapter_path=adapter_path, return_config=True)
    fused = [
        (name, m.fuse(dequantize=dequantize))
        for name, m in model.named_modules()
        if hasattr(m, "fuse")
    ]
    if fused:
        model.update_modules(tree_unflatten(fused))
    if dequantize:
        model = dequantize_model(model)
        config.pop("quantization", None)
        config.pop("quantization_config", None)
    return model, tokenizer, config


# llama.cpp names the pre-tokenizer of byte-level BPE vocabularies; Llama 3's split regex is
# the one llama-architecture family we know by its regex, everything else is "default".
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _split_regexes(pre: dict[str, Any] | None) -> list[str]:
    if not isinstance(pre, dict):
        return []
    if pre.get("type") == "Sequence":
        return [r for p in pre.get("pretokenizers") or [] for r in _split_regexes(p)]
    pattern = pre.get("pattern") or {}
    return [pattern["Regex"]] if pre.get("type") == "Split" and "Regex" in pattern else []


def tokenizer_metadata(model_dir: Path, chat_template: str | None, name: str) -> dict[str, Any]:
    """GGUF keys mlx-lm's exporter leaves out: the chat template, and for byte-level BPE
    vocabularies (Llama 3 style, no byte fallback) the `gpt2` tokenizer model with its merges,
    which llama.cpp needs to tokenize them (mlx-lm writes every vocabulary as SentencePiece)."""
    meta: dict[str, Any] = {"general.name": name}
    if chat_template:
        meta["tokenizer.chat_template"] = chat_template
    try:
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return meta
    bpe = spec.get("model") or {}
    if bpe.get("type") == "BPE" and not bpe.get("byte_fallback"):
        merges = [m if isinstance(m, str) else " ".join(m) for m in bpe.get("merges") or []]
        meta["tokenizer.ggml.model"] = "gpt2"
        meta["tokenizer.ggml.merges"] = merges
        regexes = _split_regexes(spec.get("pre_tokenizer"))
        meta["tokenizer.ggml.pre"] = "llama-bpe" if _LLAMA3_SPLIT in regexes else "default"
    return meta


def _template_starts_with(vocab: Any, bos: str) -> bool:
    try:
        text = vocab.tokenizer.apply_chat_template(
            [{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=True
        )
    except Exception:  # no chat template, or one that refuses this: mlx-lm's default stays
        return True
    return isinstance(text, str) and text.startswith(bos)


# mlx-lm keeps a mixture of experts' weights stacked (switch_mlp, experts first); the
# exporter only knows per-expert names, llama.cpp reads stacked ones as ffn_*_exps.
_EXPERTS = re.compile(r"block_sparse_moe\.switch_mlp\.(gate|up|down)_proj\.")


def _stacked_expert_name(name: str) -> str:
    return _EXPERTS.sub(lambda m: f"ffn_{m.group(1)}_exps.", name)


def _write_gguf(model: Any, tokenizer: Any, config: dict[str, Any], req: dict[str, Any]) -> None:
    import mlx.core as mx
    import mlx_lm.gguf as mlx_gguf
    from mlx.utils import tree_flatten

    model_dir = Path(req["model"])
    extra = tokenizer_metadata(model_dir, getattr(tokenizer, "chat_template", None), req["name"])
    prepare = mlx_gguf.prepare_metadata

    def prepare_with_ours(config: dict[str, Any], vocab: Any) -> dict[str, Any]:
        meta = {**prepare(config, vocab), **extra}
        # every special added token is a control token (mlx-lm marks only bos/eos/pad/unk), so
        # llama.cpp never splits or prints <|im_start|> and its kind
        specials = set(vocab.tokenizer.all_special_tokens) | {
            t.content for t in vocab.tokenizer.added_tokens_decoder.values() if t.special
        }
        types = [
            3 if token in specials else kind
            for token, kind in zip(
                meta["tokenizer.ggml.tokens"],
                meta["tokenizer.ggml.token_type"].tolist(),
                strict=True,
            )
        ]
        meta["tokenizer.ggml.token_type"] = mx.array(types, dtype=mx.uint32)
        bos = vocab.tokenizer.bos_token
        if bos:  # the runtime writes bos when the chat template starts with it (Ollama's
            # TEMPLATE leaves it out); a template without it must not get one
            meta["tokenizer.ggml.add_bos_token"] = mx.array(_template_starts_with(vocab, bos))
        if vocab.tokenizer.pad_token_id is not None:
            meta["tokenizer.ggml.padding_token_id"] = mx.array(
                vocab.tokenizer.pad_token_id, dtype=mx.uint32
            )
        return meta

    # mlx-lm's exporter takes its metadata from this module-level function; ours adds to it.
    mlx_gguf.prepare_metadata = prepare_with_ours
    config = {**config}
    config.setdefault("num_key_value_heads", config["num_attention_heads"])
    # float16, as the file says (general.file_type F16); the exporter keeps norms in float32
    weights = {
        _stacked_expert_name(k): v.astype(mx.float16) if mx.issubdtype(v.dtype, mx.floating) else v
        for k, v in tree_flatten(model.parameters())
    }
    mlx_gguf.convert_to_gguf(model_dir, weights, config, req["gguf"])


def _base_config(model_dir: str) -> dict[str, Any]:
    try:
        return json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def main(request: str) -> None:
    import contextlib
    import io

    req = json.loads(request)
    _step("loading the base model and the adapter")
    base_quantized = bool(_base_config(req["model"]).get("quantization"))
    dequantize = base_quantized and bool(req.get("gguf") or req.get("quantize"))
    model, tokenizer, config = _fused(req["model"], req["adapter"], dequantize)
    _step("fused the adapter into the base model" + (" and dequantized it" if dequantize else ""))
    if req.get("quantize"):
        from mlx_lm.utils import quantize_model

        model, config = quantize_model(model, config, 64, int(req["quantize"]))
        _step(f"quantized to {req['quantize']} bits")
    with contextlib.redirect_stdout(io.StringIO()):  # the library's own prints are not steps
        if req.get("gguf"):
            _write_gguf(model, tokenizer, config, req)
        else:
            from mlx_lm.utils import save

            save(Path(req["out"]), req["model"], model, tokenizer, config, donate_model=False)
    _step("wrote " + ("the GGUF file" if req.get("gguf") else "the mlx model folder"))


if __name__ == "__main__":
    main(sys.argv[1])
