"""The spec's shape: pydantic models with extra=forbid, so a misspelt key is an error.

A variable (or a tag) is written in one of three ways::

    city: [Lisbon, Kyoto]                      # a list: every value equally likely
    season: {weighted: {spring: 3, winter: 1}}  # weights (relative, > 0)
    country: {file: countries.txt}             # one value a line, relative to the spec

Recipes that need more (tool definitions, responders) subclass ``Spec`` and ``Category``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from graftwork.core.base.config import StrictModel

Scalar = str | int | float | bool
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class VariableSpec(StrictModel):
    """Exactly one of values, weighted, file."""

    values: list[Scalar] | None = None
    weighted: dict[str, float] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> VariableSpec:
        given = [k for k in ("values", "weighted", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of values, weighted, file (got {', '.join(given) or 'none'})"
            )
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        if self.weighted is not None:
            if not self.weighted:
                raise ValueError("weighted is empty")
            bad = [k for k, w in self.weighted.items() if not w > 0]
            if bad:
                raise ValueError(f"weights must be > 0 (check {', '.join(bad)})")
        return self


Variable = list[Scalar] | VariableSpec


def as_variable(value: Variable) -> VariableSpec:
    return value if isinstance(value, VariableSpec) else VariableSpec(values=value)


class Template(StrictModel):
    id: str | None = None  # default: <category>.<position>
    text: str = Field(min_length=1)
    weight: float = Field(1.0, gt=0)  # share of the category's count


class Category(StrictModel):
    count: int = Field(ge=1)  # target number of prompts
    description: str = ""
    templates: list[str | Template] = Field(min_length=1)
    variables: dict[str, Variable] = Field(default_factory=dict)  # override/extend the globals
    tags: dict[str, Variable] = Field(default_factory=dict)

    def template_list(self, category: str) -> list[Template]:
        out = []
        for pos, t in enumerate(self.templates, 1):
            tpl = Template(text=t) if isinstance(t, str) else t
            out.append(tpl if tpl.id else tpl.model_copy(update={"id": f"{category}.{pos}"}))
        return out


class DatasetInfo(StrictModel):
    name: str
    version: str = "v1"
    description: str = ""

    @field_validator("name", "version")
    @classmethod
    def _file_safe(cls, value: str) -> str:
        if not DATASET_NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (it names files)")
        return value


class Contract(StrictModel):
    """What an answer must look like: free text, or JSON valid against ``schema``."""

    format: Literal["text", "json"] = "text"
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    schema_file: str | None = None  # a JSON (or YAML) file, relative to the spec
    instructions: str = ""  # told to the teacher with every draft

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _schema_needs_json(self) -> Contract:
        if self.json_schema is not None and self.schema_file is not None:
            raise ValueError("give schema or schema_file, not both")
        if self.format == "text" and (self.json_schema or self.schema_file):
            raise ValueError("a schema needs format: json")
        return self


class Gating(StrictModel):
    """Rules a teacher answer must pass. Both modes reject unusable answers (empty, cut off,
    refused, dry-run placeholders, not JSON / not valid against the schema when the contract
    is JSON, required keys missing); strict also rejects on length bounds, required sections
    and critique verdicts in ``strict_reject_verdicts`` (lenient only notes those)."""

    mode: Literal["lenient", "strict"] = "lenient"
    min_chars: int = Field(20, ge=0)
    max_chars: int | None = Field(None, ge=1)
    required_keys: list[str] = Field(default_factory=list)  # JSON: present and non-empty
    required_sections: list[str] = Field(default_factory=list)  # text: must appear
    strict_reject_verdicts: list[Literal["fail", "revise", "unknown"]] = Field(
        default_factory=lambda: ["fail", "unknown"]
    )
    refine: Literal["on_issues", "always", "never"] = "on_issues"


class Splits(StrictModel):
    train: float = Field(0.8, ge=0, le=1)
    val: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)
    seed: int = 42

    @model_validator(mode="after")
    def _sum_one(self) -> Splits:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must be 1, got {total:g}")
        if self.train <= 0:
            raise ValueError("train must be > 0")
        return self


class EvalSuite(StrictModel):
    name: str = "fixed20"
    size: int = Field(20, ge=1)


class TeacherPrompts(StrictModel):
    """Optional extra instructions for each teacher stage (appended to the built-in ones)."""

    draft: str = ""
    critique: str = ""
    refine: str = ""


class Spec(StrictModel):
    spec_version: Literal[1] = 1
    dataset: DatasetInfo
    system_prompt: str = ""
    seed: int = 42
    variables: dict[str, Variable] = Field(default_factory=dict)
    tags: dict[str, Variable] = Field(default_factory=dict)
    categories: dict[str, Category] = Field(min_length=1)
    contract: Contract = Field(default_factory=Contract)
    gating: Gating = Field(default_factory=Gating)
    splits: Splits = Field(default_factory=Splits)
    eval: EvalSuite = Field(default_factory=EvalSuite)
    teacher: TeacherPrompts = Field(default_factory=TeacherPrompts)

    @model_validator(mode="after")
    def _names(self) -> Spec:
        for where, names in (
            ("variables", self.variables),
            ("tags", self.tags),
            ("categories", self.categories),
            *((f"categories.{c}.variables", cat.variables) for c, cat in self.categories.items()),
            *((f"categories.{c}.tags", cat.tags) for c, cat in self.categories.items()),
        ):
            for name in names:
                if not NAME.match(name):
                    raise ValueError(
                        f"{where}: {name!r} is not a usable name (letters, digits, _; "
                        "templates refer to it as {{ name }})"
                    )
        return self
