"""The project section of the configuration: prompts, tool, limits, splits, tokenizer."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import Field, model_validator

from graftwork.core.base.config import StrictModel, load_section
from graftwork.core.base.workspace import Workspace

DEFAULT_CATEGORIES = (
    "clock",
    "calendar",
    "system monitor",
    "weather",
    "media",
    "network",
    "finance",
    "productivity",
    "other",
)


class Splits(StrictModel):
    train: float = Field(0.8, ge=0, le=1)
    valid: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Splits:
        total = self.train + self.valid + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split fractions must add up to 1.0, got {total:g}")
        return self


class TokenizerConfig(StrictModel):
    # auto: Apple's toolkit tokenizer when train.apple.toolkit_dir holds one, else tiktoken
    kind: Literal["auto", "tiktoken", "hf", "apple"] = "auto"
    encoding: str = "cl100k_base"
    model_path: str | None = None

    @model_validator(mode="after")
    def _hf_needs_path(self) -> TokenizerConfig:
        if self.kind == "hf" and not self.model_path:
            raise ValueError("tokenizer kind 'hf' needs model_path (a local model folder)")
        return self


class IngestConfig(StrictModel):
    concurrency: int = Field(8, ge=1, le=256)
    retries: int = Field(3, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0)
    timeout_seconds: float = Field(30, gt=0)
    max_archive_bytes: int = Field(50_000_000, gt=0)
    max_uncompressed_bytes: int = Field(200_000_000, gt=0)
    max_compression_ratio: float = Field(200, gt=1)
    max_members: int = Field(5000, gt=0)


class ProjectConfig(StrictModel):
    system_prompt: str
    tool: dict[str, Any]
    max_sequence_length: int = Field(4095, gt=0)
    splits: Splits = Splits()
    seed: int = 42
    tokenizer: TokenizerConfig = TokenizerConfig()
    ingest: IngestConfig = IngestConfig()
    teacher_code_tokens: int = Field(2500, gt=0)
    # `graftwork teach categories`: the teacher picks one of these per widget (AI_category)
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1)
    # build: spread each category over the splits by its share (`build --stratify category`)
    stratify: Literal["category"] | None = None

    @model_validator(mode="after")
    def _categories_distinct(self) -> ProjectConfig:
        seen: set[str] = set()
        for name in self.categories:
            key = name.strip().casefold()
            if not key or name != name.strip() or "\n" in name or "," in name:
                raise ValueError(f"category {name!r} must be a non-empty name without commas")
            if key in seen:
                raise ValueError(f"category {name!r} is listed twice")
            seen.add(key)
        return self

    @model_validator(mode="after")
    def _apple_tool_shape(self) -> ProjectConfig:
        fn = self.tool.get("function") if isinstance(self.tool, dict) else None
        if self.tool.get("type") != "function" or not isinstance(fn, dict) or not fn.get("name"):
            raise ValueError(
                "tool must be {type: function, function: {name, description, arguments}}"
            )
        if "parameters" in fn:
            raise ValueError(
                "tool.function uses 'parameters' (OpenAI's key); Apple's schema calls it 'arguments'"
            )
        args = fn.get("arguments")
        if not isinstance(args, dict) or args.get("type") != "object":
            raise ValueError(
                "tool.function.arguments must be a JSON Schema object (Apple's key, not 'parameters')"
            )
        return self

    def content_hash(self) -> str:
        """Hash of everything that changes a rendered example (for caches and manifests)."""
        blob = json.dumps(
            {"system": self.system_prompt, "tool": self.tool}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def load_project(ws: Workspace | None, overrides: dict[str, Any] | None = None) -> ProjectConfig:
    return load_section(ws, "project", ProjectConfig, overrides, atomic=frozenset({"tool"}))
