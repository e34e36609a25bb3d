"""Read a spec file: YAML -> validated model -> values from files, the JSON Schema checked,
every template compiled. Any problem is a SpecError (exit 2) naming the file, the key and
the cause; nothing is half-loaded."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from graftwork.core.base.config import read_yaml, validate, yaml_problem
from graftwork.core.base.errors import ConfigError
from graftwork.core.spec.model import Scalar, Spec, Variable, as_variable
from graftwork.core.spec.templates import CompiledTemplate, TemplateError, compile_template

S = TypeVar("S", bound=Spec)
BUILTINS = frozenset({"category"})  # names every template may use without declaring them


class SpecError(ConfigError):
    """A spec that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class Values:
    """The values of one variable, with cumulative weights when they are weighted."""

    items: tuple[Scalar, ...]
    cum_weights: tuple[float, ...] | None = None  # None: uniform

    def __len__(self) -> int:
        return len(self.items)

    def pick(self, rnd: float) -> int:
        """Index for a uniform random number in [0, 1)."""
        if self.cum_weights is None:
            return int(rnd * len(self.items))
        return min(bisect_right(self.cum_weights, rnd * self.cum_weights[-1]), len(self.items) - 1)

    def weight(self, index: int) -> float:
        if self.cum_weights is None:
            return 1.0
        return self.cum_weights[index] - (self.cum_weights[index - 1] if index else 0.0)


@dataclass
class CategoryPlan:
    name: str
    count: int
    templates: list[tuple[CompiledTemplate, float]]  # usable templates with their weight
    values: dict[str, Values]  # variables and tags visible to the category
    tags: tuple[str, ...]  # which of ``values`` are tags (recorded with every prompt)
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)  # (template, missing)


@dataclass
class LoadedSpec(Generic[S]):
    spec: S
    path: Path
    sha256: str
    schema: dict[str, Any] | None  # the contract's JSON Schema, from the spec or its file
    categories: list[CategoryPlan]
    warnings: list[str]

    @property
    def version(self) -> str:
        return self.spec.dataset.version


def _values(var: Variable, key: str, source: Path) -> Values:
    spec = as_variable(var)
    if spec.values is not None:
        return Values(tuple(spec.values))
    if spec.weighted is not None:
        return Values(tuple(spec.weighted), tuple(accumulate(spec.weighted.values())))
    path = (source.parent / spec.file).resolve()  # type: ignore[operator]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{source}: key '{key}.file': file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{source}: key '{key}.file': {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise SpecError(f"{source}: key '{key}.file': cannot read {path}: {exc.strerror}") from None
    items = tuple(
        dict.fromkeys(
            s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")
        )
    )
    if not items:
        raise SpecError(f"{source}: key '{key}.file': {path} holds no values (one a line)")
    return Values(items)


def _schema(spec: Spec, source: Path) -> dict[str, Any] | None:
    contract = spec.contract
    key = "contract.schema"
    schema = contract.json_schema
    if contract.schema_file:
        key = "contract.schema_file"
        path = (source.parent / contract.schema_file).resolve()
        try:
            schema = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError(f"{source}: key '{key}': file not found: {path}") from None
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"{source}: key '{key}': {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except yaml.YAMLError as exc:
            raise SpecError(
                f"{source}: key '{key}': {path} is not JSON or YAML: {yaml_problem(exc)}"
            ) from None
        if not isinstance(schema, dict):
            raise SpecError(f"{source}: key '{key}': {path} must hold a JSON object")
    if schema is None:
        return None
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise SpecError(
            f"{source}: key '{key}': not a valid JSON Schema at {where}: {exc.message}"
        ) from None
    return schema


def load_spec(path: Path | str, model: type[S] = Spec) -> LoadedSpec[S]:  # type: ignore[assignment]
    source = Path(path)
    try:
        raw_bytes = source.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{source}: spec file not found") from None
    except OSError as exc:
        raise SpecError(f"{source}: cannot read the spec: {exc.strerror}") from None
    try:
        data = read_yaml(source)
    except ConfigError as exc:
        raise SpecError(str(exc)) from None
    try:
        spec = validate(model, data, str(source))
    except ConfigError as exc:
        raise SpecError(str(exc)) from None
    schema = _schema(spec, source)
    warnings: list[str] = []
    globals_ = {n: _values(v, f"variables.{n}", source) for n, v in spec.variables.items()}
    global_tags = {n: _values(v, f"tags.{n}", source) for n, v in spec.tags.items()}
    categories: list[CategoryPlan] = []
    for name, cat in spec.categories.items():
        values = dict(globals_)
        values.update(global_tags)
        values.update(
            {
                n: _values(v, f"categories.{name}.variables.{n}", source)
                for n, v in cat.variables.items()
            }
        )
        own_tags = {
            n: _values(v, f"categories.{name}.tags.{n}", source) for n, v in cat.tags.items()
        }
        values.update(own_tags)
        tags = tuple(dict.fromkeys([*global_tags, *own_tags]))
        plan = CategoryPlan(name, cat.count, [], values, tags)
        for pos, tpl in enumerate(cat.template_list(name)):
            try:
                compiled = compile_template(tpl.id or name, tpl.text)
            except TemplateError as exc:
                raise SpecError(
                    f"{source}: key 'categories.{name}.templates.{pos}': template {tpl.id} does not parse: {exc}"
                ) from None
            missing = sorted(compiled.variables - set(values) - BUILTINS)
            if missing:
                plan.skipped.append((compiled.id, missing))
                warnings.append(
                    f"template {compiled.id} skipped: no values for {', '.join(missing)}"
                )
                continue
            plan.templates.append((compiled, tpl.weight))
        if not plan.templates:
            warnings.append(f"category {name}: no usable template; it gets no prompts")
        categories.append(plan)
    digest = hashlib.sha256(raw_bytes).hexdigest()
    return LoadedSpec(spec, source.resolve(), digest, schema, categories, warnings)


def spec_json(loaded: LoadedSpec[Any]) -> str:
    """The spec as stored with a plan (by alias, so it reads like the YAML)."""
    return json.dumps(loaded.spec.model_dump(mode="json", by_alias=True), ensure_ascii=False)
