"""The readmes recipe in the workstation (recipes/views.py): one row per README chunk with its
repository's facts (chunk count, README size, licence, split), the instruction (the chunk's
prompt, edited in the Prompt pane) and where instruct stands; the detail is the instruction
beside the chunk, the model's input, the repository, and the real README beside the one
`graftwork readme` generated (README.generated.md) when there is one; the dashboard is the
seed's pipeline (status.dashboard) with curation counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.current import current_expr
from graftwork.core.recipes import view_parts
from graftwork.core.recipes.views import QuickFilter, Section
from graftwork.core.sources.readmes.infer import GENERATED

SOURCE = "readmes"

_ROWS_SQL = f"""
SELECT c.item_id, c.repo_id, c.heading, c.chars, c.instruct_state, r.license, r.readme_bytes,
       {view_parts.sql_preview(current_expr("pr.text", "c.item_id"))},
       b.total_tokens, b.over_by, b.action, cu.decision
FROM readme_chunks c JOIN readme_repos r ON r.id = c.repo_id JOIN items i ON i.id = c.item_id
LEFT JOIN budget b ON b.item_id = c.item_id LEFT JOIN curation cu ON cu.item_id = c.item_id
WHERE c.active = 1 {{where}}
ORDER BY COALESCE(i.manifest_order, 1e18), c.item_id
"""
# What the rows read besides the core tables: a change here reloads the (small) list.
_MARKS_SQL = """
SELECT (SELECT COUNT(*) FROM readme_chunks), (SELECT MAX(chunked_at) FROM readme_chunks),
       (SELECT SUM(active) FROM readme_chunks),
       (SELECT SUM(instruct_state = 'done') FROM readme_chunks),
       (SELECT SUM(instruct_state = 'failed') FROM readme_chunks),
       (SELECT COUNT(*) FROM readme_repos), (SELECT MAX(updated_at) FROM readme_repos),
       (SELECT COUNT(*) FROM split_assignments)
"""

STATE = {"": "template", "done": "teacher", "failed": "failed"}


def _size(count: int | None) -> str:
    if not count:
        return ""
    return f"{count} B" if count < 1024 else f"{count / 1024:.1f} KB"


def repo_folder(ws: Workspace, row: dict[str, Any]) -> Path | None:
    """Where a collected repository's files are on this machine (a local folder, or the
    workspace's clone), or None (collected over the API)."""
    if row.get("origin") == "local" and row.get("location"):
        return Path(row["location"])
    if row.get("checkout"):
        return ws.root / row["checkout"]
    return None


