"""Strict YAML configuration: defaults from configs/<section>.yaml, overridden by the
workspace's graftwork.yaml (one top-level key per section) and then by command-line flags.

A misspelt key or a wrong type is a ConfigError naming the file, the key and the expected type.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from graftwork.core.base.errors import ConfigError
from graftwork.core.base.workspace import Workspace

WORKSPACE_SECTIONS = ("project", "teacher", "train", "keymap", "readmes", "run")
WORKSPACE_SCALARS = ("recipe",)  # top-level names, not sections (recipe: the workspace's recipe)
M = TypeVar("M", bound=BaseModel)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_env_name(data: Any, key: str, example: str) -> None:
    """For a model-level validator: ``data[key]`` must name an environment variable. The
    error never quotes the value, so a secret pasted there by mistake is not shown."""
    if not isinstance(data, dict):
        return
    name = data.get(key)
    if name not in (None, "") and (not isinstance(name, str) or not _ENV_NAME.match(name)):
        raise ValueError(
            f"{key} must be the NAME of an environment variable (like {example}), "
            "not the secret itself"
        )


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def configs_dir() -> Path:
    """Defaults ship inside the wheel (graftwork/_configs) or live at the checkout root."""
    pkg = Path(__file__).resolve().parents[2]  # graftwork/ (core/base/config.py)
    for candidate in (pkg / "_configs", pkg.parent / "configs"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("graftwork's default configs/ folder is missing from this installation")


def yaml_problem(exc: Exception) -> str:
    """A YAML error in one line: where (line, column) and what, without PyYAML's snippet."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem is None:
        return " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def shipped_data(name: str) -> Path:
    """A folder of example data: ``data/<name>`` of a checkout, else the copy the wheel ships
    as package data ``graftwork/_<name>`` (pyproject.toml's force-include lists them; found
    through importlib.resources, so it works wherever graftwork is installed)."""
    from importlib.resources import files

    checkout = Path(__file__).resolve().parents[3] / "data" / name
    if checkout.is_dir():
        return checkout
    packaged = files("graftwork") / f"_{name}"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    raise ConfigError(f"graftwork's example data '{name}' is missing from this installation")


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def deep_merge(
    base: dict[str, Any], override: dict[str, Any], atomic: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Merge nested mappings; top-level keys in ``atomic`` are replaced whole (e.g. a tool
    definition, where merging two JSON Schemas would produce one nobody wrote)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in atomic and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}' (misspelt?)")
        else:
            got = err.get("input")
            got_s = f", got {got!r}" if not isinstance(got, dict | list) else ""
            lines.append(f"{source}: key '{key}': {err['msg']}{got_s}")
    return "; ".join(lines)


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def workspace_settings(ws: Workspace | None) -> dict[str, Any]:
    if ws is None or not ws.config_path.exists():
        return {}
    data = read_yaml(ws.config_path)
    unknown = sorted(set(data) - set(WORKSPACE_SECTIONS) - set(WORKSPACE_SCALARS))
    if unknown:
        raise ConfigError(
            f"{ws.config_path}: unknown top-level key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(WORKSPACE_SCALARS + WORKSPACE_SECTIONS)}"
        )
    for key, value in data.items():
        if key in WORKSPACE_SCALARS:
            if value is not None and not isinstance(value, str):
                raise ConfigError(
                    f"{ws.config_path}: key '{key}' must be a name, got {type(value).__name__}"
                )
        elif value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"{ws.config_path}: key '{key}' must be a mapping, got {type(value).__name__}"
            )
    return data


def load_section(
    ws: Workspace | None,
    section: str,
    model: type[M],
    overrides: dict[str, Any] | None = None,
    *,
    defaults_file: Path | None = None,
    atomic: frozenset[str] = frozenset(),
) -> M:
    """Defaults (configs/<section>.yaml or ``defaults_file``) < graftwork.yaml < ``overrides``.

    ``overrides`` holds command-line flags; keys whose value is None are ignored.
    """
    path = defaults_file or configs_dir() / f"{section}.yaml"
    base = read_yaml(path)
    validate(model, base, str(path))  # a broken default file is named as such
    merged = base
    ws_data = workspace_settings(ws).get(section) or {}
    if ws_data:
        merged = deep_merge(merged, ws_data, atomic)
        validate(model, merged, f"{ws.config_path} (section '{section}')")  # type: ignore[union-attr]
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if flags:
        merged = deep_merge(merged, flags, atomic)
        return validate(model, merged, "command-line flags")
    return validate(
        model, merged, str(path) if not ws_data else f"{ws.config_path} (section '{section}')"
    )  # type: ignore[union-attr]
