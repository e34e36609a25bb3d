"""`graftwork doctor`: what this machine can do, as data. Adapters gather the facts
(adapters/machine.py); this module only judges them, so the rules are testable without the
machine they describe. Doctor reports; it never fails a command."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["ok", "warn", "missing", "info"]
GIB = 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


@dataclass
class MachineFacts:
    system: str  # platform.system(): Darwin | Linux | ...
    machine: str  # arm64 | x86_64 | ...
    python: str
    mlx_version: str | None = None
    mlx_lm_version: str | None = None
    backend: str | None = None  # "metal" | "cpu" | None when mlx cannot load
    backend_error: str | None = None
    memory_bytes: int | None = None
    openblas_path: str | None = None  # preloaded into MLX children when found (P1)
    model: str | None = None  # the configured train model (folder or hub id)
    model_kind: Literal["local", "cached", "hub", "missing", "unset"] = "unset"
    model_detail: str = ""
    toolkit_dir: str | None = None
    toolkit_found: bool = False
    toolkit_detail: str = ""
    tokenizer_kind: str = "auto"  # project.tokenizer.kind
    token_counts_exact: bool = False  # budget counts with the trainer's own tokenizer
    token_counts_detail: str = ""
    tamm_version: str | None = None  # Apple's reference renderer, optional (needs torch)
    teacher_url: str | None = None
    teacher_reachable: bool | None = None  # None: no teacher configured
    teacher_detail: str = ""
    config_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def checks(f: MachineFacts) -> list[Check]:
    """Turn facts into verdicts with a hint for each problem."""
    out = [Check("platform", "info", f"{f.system} {f.machine}, Python {f.python}")]
    apple_silicon = f.system == "Darwin" and f.machine == "arm64"
    if f.backend is None:
        out.append(
            Check(
                "mlx",
                "missing",
                f"MLX does not load: {f.backend_error or 'not installed'}",
                "install graftwork with mlx (mlx[cpu] on Linux)",
            )
        )
    elif f.backend == "metal":
        out.append(
            Check("mlx", "ok", f"MLX {f.mlx_version} on Metal (GPU); mlx-lm {f.mlx_lm_version}")
        )
    else:
        hint = (
            ""
            if apple_silicon
            else "fine for the tiny demo model; real models want a Mac with Apple silicon"
        )
        out.append(
            Check(
                "mlx",
                "warn" if not apple_silicon else "ok",
                f"MLX {f.mlx_version} on the CPU; mlx-lm {f.mlx_lm_version}",
                hint,
            )
        )
        if f.system == "Linux":
            out.append(
                Check(
                    "cpu blas",
                    "ok" if f.openblas_path else "warn",
                    f"OpenBLAS at {f.openblas_path}, preloaded into training and sampling"
                    if f.openblas_path
                    else "only the mlx-cpu wheel's reference BLAS (slow)",
                    ""
                    if f.openblas_path
                    else "apt-get install libopenblas0-pthread: CPU training gets about 20x faster",
                )
            )
    if f.memory_bytes:
        gib = f.memory_bytes / GIB
        low = gib < 16
        out.append(
            Check(
                "memory",
                "warn" if low else "ok",
                f"{gib:.1f} GiB",
                "small models only (under ~3B parameters, 4-bit)" if low else "",
            )
        )
    else:
        out.append(Check("memory", "info", "unknown"))
    out.append(_model_check(f))
    out.append(_toolkit_check(f))
    out.append(_token_counts_check(f))
    out.append(_tamm_check(f))
    out.append(_teacher_check(f))
    out += [
        Check("config", "warn", err, "fix the file named in the message") for err in f.config_errors
    ]
    return out


def _model_check(f: MachineFacts) -> Check:
    hints = {
        "unset": "set train.model in graftwork.yaml to a local MLX model folder or a hub id",
        "missing": "the folder does not exist; fix train.model (a missing path is not a hub id)",
        "hub": "not downloaded yet: training will fetch it (needs network), or point train.model at a local folder",
    }
    status: Status = {
        "local": "ok",
        "cached": "ok",
        "hub": "warn",
        "missing": "missing",
        "unset": "missing",
    }[f.model_kind]
    detail = f"{f.model or '(none)'}: {f.model_detail or f.model_kind}"
    return Check("model", status, detail, hints.get(f.model_kind, ""))


def _toolkit_check(f: MachineFacts) -> Check:
    if f.toolkit_found:
        return Check("apple toolkit", "ok", f"found at {f.toolkit_dir}")
    if not f.toolkit_dir:
        return Check(
            "apple toolkit",
            "missing",
            "not configured",
            "download Apple's adapter training toolkit and set train.apple.toolkit_dir "
            "(needs a Mac with Apple silicon and 32 GB, or a Linux CUDA GPU)",
        )
    return Check(
        "apple toolkit",
        "missing",
        f"not found at {f.toolkit_dir}: {f.toolkit_detail}",
        "point train.apple.toolkit_dir at the folder holding examples/ and export/",
    )


EXACT_COUNTS_HINT = (
    "set train.apple.toolkit_dir in graftwork.yaml to Apple's adapter toolkit folder "
    "(budget then counts with its assets/tokenizer.model and chat template, so keep/exclude "
    "at 4095 is exact), or tokenizer.kind hf with the model you train with mlx-lm"
)


def _token_counts_check(f: MachineFacts) -> Check:
    if f.token_counts_exact:
        return Check("token counts", "ok", f"exact: {f.token_counts_detail}")
    return Check(
        "token counts",
        "warn",
        f"approximate: {f.token_counts_detail or 'tiktoken cl100k_base stands in'}",
        EXACT_COUNTS_HINT,
    )


def _tamm_check(f: MachineFacts) -> Check:
    if f.tamm_version:
        return Check(
            "tamm",
            "info",
            f"tamm {f.tamm_version} installed: the test suite compares our chat-template "
            "rendering with Apple's reference renderer",
        )
    return Check(
        "tamm",
        "info",
        "not installed (optional, needs torch): the check of our chat-template rendering "
        "against Apple's reference renderer is skipped",
    )


def _teacher_check(f: MachineFacts) -> Check:
    if f.teacher_reachable is None and f.teacher_url:
        return Check("teacher", "info", f"{f.teacher_url}: {f.teacher_detail or 'not checked'}")
    if f.teacher_reachable is None:
        return Check(
            "teacher",
            "info",
            "no teacher endpoint configured",
            "set teacher.base_url to use `graftwork teach`",
        )
    if f.teacher_reachable:
        return Check("teacher", "ok", f"{f.teacher_url} answers ({f.teacher_detail})")
    return Check(
        "teacher",
        "missing",
        f"{f.teacher_url} unreachable: {f.teacher_detail}",
        "start the server or fix teacher.base_url",
    )