class ReadmesView:
    """RecipeView of the readmes recipe."""

    actions = view_parts.curation_actions("readmes")
    filters = (
        QuickFilter("instruction on its template", lambda r: r.get("state") == "template"),
        QuickFilter("instruction by the teacher", lambda r: r.get("state") == "teacher"),
        QuickFilter("instruct failed", lambda r: r.get("state") == "failed"),
        QuickFilter("test split", lambda r: r.get("split") == "test"),
        *view_parts.CURATION_FILTERS,
    )

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # -- rows ----------------------------------------------------------------------------
    def _splits(self, db: Any) -> dict[str, str]:
        """repository -> its split: as the newest built set recorded it, else where build
        would put it (the same rule as status.item_rows)."""
        recorded: dict[str, str] = {}
        newest = db.execute("SELECT name FROM datasets ORDER BY created_at DESC LIMIT 1").fetchone()
        if (
            newest
            and db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'split_assignments'"
            ).fetchone()
        ):
            recorded = dict(
                db.execute(
                    "SELECT item_id, split FROM split_assignments WHERE set_name = ?", [newest[0]]
                ).fetchall()
            )
        return recorded

    def rows(self, db: Any, ids: list[str] | None = None) -> list[dict[str, Any]]:
        from graftwork.core.base.project import load_project
        from graftwork.core.dataset.splits import assign_split

        found: list[tuple[Any, ...]] = []
        if ids is None:
            found = db.execute(_ROWS_SQL.format(where="")).fetchall()
        else:
            for part, marks in view_parts.chunks(list(ids)):
                sql = _ROWS_SQL.format(where=f"AND c.item_id IN ({marks})")
                found.extend(db.execute(sql, part).fetchall())
        counts = dict(
            db.execute(
                "SELECT repo_id, COUNT(*) FROM readme_chunks WHERE active = 1 GROUP BY repo_id"
            ).fetchall()
        )
        project = load_project(self.ws)
        fractions = project.splits.model_dump()
        recorded = self._splits(db)
        predicted: dict[str, str] = {}
        out = []
        for (
            item_id, repo, heading, chars, state, licence, readme_bytes, instruction,
            tokens, over_by, action, decision,
        ) in found:  # fmt: skip
            split = recorded.get(repo) or predicted.get(repo)
            if split is None:
                split = predicted[repo] = assign_split(repo, fractions, project.seed)
            out.append(
                {
                    "id": item_id,
                    "repo": repo,
                    "heading": heading or "(start)",
                    "chars": chars,
                    "chunks": counts.get(repo, 0),
                    "readme": _size(readme_bytes),
                    "readme_bytes": readme_bytes,
                    "license": licence or "",
                    "split": split,
                    "state": STATE.get(state or "", state),
                    "instruction": instruction or "",
                    "tokens": tokens,
                    "over_by": over_by or 0,
                    "budget": action or "",
                    "decision": decision or "",
                }
            )
        return out

    def changed(self, db: Any, marks: Any) -> tuple[list[str] | None, Any]:
        new = tuple(db.execute(_MARKS_SQL).fetchone())
        if marks is None or new == marks:
            return [], new
        return None, new  # chunks, instruct states or repositories moved: read the list again

    # -- detail ----------------------------------------------------------------------------
    def detail(self, db: Any, item_id: str) -> list[Section]:
        from graftwork.core.prompts.current import current_of_sql
        from graftwork.core.sources.readmes.provider import ReadmesExamples

        chunk = next(
            iter(db.query("SELECT * FROM readme_chunks WHERE item_id = ?", [item_id])), None
        )
        if chunk is None:
            return [
                Section(item_id, "not a README chunk of this workspace (run `graftwork chunk`)")
            ]
        repo = next(
            iter(db.query("SELECT * FROM readme_repos WHERE id = ?", [chunk["repo_id"]])), {}
        )
        total = db.execute(
            "SELECT COUNT(*) FROM readme_chunks WHERE repo_id = ? AND active = 1",
            [chunk["repo_id"]],
        ).fetchone()[0]
        state = STATE.get(chunk["instruct_state"] or "", chunk["instruct_state"])
        head = [
            f"chunk {int(chunk['idx']) + 1} of {total} of {chunk['repo_id']}"
            f" · {chunk['heading'] or '(start)'} · {chunk['chars']} characters",
            f"instruction: {state}"
            + (f" ({chunk['instruct_error']})" if chunk.get("instruct_error") else ""),
        ]
        if not chunk["active"]:
            head.append("this chunk is gone from the current README (kept for its history)")
        out = [Section(item_id, "\n".join(head))]
        current = db.execute(current_of_sql("text"), [item_id]).fetchone()
        out.append(
            Section(
                "instruction (the prompt: edit it in the Prompt pane)",
                current[0] if current else "(none yet: run `graftwork chunk`)",
                None,
                "pair",
            )
        )
        out.append(
            Section(
                "chunk (the assistant turn)",
                view_parts.cut(chunk["text"] or ""),
                "markdown",
                "pair",
            )
        )
        try:
            example = ReadmesExamples(self.ws).example_for(
                db, item_id, current[0] if current else ""
            )
        except ValueError as exc:
            out.append(Section("input", f"no example: {exc}"))
        else:
            user = example.user
            rendered = (
                user[len(current[0]) :].lstrip("\n")
                if current and user.startswith(current[0])
                else user
            )
            out.append(
                Section(
                    "input (project type, language, file tree, key files)", view_parts.cut(rendered)
                )
            )
        if repo:
            out.append(Section(f"repository {repo['id']}", _repo_text(repo, total)))
            out.extend(self._readmes(repo))
        return out + view_parts.state_sections(db, item_id)

    def _readmes(self, repo: dict[str, Any]) -> list[Section]:
        """The real README and, when `graftwork readme` wrote one beside it, the generated one
        (side by side)."""
        real = Section(
            f"README ({repo.get('readme_path') or 'README'}, {_size(repo.get('readme_bytes'))})",
            view_parts.cut(repo.get("readme") or "(no README)"),
            "markdown",
            "readme",
        )
        folder = repo_folder(self.ws, repo)
        generated = folder / GENERATED if folder is not None else None
        if generated is None or not generated.is_file():
            return [Section(real.title, real.text, real.syntax)]
        try:
            text = generated.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            text = f"cannot read {generated}: {exc.strerror or exc}"
        return [
            real,
            Section(f"{GENERATED} (graftwork readme)", view_parts.cut(text), "markdown", "readme"),
        ]

    # -- dashboard -------------------------------------------------------------------------
    def dashboard(self, db: Any) -> list[tuple[str, str]]:
        from graftwork.core.sources.readmes.status import dashboard

        lines = dashboard(self.ws, db)
        return [*lines[:3], ("budget, curate", view_parts.curation_counts(db, SOURCE)), *lines[3:]]


def _repo_text(repo: dict[str, Any], chunks: int) -> str:
    import json

    def listed(raw: Any) -> list[Any]:
        try:
            value = json.loads(raw or "[]")
        except ValueError:
            return []
        return value if isinstance(value, list) else []

    keys = [k.get("path", "?") for k in listed(repo.get("key_files")) if isinstance(k, dict)]
    lines = [
        f"{repo.get('origin')}: {repo.get('repo_url') or repo.get('location')}",
        f"{repo.get('language') or 'language unknown'} · {repo.get('project_type') or 'type unknown'}"
        f" · licence {repo.get('license') or 'unknown'}",
        f"README {_size(repo.get('readme_bytes'))} in {chunks} chunk(s); "
        f"{repo.get('file_count') or 0} files",
        f"key files: {', '.join(keys) or 'none'}",
        f"status {repo.get('status')}" + (f": {repo['error']}" if repo.get("error") else ""),
    ]
    lines += [f"note: {n}" for n in listed(repo.get("notes"))]
    return "\n".join(lines)


def view(ws: Workspace) -> ReadmesView:
    return ReadmesView(ws)
