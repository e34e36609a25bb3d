"""The model card (README.md) written beside every shipped model: what it was made from and how
well it did. Facts come from the catalog and the run's files; what is not known says so."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

USAGE = {
    "mlx": "```sh\nmlx_lm.generate --model {out} --prompt 'Hello'\n```\n",
    "gguf": "```sh\nllama-cli -m {out}/{gguf} -cnv\n```\n",
    "ollama": "```sh\n{create}\nollama run {name}\n```\n",
    "fmadapter": (
        "Load `{name}.fmadapter` with the Foundation Models framework "
        "(`SystemLanguageModel.Adapter(fileURL:)`) on a device whose base model matches the "
        "toolkit that trained it.\n"
    ),
}


@dataclass
class CardFacts:
    title: str
    target: str
    quantize: int | None
    base_model: str
    architecture: str | None
    run_id: str
    which: str  # best | last
    set_name: str | None
    manifest_sha256: str | None
    licences: dict[str, int]  # licence -> examples; "unknown" for the rest
    config: dict[str, Any]
    run_facts: dict[str, Any] = field(default_factory=dict)  # iteration, val loss, state
    # latest_scores entries with their metric: metric, base, adapter, pair, n, source, checkpoint
    scores: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    usage: dict[str, str] = field(default_factory=dict)  # out, gguf, name, create
    version: str = ""
    shipped_at: str = ""
    base_bits: int | None = None  # the base model's quantization (0: bits unknown)
    manifest_note: str = ""  # said after the hash (e.g. computed at ship time)


def data_licences(db: sqlite_utils.Database, manifest: Path) -> dict[str, int]:
    """Licences of the examples of a built set, as far as the catalog knows them: README
    chunks (the readmes recipe) carry their repository's SPDX licence; every other example,
    and any without a licence on record, counts as "unknown"."""
    try:
        items = json.loads(manifest.read_text(encoding="utf-8")).get("items") or []
    except (OSError, ValueError):
        return {}
    ids = [str(i.get("id")) for i in items if isinstance(i, dict) and i.get("id") is not None]
    known: dict[str, str] = {}
    if ids and db["readme_chunks"].exists() and db["readme_repos"].exists():
        with contextlib.suppress(sqlite3.Error):
            for start in range(0, len(ids), 500):  # SQLite's variable limit
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                for row in db.query(
                    "select c.item_id, r.license from readme_chunks c "
                    f"join readme_repos r on r.id = c.repo_id where c.item_id in ({marks})",
                    part,
                ):
                    if row["license"]:
                        known[row["item_id"]] = row["license"]
    counts = Counter(known.get(i, "unknown") for i in ids)
    return dict(sorted(counts.items(), key=lambda kv: (kv[0] == "unknown", -kv[1], kv[0])))


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _scores_section(facts: CardFacts) -> str:
    """The newest score of every metric (core/eval/store.latest_scores), base and adapter."""
    if not facts.scores:
        return (
            f"Not evaluated. Run `graftwork eval --run {facts.run_id}` and ship again to "
            "put the scores here.\n"
        )
    pair = any(s.get("pair") is not None for s in facts.scores)
    head = (
        "| metric | base | adapter |"
        + (" pair |" if pair else "")
        + " n | on | adapter evaluated |"
    )
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for s in facts.scores:
        cells = [s.get("metric"), s.get("base"), s.get("adapter")]
        cells += [s.get("pair")] if pair else []
        cells += [s.get("n"), s.get("source"), s.get("checkpoint")]
        rows.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    other = sorted({str(s.get("checkpoint")) for s in facts.scores} - {facts.which})
    note = (
        f"\nThese scores are for the {', '.join(other)} adapter; this model is the "
        f"{facts.which} one.\n"
        if other
        else ""
    )
    return "\n".join(rows) + "\n" + note


def card_text(facts: CardFacts) -> str:
    """README.md with a Hugging Face style front matter (base_model, tags, license)."""
    licences = [k for k in facts.licences if k != "unknown"]
    front = ["---", f"base_model: {json.dumps(facts.base_model)}"]
    if len(licences) == 1 and "unknown" not in facts.licences:
        front.append(f"license: {json.dumps(licences[0])}")
    library = {"mlx": "mlx", "fmadapter": "foundation-models"}.get(facts.target, "gguf")
    front += [f"library_name: {library}", "tags: [graftwork, lora]", "---", ""]
    base = f"{facts.base_bits}-bit" if facts.base_bits else "quantized"
    if facts.quantize:
        precision = f"{facts.quantize}-bit (mlx-lm)"
        if facts.base_bits is not None:
            precision += f", from a {base} base dequantized first"
    elif facts.target == "fmadapter":
        precision = "Apple's toolkit export"
    elif facts.target in ("gguf", "ollama"):
        precision = "float16" + (
            f", dequantized from a {base} base" if facts.base_bits is not None else ""
        )
    elif facts.base_bits is not None:
        precision = f"{base}, as its base model"
    else:
        precision = "not quantized"
    licence_text = (
        ", ".join(f"{k} ({v} example{'s' if v != 1 else ''})" for k, v in facts.licences.items())
        or "unknown"
    )
    table = [
        ("Target", f"{facts.target} ({precision})"),
        (
            "Base model",
            f"`{facts.base_model}`" + (f" ({facts.architecture})" if facts.architecture else ""),
        ),
        ("Run", f"`{facts.run_id}`, {facts.which} adapter"),
        ("Data set", f"`{facts.set_name}`" if facts.set_name else "unknown"),
        (
            "Manifest sha256",
            f"`{facts.manifest_sha256}`{facts.manifest_note}"
            if facts.manifest_sha256
            else "unknown",
        ),
        ("Data licences", licence_text),
    ]
    table += [(k.replace("_", " ").capitalize(), _fmt(v)) for k, v in facts.run_facts.items()]
    body = [f"# {facts.title}", ""]
    body.append(
        f"Shipped by graftwork {facts.version} on {facts.shipped_at}: a LoRA adapter "
        "fused into its base model."
        if facts.target != "fmadapter"
        else f"Shipped by graftwork {facts.version} on {facts.shipped_at}: an adapter for Apple's "
        "on-device Foundation Model, exported with Apple's toolkit."
    )
    body += ["", "| | |", "| --- | --- |"]
    body += [f"| {k} | {v} |" for k, v in table]
    body += ["", "## Evaluation", "", _scores_section(facts)]
    body += ["## Use", "", USAGE[facts.target].format(**facts.usage)]
    body += [
        "## Training settings",
        "",
        "```json",
        json.dumps(facts.config, indent=2, sort_keys=True, default=str),
        "```",
        "",
    ]
    if facts.files:
        body += ["## Files", ""] + [f"- `{f}`" for f in facts.files] + [""]
    return "\n".join(front + body)
