"""Facts about this machine for `graftwork doctor`: platform, MLX backend, memory, model,
Apple toolkit, teacher endpoint. Each probe is defensive: a failing probe becomes a fact."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

from graftwork.core.apple.toolkit import load_apple, require_toolkit
from graftwork.core.base.config import configs_dir, deep_merge, read_yaml, workspace_settings
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace
from graftwork.core.doctor import MachineFacts
from graftwork.core.teach.config import public_url

TEACHER_TIMEOUT = 2.0


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _section(ws: Workspace | None, name: str, errors: list[str]) -> dict[str, Any]:
    """Defaults merged with the workspace section, read leniently: other areas own the models
    (TrainConfig, TeacherConfig) and doctor must still speak when one of them is broken."""
    data: dict[str, Any] = {}
    try:
        path = configs_dir() / f"{name}.yaml"
        if path.is_file():
            data = read_yaml(path)
        data = deep_merge(data, workspace_settings(ws).get(name) or {})
    except GraftworkError as exc:
        errors.append(str(exc))
    return data


def probe_mlx(facts: MachineFacts) -> None:
    facts.mlx_version, facts.mlx_lm_version = _version("mlx"), _version("mlx-lm")
    try:
        import mlx.core as mx

        metal = bool(mx.metal.is_available())
        facts.backend = (
            "metal" if metal and mx.default_device().type == mx.DeviceType.gpu else "cpu"
        )
    except Exception as exc:  # a broken install is a fact to report, not a crash
        facts.backend, facts.backend_error = None, f"{type(exc).__name__}: {exc}"
    if facts.system == "Linux":
        from graftwork.adapters.mlx.trainer import OPENBLAS  # what MLX children preload

        facts.openblas_path = str(OPENBLAS) if OPENBLAS.exists() else None


def probe_memory(facts: MachineFacts) -> None:
    try:
        facts.memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        facts.memory_bytes = None


def _hf_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "huggingface"
    )
    return Path(home) / "hub"


def probe_model(facts: MachineFacts, model: str | None, ws: Workspace | None = None) -> None:
    facts.model = model
    if not model:
        facts.model_kind = "unset"
        return
    path = Path(model).expanduser()
    if not path.is_absolute() and ws is not None and (ws.root / path).is_dir():
        path = ws.root / path  # train.yaml: relative folders are resolved against the workspace
    if path.is_dir():
        has_config = (path / "config.json").is_file()
        facts.model_kind = "local" if has_config else "missing"
        facts.model_detail = "local folder" if has_config else "folder without config.json"
    elif model.startswith(("/", ".", "~")) or model.count("/") != 1:
        facts.model_kind, facts.model_detail = "missing", "no such local folder"
    else:
        cached = _hf_cache_dir() / f"models--{model.replace('/', '--')}"
        facts.model_kind = "cached" if cached.is_dir() else "hub"
        facts.model_detail = (
            "in the Hugging Face cache" if cached.is_dir() else "hub id, not downloaded"
        )


def probe_toolkit(facts: MachineFacts, ws: Workspace | None) -> None:
    try:
        cfg = load_apple(ws)
    except GraftworkError as exc:
        facts.config_errors.append(str(exc))
        return
    facts.toolkit_dir = cfg.toolkit_dir
    if cfg.toolkit_dir:
        try:
            require_toolkit(cfg)
            facts.toolkit_found = True
        except GraftworkError as exc:
            facts.toolkit_detail = str(exc)


def probe_token_counts(facts: MachineFacts, ws: Workspace | None) -> None:
    """Which tokenizer budget counts with, without loading it (doctor stays fast)."""
    from graftwork.adapters.apple_tokenizer import TOKENIZER_MODEL, toolkit_tokenizer
    from graftwork.core.base.project import load_project

    facts.tamm_version = _version("tamm")
    try:
        tok = load_project(ws).tokenizer if ws is not None else None
        toolkit = load_apple(ws).toolkit_dir
    except GraftworkError as exc:
        facts.config_errors.append(str(exc))
        return
    kind = tok.kind if tok is not None else "auto"
    facts.tokenizer_kind = kind
    if kind == "hf":
        facts.token_counts_exact = True
        facts.token_counts_detail = f"the tokenizer of {tok.model_path} (tokenizer.kind hf)"  # type: ignore[union-attr]
        return
    model = toolkit_tokenizer(toolkit) if kind in ("auto", "apple") else None
    if model is not None:
        facts.token_counts_exact = True
        facts.token_counts_detail = f"Apple's toolkit tokenizer {model}"
    elif kind == "tiktoken":
        facts.token_counts_detail = "tokenizer.kind is tiktoken (cl100k_base stands in)"
    elif toolkit:
        facts.token_counts_detail = (
            f"{Path(toolkit).expanduser() / TOKENIZER_MODEL} not found; tiktoken stands in"
        )


def probe_teacher(facts: MachineFacts, teacher: dict[str, Any]) -> None:
    import httpx

    base_url = teacher.get("base_url")
    if not base_url:
        return
    facts.teacher_url = public_url(str(base_url))  # doctor output gets pasted: no user:password
    headers = {}
    key_env = teacher.get("api_key_env")
    if isinstance(key_env, str) and os.environ.get(key_env):
        headers["Authorization"] = f"Bearer {os.environ[key_env]}"
    try:
        resp = httpx.get(
            f"{str(base_url).rstrip('/')}/models", headers=headers, timeout=TEACHER_TIMEOUT
        )
    except httpx.HTTPError as exc:
        detail = str(exc).replace(str(base_url), facts.teacher_url)
        facts.teacher_reachable, facts.teacher_detail = False, f"{type(exc).__name__}: {detail}"
        return
    facts.teacher_reachable = True  # any HTTP answer means the server is there
    facts.teacher_detail = f"HTTP {resp.status_code}" + (
        " - check the API key" if resp.status_code in (401, 403) else ""
    )


def gather_facts(ws: Workspace | None, *, network: bool = True) -> MachineFacts:
    facts = MachineFacts(
        system=platform.system(), machine=platform.machine(), python=platform.python_version()
    )
    probe_mlx(facts)
    probe_memory(facts)
    train = _section(ws, "train", facts.config_errors)
    model = train.get("model")
    probe_model(facts, str(model) if model else None, ws)
    probe_toolkit(facts, ws)
    probe_token_counts(facts, ws)
    teacher = _section(ws, "teacher", facts.config_errors)
    if network:
        probe_teacher(facts, teacher)
    elif teacher.get("base_url"):
        facts.teacher_url, facts.teacher_detail = (
            public_url(str(teacher["base_url"])),
            "not checked (--offline)",
        )
    return facts
