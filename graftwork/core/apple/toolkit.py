"""Command lines of Apple's Foundation Models adapter toolkit for a built set.

Settings live under `apple:` inside the train section (configs/train.yaml, then the workspace's
graftwork.yaml `train: {apple: {...}}`, then flags), validated here by AppleConfig so a
misspelt key is an error. The toolkit itself is never bundled: the user names its folder.
"""

from __future__ import annotations

import platform
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, field_validator

from graftwork.core.base.atomic import write_json
from graftwork.core.base.config import (
    StrictModel,
    configs_dir,
    deep_merge,
    read_yaml,
    validate,
    workspace_settings,
)
from graftwork.core.base.errors import ConfigError, GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace

ADAPTER_NAME_RE = re.compile(r"^\w+$", re.ASCII)
APPLE_MAX_SEQUENCE_LENGTH = 4095  # the toolkit's context is 4096 tokens incl. one special


class AppleConfig(StrictModel):
    toolkit_dir: str | None = None
    python: str | None = None  # the toolkit's own interpreter (Python 3.11 + torch)
    epochs: int = Field(6, ge=1)  # the seed's settings (pipeline 000)
    learning_rate: float = Field(1e-4, gt=0)
    batch_size: int = Field(1, ge=1)
    max_sequence_length: int = Field(APPLE_MAX_SEQUENCE_LENGTH, ge=1, le=APPLE_MAX_SEQUENCE_LENGTH)
    # None picks f16-mixed on a Mac (MPS has no usable bf16) and bf16-mixed elsewhere (CUDA).
    precision: Literal["f16-mixed", "bf16-mixed", "f32"] | None = None
    adapter_name: str | None = None
    export_checkpoint: str = "adapter-final.pt"
    author: str | None = None
    description: str | None = None
    extra_train_args: list[str] = Field(default_factory=list)

    @field_validator("precision", mode="before")
    @classmethod
    def _no_pure_bf16(cls, value: Any) -> Any:
        if value == "bf16":
            raise ValueError("pure bf16 is reported to train garbage; use bf16-mixed or f16-mixed")
        return value


class AppleToolkitError(GraftworkError):
    """A set or setting the toolkit cannot use (exit code 2: fix the input and retry)."""

    exit_code = 2


def load_apple(ws: Workspace | None, overrides: dict[str, Any] | None = None) -> AppleConfig:
    """Defaults < configs/train.yaml `apple:` < graftwork.yaml `train.apple` < flags."""
    defaults_path = configs_dir() / "train.yaml"
    base: dict[str, Any] = {}
    if defaults_path.is_file():
        base = read_yaml(defaults_path).get("apple") or {}
    source = f"{defaults_path} (apple)"
    ws_apple = (workspace_settings(ws).get("train") or {}).get("apple") or {}
    if not isinstance(ws_apple, dict):
        raise ConfigError(f"{ws.config_path}: key 'train.apple' must be a mapping")  # type: ignore[union-attr]
    if ws_apple:
        base = deep_merge(base, ws_apple)
        source = f"{ws.config_path} (train.apple)"  # type: ignore[union-attr]
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if flags:
        base = deep_merge(base, flags)
        source = "command-line flags"
    return validate(AppleConfig, base, source)


def default_precision(system: str | None = None) -> str:
    return "f16-mixed" if (system or platform.system()) == "Darwin" else "bf16-mixed"


def check_adapter_name(name: str, flag: str = "--adapter-name") -> str:
    """Apple's runtime refuses names outside ^\\w+$ (the id is fmadapter-<name>-<sig>)."""
    if not ADAPTER_NAME_RE.match(name or ""):
        suggestion = re.sub(r"\W+", "_", name or "", flags=re.ASCII).strip("_") or "my_adapter"
        raise AppleToolkitError(
            f"adapter name {name!r} is not allowed: Apple's toolkit only loads names matching "
            f"^\\w+$ (ASCII letters, digits, underscore; no hyphens or spaces). "
            f"Try {suggestion!r} ({flag} or train.apple.adapter_name)."
        )
    return name


@dataclass(frozen=True)
class ToolkitCommand:
    label: str  # "train" | "export"
    argv: list[str]
    cwd: Path | None  # the toolkit root; None when it is not configured

    def shell(self) -> str:
        cwd = str(self.cwd) if self.cwd else "/path/to/apple-toolkit"
        return f"cd {shlex.quote(cwd)} && {shlex.join(self.argv)}"


def set_files(ws: Workspace, set_name: str) -> tuple[Path, Path | None]:
    """The set's train file (required) and valid file (optional, strongly advised)."""
    folder = ws.datasets_dir / set_name
    train = folder / "train.jsonl"
    if not train.is_file():
        raise AppleToolkitError(
            f"set {set_name!r} is not built: {train} is missing (run `graftwork build --set {set_name}`)"
        )
    valid = folder / "valid.jsonl"
    return train, (valid if valid.is_file() and valid.stat().st_size else None)


