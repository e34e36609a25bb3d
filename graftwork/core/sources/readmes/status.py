"""What the readmes recipe has done so far: the seed's pipeline dashboard (each phase with
its counts) and the rows of the workstation's item list (the recipe's columns)."""

from __future__ import annotations

import json
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.splits import assign_split


def dashboard(ws: Workspace, db: Any) -> list[tuple[str, str]]:
    """(phase, counts) in pipeline order."""

    def one(sql: str, *args: Any) -> int:
        return int(db.execute(sql, args).fetchone()[0] or 0)

    repos_ok = one("SELECT COUNT(*) FROM readme_repos WHERE status = 'ok'")
    repos_failed = one("SELECT COUNT(*) FROM readme_repos WHERE status = 'failed'")
    chunks = one("SELECT COUNT(*) FROM readme_chunks WHERE active = 1")
    dropped = one("SELECT SUM(dropped_link_only) FROM readme_chunk_stats")
    done = one("SELECT COUNT(*) FROM readme_chunks WHERE active = 1 AND instruct_state = 'done'")
    failed = one(
        "SELECT COUNT(*) FROM readme_chunks WHERE active = 1 AND instruct_state = 'failed'"
    )
    sets = []
    for path in sorted(ws.datasets_dir.glob("*/sft_dataset.json")):
        try:
            sets.append(f"{path.parent.name} {len(json.loads(path.read_text(encoding='utf-8')))}")
        except (OSError, ValueError):
            continue
    runs = one("SELECT COUNT(*) FROM runs") if db["runs"].exists() else 0
    return [
        ("1 collect", f"{repos_ok} repositories collected, {repos_failed} failed"),
        ("2 chunk", f"{chunks} chunks ({dropped} link-only dropped)"),
        ("3 instruct", f"{done} instructions from the teacher, {failed} failed, "
                       f"{chunks - done - failed} on their template"),
        ("4 records", ", ".join(sets) or "no set with records yet (build, then records)"),
        ("5 train", f"{runs} run(s)"),
    ]  # fmt: skip


def item_rows(ws: Workspace, db: Any) -> list[dict[str, Any]]:
    """One row per active chunk with the recipe's column keys: repo, heading, chars, license,
    split (where build would put it), instruction (the current prompt)."""
    from graftwork.core.base.project import load_project
    from graftwork.core.dataset.candidates import current_prompts

    project = load_project(ws)
    fractions = project.splits.model_dump()
    prompts = current_prompts(db)
    rows = []
    for item_id, repo_id, heading, chars, licence, readme_bytes in db.execute(
        "SELECT c.item_id, c.repo_id, c.heading, c.chars, r.license, r.readme_bytes "
        "FROM readme_chunks c JOIN readme_repos r ON r.id = c.repo_id "
        "JOIN items i ON i.id = c.item_id WHERE c.active = 1 ORDER BY i.manifest_order"
    ):
        rows.append(
            {
                "id": item_id,
                "repo": repo_id,
                "heading": heading or "(start)",
                "chars": chars,
                "readme_bytes": readme_bytes,
                "license": licence or "",
                "split": assign_split(repo_id, fractions, project.seed),
                "instruction": prompts.get(item_id, ("", ""))[0],
            }
        )
    return rows
