"""The ship stage: turn a training run into something that runs elsewhere.

Targets: `mlx` (the fused model folder, optionally quantized), `gguf` (one float16 GGUF file,
for the architectures mlx-lm's exporter knows), `ollama` (the GGUF plus a Modelfile) and
`fmadapter` (Apple's toolkit exports a run of `graftwork apple train`). Every target folder
also holds README.md (the model card) and ship.json (what was shipped, file sizes).

Rules: every input is checked before any work starts (one line naming the cause); the folder
is built beside its destination and renamed into place (core/base/atomic.staged_dir), so a kill
never leaves a half-written model; an existing folder is replaced only with ``force``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graftwork import __version__
from graftwork.core.apple.toolkit import (
    CommandRunner,
    ToolkitFailed,
    check_adapter_name,
    export_command,
    load_apple,
    require_toolkit,
    toolkit_python,
)
from graftwork.core.base.atomic import staged_dir
from graftwork.core.base.catalog.txn import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.store import latest_scores
from graftwork.core.ship import card as card_mod
from graftwork.core.ship.chat_template import read_tokenizer_facts, translate
from graftwork.core.ship.modelfile import (
    check_ollama_name,
    create_command,
    create_command_line,
    default_ollama_name,
    modelfile_text,
)
from graftwork.core.train import runs as runs_mod

TARGETS = ("mlx", "gguf", "ollama", "fmadapter")
GGUF_ARCHITECTURES = ("llama", "mistral", "mixtral")  # what mlx-lm's GGUF exporter writes
QUANTIZE_BITS = (4, 8)
GGUF_FILE = "model.gguf"


class ShipError(GraftworkError):
    """An input ship cannot use (exit code 2: fix it and retry)."""

    exit_code = 2


@dataclass(frozen=True)
class BuildSpec:
    """One model build: fuse ``adapter`` into ``model``; save the mlx folder into ``out``
    (quantized to ``quantize`` bits when given), or, with ``gguf``, write only that file."""

    model: str
    adapter: Path
    out: Path
    quantize: int | None = None
    gguf: Path | None = None
    name: str = "model"


class ModelBuilder(Protocol):
    """Port: fuse, quantize, save and export models (adapters/mlx/ship.MlxShipper)."""

    def model_dir(self, model: str) -> Path: ...

    def build(
        self, spec: BuildSpec, log: Callable[[str], None], should_stop: Callable[[], bool]
    ) -> None: ...


@dataclass(frozen=True)
class ShipRequest:
    """What the user asked for (the stage's parameters)."""

    run_id: str
    target: str
    which: str = "best"
    quantize: int | None = None
    out: Path | None = None
    force: bool = False
    name: str | None = None


@dataclass
class ShipPorts:
    builder: ModelBuilder
    run_toolkit: CommandRunner  # Apple's export_fmadapter
    find_ollama: Callable[[], str | None]  # the ollama executable, None when not installed
    run_ollama: Callable[[list[str]], tuple[int, str]]  # (exit code, output tail)


@dataclass
class ShipPlan:
    """Everything ship will do, resolved and checked before it starts."""

    target: str
    which: str
    quantize: int | None
    out: Path
    force: bool
    run_id: str
    set_name: str | None
    name: str  # Ollama model name or .fmadapter name ("" for mlx/gguf)
    base_model: str
    architecture: str | None = None
    base_bits: int | None = None  # a quantized base model's bits (0: quantized, bits unknown)
    adapter: Path | None = None  # the mlx adapter folder
    model_dir: Path | None = None
    checkpoint: Path | None = None  # the Apple toolkit checkpoint
    run: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = None


# ---- checks --------------------------------------------------------------------------------


def _default_out(ws: Workspace, run_id: str, target: str, which: str, quantize: int | None) -> Path:
    suffix = f"-q{quantize}" if quantize else ""
    return ws.runs_dir / run_id / "ship" / f"{target}{suffix}-{which}"


def occupied(out: Path) -> bool:
    """Whether ship would replace something there (only with force; an empty folder is fine)."""
    return out.exists() and (not out.is_dir() or any(out.iterdir()))


def destination(
    ws: Workspace,
    db: Any,
    *,
    run_id: str,
    target: str,
    which: str = "best",
    quantize: int | None = None,
    out: Path | str | None = None,
) -> Path:
    """Where the stage would write this request (``out``, else the default folder), resolved
    the way the stage resolves it; nothing else is checked (the stage checks everything)."""
    if out:
        return Path(os.path.abspath(Path(out).expanduser()))
    if target == "fmadapter":
        rid = _apple_folder(ws, run_id).name
    else:
        rid = runs_mod.get_run(db, run_id)["id"]
    return _default_out(ws, rid, target, which, quantize)


def _check_out(ws: Workspace, out: Path, force: bool, keep: list[Path]) -> Path:
    """The destination: absolute, not holding what it is built from, writable, and not an
    existing folder unless ``force``."""
    out = Path(os.path.abspath(out.expanduser()))
    for precious in [ws.root, ws.runs_dir, *keep]:
        p = Path(os.path.abspath(precious))
        if out == p or out in p.parents:
            raise ShipError(f"--out {out} would replace {p}; choose a folder of its own")
    if not force and occupied(out):
        raise ShipError(f"{out} already exists; pass --force to replace it, or --out DIR")
    probe = out.parent
    while not probe.exists():
        probe = probe.parent
    try:  # a real write: permission bits say nothing for root or read-only mounts
        tempfile.TemporaryDirectory(dir=probe).cleanup()
    except OSError as exc:
        raise ShipError(
            f"cannot write {out}: {probe} is not writable ({exc.strerror or exc})"
        ) from None
    return out


def _run_system_prompt(ws: Workspace, run_id: str, limit: int = 200) -> str | None:
    """The system prompt the run trained with: the most common system message of its data."""
    path = ws.runs_dir / run_id / "data" / "train.jsonl"
    seen: Counter[str] = Counter()
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                if n >= limit:
                    break
                try:
                    messages = json.loads(line).get("messages") or []
                except (ValueError, AttributeError):
                    continue
                for m in messages:
                    if isinstance(m, dict) and m.get("role") == "system" and m.get("content"):
                        seen[str(m["content"])] += 1
    except OSError:
        return None
    return seen.most_common(1)[0][0] if seen else None


def _model_type(model_dir: Path) -> tuple[str | None, int | None]:
    """(config.json model_type, the bits of an already quantized base, else None)."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    quant = config.get("quantization") or config.get("quantization_config")
    if not quant:
        return config.get("model_type"), None
    bits = quant.get("bits") if isinstance(quant, dict) else None
    return config.get("model_type"), bits if isinstance(bits, int) else 0


def _plan_mlx_run(
    ws: Workspace,
    db: Any,
    run_id: str,
    target: str,
    which: str,
    quantize: int | None,
    name: str | None,
    builder: ModelBuilder,
) -> ShipPlan:
    run = runs_mod.get_run(db, run_id)
    rid = run["id"]
    adapter = ws.runs_dir / rid / "adapters" / which
    if not (adapter / "adapters.safetensors").is_file():
        raise ShipError(
            f"run {rid} has no {which} adapter ({adapter / 'adapters.safetensors'} is missing; "
            f"state {run.get('state')})"
        )
    model = str((run.get("config") or {}).get("model") or "")
    if not model:
        raise ShipError(f"run {rid} does not record its base model (config.model)")
    model_dir = builder.model_dir(model)
    arch, base_bits = _model_type(model_dir)
    if target in ("gguf", "ollama"):
        if arch not in GGUF_ARCHITECTURES:
            raise ShipError(
                f"run {rid}'s base model is a {arch or 'unknown'} model: mlx-lm writes GGUF only "
                f"for {', '.join(GGUF_ARCHITECTURES)}; ship it with --to mlx "
                "(optionally --quantize 4) instead"
            )
        if quantize:
            raise ShipError(
                f"--to {target} writes float16 GGUF (mlx-lm cannot write quantized GGUF); drop "
                f"--quantize, or use --to mlx --quantize {quantize}"
            )
    plan = ShipPlan(
        target=target,
        which=which,
        quantize=quantize,
        out=Path(),
        force=False,
        run_id=rid,
        set_name=run.get("set_name"),
        name="",
        base_model=model,
        architecture=arch,
        base_bits=base_bits,
        adapter=adapter,
        model_dir=model_dir,
        run=run,
    )
    if target == "ollama":
        plan.name = check_ollama_name(name or default_ollama_name(run.get("set_name") or rid))
        plan.system_prompt = _run_system_prompt(ws, rid)
    return plan


def _apple_folder(ws: Workspace, run_id: str) -> Path:
    return ws.runs_dir / (run_id if run_id.startswith("apple-") else f"apple-{run_id}")


def _plan_apple_run(
    ws: Workspace, db: Any, run_id: str, which: str, quantize: int | None, name: str | None
) -> ShipPlan:
    try:
        run = runs_mod.get_run(db, run_id)
    except runs_mod.RunNotFound:
        run = None
    if run is not None:
        raise ShipError(
            f"run {run['id']} is an mlx-lm LoRA run on {run['config'].get('model')}: an "
            ".fmadapter comes only from Apple's toolkit (`graftwork apple train --set "
            f"{run.get('set_name')}`, then ship --run apple-<job> --to fmadapter); ship this "
            "run --to mlx, gguf or ollama"
        )
    folder = _apple_folder(ws, run_id)
    if not folder.is_dir():
        raise runs_mod.RunNotFound(
            f"no run {run_id!r}: neither a training run (`graftwork runs`) nor an Apple toolkit "
            f"run ({folder} from `graftwork apple train`)"
        )
    if quantize:
        raise ShipError("--quantize does not apply to --to fmadapter (Apple's toolkit exports)")
    cfg = load_apple(ws)
    require_toolkit(cfg)
    job_id = folder.name.removeprefix("apple-")
    set_name = None
    if db["jobs"].exists():
        row = next(db.query("select params from jobs where id = ?", [job_id]), None)
        if row and row["params"]:
            set_name = (json.loads(row["params"]) or {}).get("set_name")
    adapter_name = check_adapter_name(name or cfg.adapter_name or set_name or "", "--name")
    checkpoint = (
        folder / "checkpoints" / ("adapter-final.pt" if which == "last" else cfg.export_checkpoint)
    )
    if not checkpoint.is_file():
        raise ShipError(f"Apple toolkit run {folder.name} has no checkpoint {checkpoint}")
    return ShipPlan(
        target="fmadapter",
        which=which,
        quantize=None,
        out=Path(),
        force=False,
        run_id=folder.name,
        set_name=set_name,
        name=adapter_name,
        base_model="Apple on-device Foundation Model",
        checkpoint=checkpoint,
    )


def plan_ship(ws: Workspace, db: Any, req: ShipRequest, builder: ModelBuilder) -> ShipPlan:
    """Resolve and check every input; nothing is written."""
    target, which, quantize = req.target, req.which, req.quantize
    if target not in TARGETS:
        raise ShipError(f"--to {target!r} is not a target; choose one of {', '.join(TARGETS)}")
    if which not in ("best", "last"):
        raise ShipError(f"choose the best or the last adapter, not {which!r}")
    if quantize is not None and quantize not in QUANTIZE_BITS:
        raise ShipError(f"--quantize takes 4 or 8 (bits), not {quantize!r}")
    if target == "fmadapter":
        plan = _plan_apple_run(ws, db, req.run_id, which, quantize, req.name)
        keep: list[Path] = [plan.checkpoint.parent] if plan.checkpoint else []
    else:
        plan = _plan_mlx_run(ws, db, req.run_id, target, which, quantize, req.name, builder)
        keep = [p for p in (plan.adapter, plan.model_dir) if p is not None]
    default = _default_out(ws, plan.run_id, target, which, quantize)
    plan.out = _check_out(ws, Path(req.out) if req.out else default, req.force, keep)
    plan.force = req.force
    return plan


# ---- doing it ------------------------------------------------------------------------------


def _build_fmadapter(
    plan: ShipPlan, stage: Path, ws: Workspace, job: Job, ports: ShipPorts
) -> list[str]:
    assert plan.checkpoint is not None
    cfg = load_apple(ws)
    command = export_command(cfg, plan.name, plan.checkpoint, stage / "export", toolkit_python(cfg))
    job.log(f"$ {command.shell()}")
    code = ports.run_toolkit(command, job.log, lambda: job.cancelled)
    job.check_cancelled()
    if code != 0:
        raise ToolkitFailed(command.label, code)
    package = stage / "export" / f"{plan.name}.fmadapter"
    if not package.is_dir():
        raise ShipError(f"Apple's export_fmadapter finished but wrote no {package.name}")
    os.replace(package, stage / package.name)
    shutil.rmtree(stage / "export", ignore_errors=True)
    return [package.name]


def _card_facts(ws: Workspace, db: Any, plan: ShipPlan, files: list[str]) -> card_mod.CardFacts:
    run = plan.run
    manifest = ws.datasets_dir / (plan.set_name or "") / "manifest.json"
    manifest_hash = run.get("dataset_manifest_sha256")
    hash_note = ""
    if not manifest_hash and plan.set_name and manifest.is_file():
        from graftwork.core.train.data import manifest_sha256

        manifest_hash = manifest_sha256(ws, plan.set_name)
        hash_note = " (the set as it is now: the run did not record it)"
    run_facts: dict[str, Any] = {}
    if run:
        run_facts = {
            "run_state": run.get("state"),
            "iterations": run.get("last_iteration"),
            "best_val_loss": run.get("best_val_loss"),
            "best_iteration": run.get("best_iteration"),
        }
    modelfile = Path(plan.out) / "Modelfile"
    usage = {
        "out": str(plan.out),
        "gguf": GGUF_FILE,
        "name": plan.name,
        "create": create_command_line(plan.name, modelfile),
    }
    return card_mod.CardFacts(
        title=f"{plan.set_name or plan.run_id} ({plan.target})",
        target=plan.target,
        quantize=plan.quantize,
        base_model=plan.base_model,
        architecture=plan.architecture,
        base_bits=plan.base_bits,
        run_id=plan.run_id,
        which=plan.which,
        set_name=plan.set_name,
        manifest_sha256=manifest_hash,
        manifest_note=hash_note,
        licences=card_mod.data_licences(db, manifest) if plan.set_name else {},
        config=run.get("config") or {},
        run_facts=run_facts,
        scores=[{"metric": m, **v} for m, v in latest_scores(db, run["id"]).items()] if run else [],
        files=files,
        usage=usage,
        version=__version__,
        shipped_at=now(),
    )


def ship(ws: Workspace, *, job: Job, ports: ShipPorts, **params: Any) -> StageResult:
    """The `ship` stage (see the module docstring); ``params`` are ShipRequest's fields."""
    db = stage_db(ws, job)
    plan = plan_ship(ws, db, ShipRequest(**params), ports.builder)
    job.set_total(3)
    job.log(f"shipping {plan.run_id} ({plan.which}) as {plan.target} to {plan.out}")
    failed: list[tuple[str, str]] = []
    try:
        with staged_dir(plan.out, replace=plan.force) as stage:
            if plan.target == "fmadapter":
                files = _build_fmadapter(plan, stage, ws, job, ports)
            else:
                assert plan.adapter is not None
                gguf = stage / GGUF_FILE if plan.target in ("gguf", "ollama") else None
                spec = BuildSpec(
                    model=plan.base_model,
                    adapter=plan.adapter,
                    out=stage,
                    quantize=plan.quantize,
                    gguf=gguf,
                    name=plan.name or plan.run_id,
                )
                ports.builder.build(spec, job.log, lambda: job.cancelled)
                if plan.target == "ollama":
                    assert plan.model_dir is not None
                    translation = translate(read_tokenizer_facts(plan.model_dir))
                    if translation.go_template is None:
                        job.log(
                            f"Modelfile without TEMPLATE: chat template {translation.note}",
                            "warning",
                        )
                    (stage / "Modelfile").write_text(
                        modelfile_text(
                            GGUF_FILE,
                            translation,
                            plan.system_prompt,
                            f"graftwork ship --run {plan.run_id} --to ollama",
                        ),
                        encoding="utf-8",
                    )
                files = sorted(p.name for p in stage.iterdir())
            job.advance(message=f"built {plan.target}")
            job.check_cancelled()
            facts = _card_facts(ws, db, plan, [*files, "README.md", "ship.json"])
            (stage / "README.md").write_text(card_mod.card_text(facts), encoding="utf-8")
            (stage / "ship.json").write_text(
                json.dumps(_record(plan, stage, facts.shipped_at), indent=2) + "\n",
                encoding="utf-8",
            )
            job.advance(message="wrote the model card")
            job.check_cancelled()
    except FileExistsError:  # appeared while we were building
        raise ShipError(
            f"{plan.out} already exists; pass --force to replace it, or --out DIR"
        ) from None
    job.advance(message=f"{plan.out} in place")
    summary: dict[str, Any] = {"out": str(plan.out), "target": plan.target, "run": plan.run_id}
    if plan.target == "ollama":
        command = create_command(plan.name, plan.out / "Modelfile")
        summary["ollama_command"] = create_command_line(plan.name, plan.out / "Modelfile")
        exe = ports.find_ollama()
        if exe is None:
            job.log(
                "ollama is not installed here; to add the model run: " + summary["ollama_command"]
            )
            summary["ollama_created"] = False
        else:
            code, tail = ports.run_ollama([exe, *command[1:]])
            summary["ollama_created"] = code == 0
            if code != 0:
                failed.append((plan.name, f"ollama create exited with code {code}: {tail}"))
                job.item_failed(plan.name, f"ollama create exited with code {code}: {tail}")
    return StageResult(ok=1, failed=failed, outputs=[plan.out], summary=summary)


def _record(plan: ShipPlan, stage: Path, shipped_at: str) -> dict[str, Any]:
    files = {
        str(p.relative_to(stage)): p.stat().st_size for p in sorted(stage.rglob("*")) if p.is_file()
    }
    return {
        "target": plan.target,
        "run": plan.run_id,
        "adapter": plan.which,
        "quantize": plan.quantize,
        "base_model": plan.base_model,
        "architecture": plan.architecture,
        "name": plan.name or None,
        "set": plan.set_name,
        "graftwork": __version__,
        "shipped_at": shipped_at,
        "files": files,
    }
