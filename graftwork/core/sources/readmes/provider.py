"""The readmes recipe's ExampleProvider: one example per active README chunk with a usable
instruction.

    system    readmes.system_prompt
    user      instruction + "\n\n" + the repository's input (project type, language, file
              tree, key files), i.e. Alpaca's instruction and input joined
    assistant the chunk

The prompt revision holds the instruction only; the input comes from the catalog, so an
instruction edited in the workstation still trains with the current file tree. Meta carries
the lossless Alpaca fields and ``split_key`` (the repository), so every chunk of a
repository lands in the same split and no README leaks between train and test.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.candidates import current_prompts, prompt_skip_reason
from graftwork.core.dataset.examples import ALPACA_JOIN, Example, alpaca_user, make_example
from graftwork.core.sources.base import Candidate
from graftwork.core.sources.readmes.config import ReadmesConfig, load_readmes_config
from graftwork.core.sources.readmes.templates import RepoContext

_ACTIVE_SQL = """
SELECT c.item_id, c.repo_id, c.sha256 FROM readme_chunks c JOIN items i ON i.id = c.item_id
WHERE c.active = 1 ORDER BY i.manifest_order, c.item_id
"""


def split_instruction(prompt: str, rendered: str) -> str:
    """The instruction of a prompt that may already carry the input (an edit of the whole
    user turn): the input is never added twice."""
    suffix = ALPACA_JOIN + rendered
    return prompt[: -len(suffix)] if prompt.endswith(suffix) else prompt


class ReadmesExamples:
    def __init__(self, ws: Workspace, cfg: ReadmesConfig | None = None) -> None:
        self.cfg = cfg or load_readmes_config(ws)
        self._repos: dict[str, tuple[str, RepoContext, str]] = {}  # id -> (updated, ctx, hash)

    # -- repository context, cached while the row is unchanged --------------------------
    def context(self, db: Any, repo_id: str) -> tuple[RepoContext, str]:
        row = db.execute("SELECT updated_at FROM readme_repos WHERE id = ?", [repo_id]).fetchone()
        if row is None:
            raise ValueError(f"repository {repo_id} is not in the catalog")
        cached = self._repos.get(repo_id)
        if cached is not None and cached[0] == row[0]:
            return cached[1], cached[2]
        full = next(iter(db.query("SELECT * FROM readme_repos WHERE id = ?", [repo_id])))
        ctx = RepoContext.from_row(
            full, self.cfg.collect.tree_max_files, with_keys=self.cfg.key_files_in_examples
        )
        ident = hashlib.sha256(
            json.dumps([self.cfg.system_prompt, ctx.render()], ensure_ascii=False).encode()
        ).hexdigest()
        self._repos[repo_id] = (row[0], ctx, ident)
        return ctx, ident

    def _chunk(self, db: Any, item_id: str) -> tuple[str, str]:
        row = db.execute(
            "SELECT text, repo_id FROM readme_chunks WHERE item_id = ?", [item_id]
        ).fetchone()
        if row is None:
            raise ValueError("not a README chunk of this workspace (run `graftwork chunk`)")
        return row[0], row[1]

    # -- the port -------------------------------------------------------------------------
    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        prompts = current_prompts(db)
        out: list[Candidate] = []
        skipped: list[tuple[str, str]] = []
        for item_id, repo_id, sha in db.execute(_ACTIVE_SQL).fetchall():
            reason = prompt_skip_reason(prompts.get(item_id))
            if reason is not None:
                skipped.append((item_id, reason.replace("prompt", "instruction")))
                continue
            try:
                _, ctx_hash = self.context(db, repo_id)
            except ValueError as exc:
                skipped.append((item_id, str(exc)))
                continue
            out.append(Candidate(item_id, prompts[item_id][0], f"{sha}:{ctx_hash}", ref=repo_id))
        return out, skipped

    def example(self, db: Any, cand: Candidate) -> Example:
        return self.example_for(db, cand.item_id, cand.prompt)

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        text, repo_id = self._chunk(db, item_id)
        ctx, _ = self.context(db, repo_id)
        rendered = ctx.render()
        instruction = split_instruction(prompt.strip(), rendered).strip()
        meta = {
            "alpaca": {"instruction": instruction, "input": rendered},
            "split_key": repo_id,
            "repo_id": repo_id,
        }
        return make_example(
            item_id, self.cfg.system_prompt, None, alpaca_user(instruction, rendered), text, meta
        )

    def record(self, db: Any, item_id: str, prompt: str) -> dict[str, Any]:
        """The seed's SFT record: {"instruction", "input": {file_tree, project_type,
        key_files?}, "content"}."""
        text, repo_id = self._chunk(db, item_id)
        ctx, _ = self.context(db, repo_id)
        return {
            "instruction": split_instruction(prompt.strip(), ctx.render()).strip(),
            "input": ctx.record_input(),
            "content": text,
        }


def provider(ws: Workspace) -> ReadmesExamples:
    """The recipe's `examples` factory."""
    return ReadmesExamples(ws)
