"""Expand a loaded spec into planned prompts: deterministic for a seed, never the same
prompt twice.

Per category the target count is shared among its templates by weight (largest remainder).
Each template draws combinations of its variables (weighted values drawn by weight) with its
own random stream seeded from (seed, category, template), rejecting combinations it already
drew; when draws keep hitting used combinations the remaining ones are enumerated in a
weighted random order, so small spaces are used up exactly instead of by luck. A prompt whose
text was already produced (by any template) is dropped and another drawn. When a category's
templates cannot reach its count without repeats, the warning says how many were possible.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any, NamedTuple

from graftwork.core.spec.load import CategoryPlan, LoadedSpec, Values
from graftwork.core.spec.model import Scalar
from graftwork.core.spec.templates import CompiledTemplate

MISS_LIMIT = 64  # consecutive repeated draws before switching to enumeration
ENUM_LIMIT = 200_000  # largest remainder of a space we enumerate
GIVE_UP = 10_000  # consecutive repeated draws in a space too large to enumerate


class PlannedPrompt(NamedTuple):  # a tuple: 100,000 of them are made in a blink
    id: str
    category: str
    template_id: str
    prompt: str
    variables: dict[str, Scalar]  # the values the template used
    tags: dict[str, Scalar]

    def record(self, spec_name: str, version: str) -> dict[str, Any]:
        """One line of prompt_plan_<version>.jsonl."""
        return {
            "id": self.id,
            "dataset": spec_name,
            "version": version,
            "category": self.category,
            "template_id": self.template_id,
            "prompt": self.prompt,
            "variables": self.variables,
            "tags": self.tags,
        }


@dataclass
class Expansion:
    prompts: list[PlannedPrompt]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # category -> (made, target)


def prompt_id(category: str, text: str) -> str:
    """Stable across re-plans: the same prompt in the same category keeps its id."""
    return f"{category}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


class _Source:
    """Draws the combinations of one template, each at most once."""

    def __init__(self, tpl: CompiledTemplate, weight: float, plan: CategoryPlan, seed: int) -> None:
        self.tpl = tpl
        self.weight = weight
        self.names = sorted(tpl.variables & set(plan.values))
        self.values: list[Values] = [plan.values[n] for n in self.names]
        self.size = math.prod(len(v) for v in self.values)
        self.rng = random.Random(f"{seed}:{plan.name}:{tpl.id}")
        self.exhausted = False
        self._draws = self._generate()

    def _random_draws(self) -> Iterator[tuple[int, ...]]:
        """Endless random combinations, drawn a batch at a time per variable (random.choices
        with cumulative weights) so the per-prompt cost stays low."""
        rng, batch = self.rng, 512
        columns = [
            (range(len(v)), list(v.cum_weights) if v.cum_weights else None) for v in self.values
        ]
        while True:
            drawn = [rng.choices(pop, cum_weights=cum, k=batch) for pop, cum in columns]
            yield from zip(*drawn, strict=True)

    def _generate(self) -> Iterator[tuple[int, ...]]:
        values, size = self.values, self.size
        if not values:  # a template without variables: one prompt
            yield ()
            return
        seen: set[tuple[int, ...]] = set()
        misses = 0
        for idx in self._random_draws():
            if len(seen) >= size:
                return
            if idx in seen:
                misses += 1
                if misses >= MISS_LIMIT and size - len(seen) <= ENUM_LIMIT:
                    break
                if misses >= GIVE_UP:
                    return
                continue
            misses = 0
            seen.add(idx)
            yield idx
        # The rest of a small space in a weighted random order (Efraimidis–Spirakis keys).
        rnd = self.rng.random
        rest = [i for i in product(*(range(len(v)) for v in values)) if i not in seen]
        keyed = [
            (rnd() ** (1.0 / math.prod(v.weight(k) for v, k in zip(values, i, strict=True))), i)
            for i in rest
        ]
        keyed.sort(reverse=True)
        for _, idx in keyed:
            yield idx

    def next(self) -> tuple[int, ...] | None:
        try:
            return next(self._draws)
        except StopIteration:
            self.exhausted = True
            return None


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split by weight, largest remainders first (ties: earlier template)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _expand_category(
    plan: CategoryPlan, seed: int, used: set[str], out: list[PlannedPrompt]
) -> int:
    sources = [_Source(t, w, plan, seed) for t, w in plan.templates]
    tag_rng = random.Random(f"{seed}:{plan.name}:tags")
    made = 0
    active = sources
    while made < plan.count and active:
        shares = _shares(plan.count - made, [s.weight for s in active])
        for src, quota in zip(active, shares, strict=True):
            made += _take(src, quota, plan, tag_rng, used, out)
        active = [s for s in active if not s.exhausted]
    return made


def _take(
    src: _Source,
    quota: int,
    plan: CategoryPlan,
    tag_rng: random.Random,
    used: set[str],
    out: list[PlannedPrompt],
) -> int:
    """Up to ``quota`` new prompts from one template (fewer only when it is used up)."""
    named = [(n, v.items) for n, v in zip(src.names, src.values, strict=True)]
    # Tags the template does not use are still drawn: they describe the prompt.
    free_tags = [(t, plan.values[t]) for t in plan.tags if t not in src.names]
    plain = [n for n in src.names if n not in plan.tags]
    render, name, tid = src.tpl.render, plan.name, src.tpl.id
    got = 0
    while got < quota:
        idx = src.next()
        if idx is None:
            break
        ctx: dict[str, Any] = {"category": name}
        ctx.update([(n, items[i]) for (n, items), i in zip(named, idx, strict=True)])
        for t, values in free_tags:
            ctx[t] = values.items[values.pick(tag_rng.random())]
        text = render(ctx).strip()
        if not text or text in used:
            continue
        used.add(text)
        tags = {t: ctx[t] for t in plan.tags}
        out.append(
            PlannedPrompt(prompt_id(name, text), name, tid, text, {n: ctx[n] for n in plain}, tags)
        )
        got += 1
    return got


def expand(loaded: LoadedSpec[Any], *, seed: int | None = None) -> Expansion:
    seed = loaded.spec.seed if seed is None else seed
    result = Expansion([], list(loaded.warnings))
    used: set[str] = set()
    for plan in loaded.categories:
        made = _expand_category(plan, seed, used, result.prompts) if plan.templates else 0
        result.counts[plan.name] = (made, plan.count)
        if plan.templates and made < plan.count:
            result.warnings.append(
                f"category {plan.name}: {plan.count} prompts asked, only {made} possible without "
                f"repeats; planned {made}"
            )
    return result
