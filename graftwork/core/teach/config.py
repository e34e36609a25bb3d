"""Typed teacher settings: configs/teacher.yaml < workspace `teacher:` < command-line flags."""

from __future__ import annotations

import os
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, model_validator

from graftwork.core.base.config import StrictModel, check_env_name, load_section
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.workspace import Workspace


class TeacherConfig(StrictModel):
    base_url: str = "https://api.openai.com/v1"
    model: str = Field("gpt-4o-mini", min_length=1)
    api_key_env: str | None = "OPENAI_API_KEY"
    temperature: float = Field(0.3, ge=0, le=2)
    max_tokens: int = Field(400, ge=1)
    concurrency: int = Field(4, ge=1, le=256)
    retries: int = Field(4, ge=0, le=50)
    backoff_seconds: float = Field(1.0, ge=0)
    max_retry_wait: float = Field(60, ge=0)
    timeout: float = Field(60, gt=0)
    dry_run: bool = False
    price_input_per_million: float = Field(0, ge=0)
    price_output_per_million: float = Field(0, ge=0)
    code_budget_tokens: int | None = Field(None, ge=0)
    gating: Literal["lenient", "strict"] = "lenient"

    @model_validator(mode="before")
    @classmethod
    def _check_without_echo(cls, data: Any) -> Any:
        # Checked at model level so the error never quotes the value: a key pasted into
        # api_key_env by mistake must not end up on the screen or in a log.
        check_env_name(data, "api_key_env", "OPENAI_API_KEY")
        if isinstance(data, dict):
            url = data.get("base_url")
            if isinstance(url, str) and not url.startswith(("http://", "https://")):
                raise ValueError("base_url must start with http:// or https://")
        return data

    def public_base_url(self) -> str:
        return public_url(self.base_url)

    def public_dict(self) -> dict[str, Any]:
        """Settings as stored with a run: no key (there is none here), no credentials in URLs."""
        data = self.model_dump()
        data["base_url"] = self.public_base_url()
        return data

    def api_key(self) -> str:
        """The key from the environment. Local servers that need none: api_key_env: null."""
        if not self.api_key_env:
            return "no-key"  # the openai client insists on a value; local servers ignore it
        value = os.environ.get(self.api_key_env, "").strip()
        if not value:
            raise ConfigError(
                f"the teacher API key is missing: set the environment variable {self.api_key_env}, "
                "or set teacher.api_key_env: null for a local server that needs no key"
            )
        return value

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.price_input_per_million
            + output_tokens * self.price_output_per_million
        ) / 1e6


def public_url(url: str) -> str:
    """A URL without user:password, query or fragment, fit for logs and the catalog."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


FLAG_KEYS = ("base_url", "model", "api_key_env", "concurrency", "dry_run")


def recorded_params(params: dict[str, Any]) -> dict[str, Any]:
    """What a teach job records: the options, and only the overrides that were set, with the
    endpoint's credentials removed (job params are shown in the Runs pane)."""
    shown = {k: v for k, v in (params.get("overrides") or {}).items() if v is not None}
    if shown.get("base_url"):
        shown["base_url"] = public_url(str(shown["base_url"]))
    return {**params, "overrides": shown}


def load_teacher_config(
    ws: Workspace | None, overrides: dict[str, Any] | None = None
) -> TeacherConfig:
    """Flags whose value is None are ignored; only FLAG_KEYS and tuning keys are expected."""
    return load_section(ws, "teacher", TeacherConfig, overrides)


def code_budget(cfg: TeacherConfig, ws: Workspace | None) -> int:
    if cfg.code_budget_tokens is not None:
        return cfg.code_budget_tokens
    from graftwork.core.base.project import load_project

    return load_project(ws).teacher_code_tokens
