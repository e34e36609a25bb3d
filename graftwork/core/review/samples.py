"""`graftwork sample`: for held-out prompts of a run's set, generate with the base model and
with the adapter (same seed, temperature, max tokens) and store both beside the reference.

The generation itself is a port (SampleGenerator); adapters/mlx/generate.py implements it in a
child process. This module only chooses prompts, resolves the run's model and adapter, and
writes `samples` rows, one per prompt once both outputs are in."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import sha256_text

SPLITS = ("train", "valid", "test")
# A sample with its review; no review row reads as verdict "none", not promoted.
SAMPLES_WITH_REVIEW = (
    "select s.*, coalesce(r.verdict, 'none') as verdict, r.score, r.note, coalesce(r.promoted, 0) as promoted "
    "from samples s left join reviews r on r.sample_id = s.id"
)


class SampleError(GraftworkError):
    exit_code = 2


class SampleGenerator(Protocol):
    """The model backend's port (adapters/mlx/generate.run_generation): every prompt answered
    by the base model, then by base + adapter. With ``loss`` (what `graftwork eval` passes:
    {"records", "mask_prompt", "max_seq_length"}) each model first scores the records with
    mlx-lm's own evaluation, a "loss" event {which, loss, tokens, examples, ms,
    peak_memory_gb}; models listed in ``loss["skip"]`` are not scored again. ``skip``: model ->
    prompt keys already answered (a resumed evaluation), not generated again. core never
    imports mlx."""

    def __call__(
        self,
        model: str,
        adapter_path: str | None,
        prompts: list[dict[str, Any]],
        *,
        seed: int,
        temperature: float,
        max_tokens: int,
        on_event: Callable[[dict[str, Any]], None],
        should_stop: Callable[[], bool] = ...,
        loss: dict[str, Any] | None = None,
        skip: dict[str, list[str]] | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class SampleSettings:
    split: str = "test"
    n: int | None = None
    seed: int = 0
    temperature: float = 0.0
    max_tokens: int = 1024
    adapter: str = "best"  # best | last

    def check(self) -> None:
        if self.split not in SPLITS:
            raise SampleError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.n is not None and self.n < 1:
            raise SampleError(f"--n must be at least 1, got {self.n}")
        if not 0.0 <= self.temperature <= 5.0:
            raise SampleError(f"--temperature must be between 0 and 5, got {self.temperature}")
        if self.max_tokens < 1:
            raise SampleError(f"--max-tokens must be at least 1, got {self.max_tokens}")
        if self.adapter not in ("best", "last"):
            raise SampleError(f"--adapter must be best or last, got {self.adapter!r}")


@dataclass(frozen=True)
class HeldOut:
    item_id: str
    split: str
    messages: list[dict[str, Any]]  # the set's messages, without the final assistant answer
    reference: str
    tools: list[dict[str, Any]] = field(default_factory=list)  # a chat set's tools

    @property
    def prompt(self) -> str:
        return next((m["content"] for m in reversed(self.messages) if m["role"] == "user"), "")


def load_held_out(ws: Workspace, set_name: str, split: str) -> list[HeldOut]:
    """The set's split in file order; item ids from the manifest (by content hash)."""
    set_dir = ws.datasets_dir / set_name
    path = set_dir / f"{split}.jsonl"
    if not path.is_file():
        raise SampleError(
            f"set {set_name!r} has no {split} split at {path} (was it deleted or rebuilt?)"
        )
    from graftwork.core.dataset.sets import manifest_index, read_format

    by_sha, by_split = manifest_index(set_dir)
    order = by_split.get(split, [])
    set_format = read_format(set_dir)
    out: list[HeldOut] = []
    for index, line in enumerate(
        x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()
    ):
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise SampleError(f"{path}:{index + 1}: not JSON ({exc})") from None
        tools: list[dict[str, Any]] = []
        messages = data
        if set_format == "chat":  # {"messages": [...], "tools": [...]}
            messages = data.get("messages") if isinstance(data, dict) else None
            tools = (data.get("tools") or []) if isinstance(data, dict) else []
        if (
            not isinstance(messages, list)
            or not messages
            or not isinstance(messages[-1], dict)
            or messages[-1].get("role") != "assistant"
        ):
            what = "an Apple sample" if set_format == "apple" else "a chat record"
            raise SampleError(f"{path}:{index + 1}: not {what} ending with an assistant answer")
        item_id = by_sha.get(sha256_text(line)) or (
            order[index] if index < len(order) else f"{split}-{index + 1:04d}"
        )
        answer = str(messages[-1].get("content") or "")
        out.append(HeldOut(item_id, split, messages[:-1], answer, tools))
    return out