def toolkit_commands(
    ws: Workspace, set_name: str, cfg: AppleConfig, out_dir: Path, *, for_display: bool = False
) -> list[ToolkitCommand]:
    """train_adapter then export_fmadapter, writing checkpoints and the package under out_dir."""
    train, valid = set_files(ws, set_name)
    name = check_adapter_name(cfg.adapter_name or set_name)
    toolkit = Path(cfg.toolkit_dir).expanduser() if cfg.toolkit_dir else None
    python = toolkit_python(cfg, for_display=for_display)
    ckpt_dir = out_dir / "checkpoints"
    train_argv = [python, "-m", "examples.train_adapter", "--train-data", str(train)]
    if valid is not None:
        train_argv += ["--eval-data", str(valid)]
    train_argv += [
        "--epochs",
        str(cfg.epochs),
        "--learning-rate",
        f"{cfg.learning_rate:g}",
        "--batch-size",
        str(cfg.batch_size),
        "--max-sequence-length",
        str(cfg.max_sequence_length),
        "--precision",
        cfg.precision or default_precision(),
        "--checkpoint-dir",
        f"{ckpt_dir}/",  # the toolkit's examples end it with "/"
        *cfg.extra_train_args,
    ]
    return [
        ToolkitCommand("train", train_argv, toolkit),
        export_command(cfg, name, ckpt_dir / cfg.export_checkpoint, out_dir / "export", python),
    ]


def toolkit_python(cfg: AppleConfig, *, for_display: bool = False) -> str:
    """The toolkit's interpreter: train.apple.python, else ours (``python`` when printed)."""
    if cfg.python:
        return str(Path(cfg.python).expanduser())
    return "python" if for_display else sys.executable


def export_command(
    cfg: AppleConfig, name: str, checkpoint: Path, output_dir: Path, python: str
) -> ToolkitCommand:
    """export_fmadapter for one checkpoint: writes ``output_dir/<name>.fmadapter``."""
    argv = [
        python,
        "-m",
        "export.export_fmadapter",
        "--adapter-name",
        check_adapter_name(name),
        "--checkpoint",
        str(checkpoint),
        "--output-dir",
        str(output_dir),
    ]
    if cfg.author:
        argv += ["--author", cfg.author]
    if cfg.description:
        argv += ["--description", cfg.description]
    toolkit = Path(cfg.toolkit_dir).expanduser() if cfg.toolkit_dir else None
    return ToolkitCommand("export", argv, toolkit)


def require_toolkit(cfg: AppleConfig) -> Path:
    """The configured toolkit root, checked to look like Apple's toolkit."""
    if not cfg.toolkit_dir:
        raise AppleToolkitError(
            "no Apple toolkit configured: set train.apple.toolkit_dir in graftwork.yaml "
            "to the folder holding examples/ and export/ (graftwork never bundles it)"
        )
    root = Path(cfg.toolkit_dir).expanduser()
    missing = [
        p
        for p in ("examples/train_adapter.py", "export/export_fmadapter.py")
        if not (root / p).is_file()
    ]
    if missing:
        raise AppleToolkitError(
            f"{root} does not look like Apple's adapter toolkit: missing {', '.join(missing)}"
        )
    return root


# ---- running (the child process itself is an adapter: adapters/apple_runner.py) ----------


class CommandRunner(Protocol):
    """Port: run one command, feed each output line to on_line, stop when should_stop()."""

    def __call__(
        self,
        command: ToolkitCommand,
        on_line: Callable[[str], None],
        should_stop: Callable[[], bool],
    ) -> int: ...


def apple_train_stage(
    ws: Workspace, set_name: str, cfg: AppleConfig, job: Job, run_command: CommandRunner
) -> StageResult:
    """Run train_adapter then export_fmadapter, every output line into the job's log.

    Output goes to runs/apple-<job id>/ (checkpoints/, export/<name>.fmadapter, toolkit.log).
    A non-zero exit stops the stage and fails it with the tool's exit code.
    """
    require_toolkit(cfg)
    out_dir = ws.runs_dir / f"apple-{job.id}"
    commands = toolkit_commands(ws, set_name, cfg, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        out_dir / "commands.json",
        [{"label": c.label, "argv": c.argv, "cwd": str(c.cwd)} for c in commands],
    )
    job.set_total(len(commands))
    log_path = out_dir / "toolkit.log"
    with log_path.open("a", encoding="utf-8") as log_file:
        for command in commands:
            job.log(f"$ {command.shell()}")

            def on_line(line: str, label: str = command.label) -> None:
                log_file.write(f"[{label}] {line}\n")
                log_file.flush()
                job.log(line)

            code = run_command(command, on_line, lambda: job.cancelled)
            job.check_cancelled()
            if code != 0:
                raise ToolkitFailed(command.label, code)
            job.advance(message=f"{command.label} finished")
    name = cfg.adapter_name or set_name
    package = out_dir / "export" / f"{name}.fmadapter"
    return StageResult(
        ok=len(commands),
        outputs=[package, log_path],
        summary={"out_dir": str(out_dir), "package": str(package), "adapter_name": name},
    )


class ToolkitFailed(GraftworkError):
    """The toolkit exited non-zero; its exit code becomes ours."""

    def __init__(self, label: str, code: int) -> None:
        super().__init__(
            f"Apple toolkit step '{label}' exited with code {code} (see the log above)"
        )
        self.exit_code = code if 0 < code < 256 else 1
