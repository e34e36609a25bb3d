"""Typed settings of the `readmes` recipe: configs/readmes.yaml < workspace `readmes:` < flags."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from graftwork.core.base.config import StrictModel, check_env_name, load_section
from graftwork.core.base.workspace import Workspace


class CollectConfig(StrictModel):
    concurrency: int = Field(8, ge=1, le=256)
    max_files: int = Field(50_000, ge=1)
    max_readme_bytes: int = Field(1_000_000, ge=1)
    clone_timeout_seconds: float = Field(300, gt=0)
    skip_dirs: list[str] = Field(default_factory=list)
    key_files_tokens: int = Field(1500, ge=0)
    key_files_max: int = Field(6, ge=0)
    tree_max_files: int = Field(300, ge=1)


class GitHubConfig(StrictModel):
    api_url: str = "https://api.github.com"
    token_env: str | None = "GITHUB_TOKEN"
    timeout_seconds: float = Field(30, gt=0)
    retries: int = Field(3, ge=0, le=20)
    backoff_seconds: float = Field(1.0, ge=0)
    max_wait_seconds: float = Field(120, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _check_without_echo(cls, data: Any) -> Any:
        check_env_name(data, "token_env", "GITHUB_TOKEN")
        return data

    @field_validator("api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("api_url must start with http:// or https://")
        return value.rstrip("/")


class ChunkConfig(StrictModel):
    min_chars: int = Field(1000, ge=1)
    max_chars: int = Field(2000, ge=1)
    drop_link_only: bool = True

    @model_validator(mode="after")
    def _order(self) -> ChunkConfig:
        if self.min_chars > self.max_chars:
            raise ValueError(
                f"chunk.min_chars ({self.min_chars}) is larger than max_chars ({self.max_chars})"
            )
        return self


class InstructConfig(StrictModel):
    batch_size: int = Field(3, ge=1, le=50)
    parse_retries: int = Field(1, ge=0, le=10)


class ReadmesConfig(StrictModel):
    system_prompt: str = Field(..., min_length=1)
    key_files_in_examples: bool = True
    collect: CollectConfig = CollectConfig()
    github: GitHubConfig = GitHubConfig()
    chunk: ChunkConfig = ChunkConfig()
    instruct: InstructConfig = InstructConfig()


def load_readmes_config(
    ws: Workspace | None, overrides: dict[str, Any] | None = None
) -> ReadmesConfig:
    """Overrides are nested like the file ({"collect": {"concurrency": 4}}); None is ignored."""
    return load_section(ws, "readmes", ReadmesConfig, _drop_none(overrides or {}))


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out