def to_chat_prompt(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A held-out prompt (Apple messages, or a chat set's messages and ``tools``) -> what the
    model's chat template takes (OpenAI-shaped tools)."""
    from graftwork.core.dataset.sets import tool_to_openai

    out = []
    tools = [tool_to_openai(t) for t in tools or []]
    for msg in messages:
        msg = dict(msg)
        if msg["role"] == "system" and "tools" in msg:
            tools = [tool_to_openai(t) for t in msg.pop("tools") or []]
        out.append(msg)
    return {"messages": out, "tools": tools or None}


def resolve_run(
    ws: Workspace, db: Any, run_id: str, which: str
) -> tuple[dict[str, Any], str, Path]:
    """(run row, model path or id, adapter folder) of a training run."""
    from graftwork.core.train.runs import get_run

    run = get_run(db, run_id)
    config = run.get("config") if isinstance(run.get("config"), dict) else {}
    model = str(config.get("model") or "")
    if not model:
        raise SampleError(f"run {run['id']} records no model in its config")
    local = ws.root / model
    if not Path(model).is_absolute() and local.exists():
        model = str(local)  # train.yaml: relative folders are resolved against the workspace
    adapters = ws.runs_dir / run["id"] / "adapters"
    choices = [which] + [w for w in ("best", "last") if w != which]
    for choice in choices:
        folder = adapters / choice
        if (folder / "adapters.safetensors").is_file():
            return run, model, folder
    raise SampleError(
        f"run {run['id']} has no saved adapter under {adapters} (did it train at least one step?)"
    )


def pair_events(
    job: Job, on_pair: Callable[[str, dict[str, Any], dict[str, Any]], None]
) -> Callable[[dict[str, Any]], None]:
    """The generator's events -> ``on_pair(key, base_event, adapter_event)`` once both outputs
    of a prompt are in (the base pass runs first); model loads go to the job log."""
    base: dict[str, dict[str, Any]] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event.get("type") == "loaded":
            job.log(f"{event['which']} model loaded in {event['ms']:.0f} ms")
        if event.get("type") != "sample":
            return
        if event["which"] == "base":
            base[event["key"]] = event
            return
        on_pair(event["key"], base.get(event["key"], {}), event)

    return on_event


def generate_pairs(
    generate: SampleGenerator,
    model: str,
    adapter_dir: Path,
    prompts: list[dict[str, Any]],
    settings: SampleSettings,
    job: Job,
    on_pair: Callable[[str, dict[str, Any], dict[str, Any]], None],
) -> None:
    """Run the generator over ``prompts`` (base, then adapter) with the settings; on_pair as in
    `pair_events`. Stops early when the job is cancelled."""
    generate(
        model,
        str(adapter_dir),
        prompts,
        seed=settings.seed,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        on_event=pair_events(job, on_pair),
        should_stop=lambda: job.cancelled,
    )
    job.check_cancelled()


def sample_row(
    run_id: str,
    item_id: str,
    split: str,
    prompt: str,
    reference: str,
    messages: list[dict[str, Any]],
    base: dict[str, Any],
    adapter: dict[str, Any],
    settings: SampleSettings,
    adapter_name: str,
) -> dict[str, Any]:
    """One `samples` row from the base and adapter events of a prompt."""
    return {
        "run_id": run_id,
        "item_id": item_id,
        "split": split,
        "prompt": prompt,
        "reference": reference,
        "base_output": base.get("text"),
        "adapter_output": adapter.get("text"),
        "seed": settings.seed,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "base_ms": base.get("ms"),
        "adapter_ms": adapter.get("ms"),
        "created_at": now(),
        "messages": json.dumps(messages, ensure_ascii=False),
        "base_tokens": base.get("tokens"),
        "adapter_tokens": adapter.get("tokens"),
        "adapter": adapter_name,
    }


def sample_run(
    ws: Workspace, run_id: str, settings: SampleSettings, *, generate: SampleGenerator, job: Job
) -> StageResult:
    """Generate base and adapter outputs for the run's held-out prompts into `samples`."""
    settings.check()
    with ws.catalog() as db:
        run, model, adapter_dir = resolve_run(ws, db, run_id, settings.adapter)
        held = load_held_out(ws, run["set_name"], settings.split)
        if settings.n is not None:
            held = held[: settings.n]
        if not held:
            raise SampleError(f"set {run['set_name']!r} has no {settings.split} examples to sample")
        job.set_total(len(held))
        job.log(
            f"run {run['id']}: {len(held)} {settings.split} prompt(s), model {model}, adapter {adapter_dir.name}"
        )
        by_key = {f"k{i}": h for i, h in enumerate(held)}
        result = StageResult()

        def on_pair(key: str, b: dict[str, Any], a: dict[str, Any]) -> None:
            h = by_key[key]
            db["samples"].insert(
                sample_row(
                    run["id"],
                    h.item_id,
                    h.split,
                    h.prompt,
                    h.reference,
                    h.messages,
                    b,
                    a,
                    settings,
                    adapter_dir.name,
                )
            )
            result.ok += 1
            job.advance(item_id=h.item_id)

        prompts = [{"key": k, **to_chat_prompt(h.messages, h.tools)} for k, h in by_key.items()]
        generate_pairs(generate, model, adapter_dir, prompts, settings, job, on_pair)
        result.summary = {"run": run["id"], "samples": result.ok, "split": settings.split}
        return result


def list_samples(db: Any, run_id: str) -> list[dict[str, Any]]:
    """Samples of a run with their review (verdict, score, note, promoted), oldest first."""
    if not db["samples"].exists():
        return []
    return list(db.query(f"{SAMPLES_WITH_REVIEW} where s.run_id = ? order by s.id", [run_id]))
