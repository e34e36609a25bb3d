"""Texts of the readmes recipe: the system prompt of its examples, the rendering of a
repository's context (the seed's `input`: file tree, project type, key files), the template
instruction every chunk starts with, and the teacher's prompt for instructions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KIND_WORDS = {
    "web_application": "web application",
    "cli": "command-line tool",
    "library": "library",
    "mobile_app": "mobile app",
    "browser_extension": "browser extension",
    "data_science": "data science project",
    "infrastructure": "infrastructure project",
    "documentation": "documentation project",
    "game": "game",
    "other": "project",
}


@dataclass(frozen=True)
class RepoContext:
    """What every chunk of one repository carries: the seed's `input`."""

    repo_id: str
    file_tree: list[str]
    project_type: str
    language: str = ""
    key_files: list[dict[str, Any]] = field(default_factory=list)
    tree_total: int = 0  # files in the whole tree (file_tree may be cut at tree_max_files)

    @classmethod
    def from_row(cls, row: dict[str, Any], tree_max: int, *, with_keys: bool = True) -> RepoContext:
        tree = json.loads(row.get("file_tree") or "[]")
        keys = json.loads(row.get("key_files") or "[]") if with_keys else []
        return cls(
            repo_id=row["id"],
            file_tree=tree[:tree_max],
            project_type=row.get("project_type") or "",
            language=row.get("language") or "",
            key_files=[{"path": k["path"], "content": k["content"]} for k in keys],
            tree_total=len(tree),
        )

    def record_input(self) -> dict[str, Any]:
        """The seed's `input` object (key_files only when there are some)."""
        out: dict[str, Any] = {"file_tree": self.file_tree, "project_type": self.project_type}
        if self.key_files:
            out["key_files"] = self.key_files
        return out

    def render(self) -> str:
        """The input as the model reads it (the Alpaca `input` of each example)."""
        lines = []
        if self.project_type:
            lines.append(f"Project type: {self.project_type}")
        if self.language:
            lines.append(f"Primary language: {self.language}")
        lines.append("File tree:")
        lines += [f"- {p}" for p in self.file_tree]
        hidden = self.tree_total - len(self.file_tree)
        if hidden > 0:
            lines.append(f"- ... and {hidden} more files")
        for key in self.key_files:
            lines += ["", f"Key file {key['path']}:", "```", key["content"].rstrip(), "```"]
        return "\n".join(lines)


def template_instruction(heading: str, project_type: str, language: str) -> str:
    """The instruction a chunk starts with, before any teacher: names the section and the
    kind of project, so the pipeline works offline (and in dry runs)."""
    kind = KIND_WORDS.get(project_type, "project")
    lang = f"{language} " if language else ""
    what = f'the "{heading}" section' if heading else "the opening section"
    return (
        f"Write {what} of the README for this {lang}{kind}, based on its file structure. "
        "Use Markdown."
    )


INSTRUCT_SYSTEM = """[stage:instruct] You write training data for a model that writes README \
files from a project's file tree. You get numbered README sections, each with its repository's \
context (project type, file tree, key files). For each section write exactly one instruction: \
what a user would ask for to get exactly this section (which part of the README, for what kind \
of project, with which files). READMEs should include standard sections: About, Built With, \
Getting Started, Usage, License (optionally Roadmap, Contributing, Contact). Reply with a JSON \
list only, no Markdown fence, one object per section in the same order: \
[{"instruction": "..."}, ...]"""


def instruct_messages(
    items: list[tuple[str, str, RepoContext]], *, note: str = ""
) -> list[dict[str, str]]:
    """One teacher call for a batch of (item id, chunk text, context). A repository's context
    is written once for its first section in the batch."""
    parts: list[str] = []
    shown: set[str] = set()
    for n, (_, text, ctx) in enumerate(items, 1):
        parts.append(f"### Section {n}")
        if ctx.repo_id in shown:
            parts.append(f"(same repository as above: {ctx.repo_id})")
        else:
            shown.add(ctx.repo_id)
            parts += [f"Repository: {ctx.repo_id}", ctx.render()]
        parts += ["README section:", "<<<", text.strip(), ">>>", ""]
    ask = f"Write exactly {len(items)} instruction(s), as a JSON list of {len(items)} object(s)."
    if note:
        ask = f"{note}\n{ask}"
    return [
        {"role": "system", "content": INSTRUCT_SYSTEM},
        {"role": "user", "content": "\n".join(parts) + "\n" + ask},
    ]


def parse_instructions(text: str, expected: int) -> list[str]:
    """The instructions of a reply; ValueError with the reason when unusable."""
    body = text.strip()
    if body.startswith("```"):  # tolerate a fenced reply
        body = body.strip("`")
        body = body.split("\n", 1)[1] if "\n" in body else body
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("the reply is not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("instructions"), list):
        data = data["instructions"]
    if not isinstance(data, list):
        raise ValueError("the reply is not a JSON list")
    if len(data) != expected:
        raise ValueError(f"the reply has {len(data)} instruction(s) for {expected} section(s)")
    out = []
    for entry in data:
        value = entry.get("instruction") if isinstance(entry, dict) else entry
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an entry has no instruction text")
        out.append(value.strip())
    return out


def dry_run_instructions(user: str) -> str:
    """A dry-run reply: as many placeholder instructions as the call asks for."""
    count = user.count("### Section ")
    return json.dumps(
        [
            {"instruction": f"[dry-run] instruction {n}: no teacher was asked"}
            for n in range(1, count + 1)
        ]
    )
