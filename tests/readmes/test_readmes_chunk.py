"""Chunking READMEs: sizes, fenced code kept whole, link-only chunks dropped, stable ids."""

from __future__ import annotations

from pathlib import Path

from helpers import PY_FILES, collect, configure
from support.git_repos import write_files

from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.sources.readmes.chunking import chunk_readme, fence_spans, link_only
from graftwork.core.sources.readmes.chunks import chunk_stage

PROSE = "This tool reads a folder and writes a report about it. " * 8


def long_readme() -> str:
    parts = [
        "# Reporter\n\n[![CI](https://x/ci.svg)](https://x) [![PyPI](https://x/p.svg)](https://p)\n"
    ]
    for n in range(6):
        parts.append(f"## Part {n}\n\n{PROSE}\n\n{PROSE}\n")
    parts.append("## Example\n\n```python\n" + "print('a line of code')\n" * 120 + "```\n")
    parts.append("## Links\n\n- [Docs](https://d)\n- [API](https://a)\n- [Chat](https://c)\n")
    return "\n".join(parts)


def test_chunks_respect_sizes_and_never_cut_a_fence() -> None:
    text = long_readme()
    out = chunk_readme(text, min_chars=1000, max_chars=2000)
    bodies = [c.text for c in out.chunks]
    assert all(b.count("```") % 2 == 0 for b in bodies)  # every fence opened is closed
    fenced = [b for b in bodies if "```python" in b]
    assert len(fenced) == 1 and fenced[0].count("print(") == 120
    assert out.oversize == 1  # the code block alone is larger than max
    assert all(len(b) <= 2000 for b in bodies if "```" not in b)
    assert sum(len(b) >= 1000 for b in bodies) >= len(bodies) - 2
    assert out.dropped_link_only == 1  # the Links list
    assert [c.idx for c in out.chunks] == list(range(len(out.chunks)))
    assert out.chunks[1].heading.startswith("Part")


def test_link_only_detection() -> None:
    assert link_only("[![CI](https://x/ci.svg)](https://x) ![logo](l.png)")
    assert link_only("## Links\n\n- [Docs](https://d)\n- [API](https://a)\n")
    assert link_only('<p align="center"><img src="x.png"></p>')
    assert not link_only("See [the docs](https://d) for how to install the tool.")
    assert not link_only("```\n[x](y)\n```")


def test_fence_spans_follow_commonmark_closing_rules() -> None:
    text = "a\n````md\n```\ninner\n```\n````\nb\n~~~\nunclosed"
    spans = fence_spans(text)
    assert [text[s:e] for s, e in spans] == ["````md\n```\ninner\n```\n````", "~~~\nunclosed"]


def _chunk(ws: Workspace, **kw: object):
    with ws.catalog() as db:
        return run_job(db, "chunk", lambda job: chunk_stage(ws, job=job, **kw))


def test_chunk_stage_stores_items_with_template_instructions_and_is_stable(
    workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "reporter"
    write_files(root, {**PY_FILES, "README.md": long_readme()})
    badges = tmp_path / "badges"
    write_files(badges, {"README.md": "[![a](b)](c)\n", "x.py": ""})
    assert collect(workspace, str(root), str(badges)).ok == 2
    first = _chunk(workspace)
    assert first.failed == [
        ("badges", "README has no prose to learn from (only badges, images or links)")
    ]
    assert first.summary["dropped_link_only"] == 2
    with workspace.catalog() as db:
        items = [r["id"] for r in db.query("SELECT id FROM items ORDER BY manifest_order")]
        cur = prompts.current(db, items[1])
    assert items and all(i.startswith("reporter#") for i in items)
    assert (
        cur["origin"] == "template" and "Part" in cur["text"] and "command-line tool" in cur["text"]
    )
    again = _chunk(workspace)
    assert again.summary["unchanged"] == 1 and again.summary["new"] == 0
    # An edit in one part: only that chunk is new; the others keep their ids.
    (root / "README.md").write_text(long_readme().replace("## Part 5", "## Part Five"))
    assert collect(workspace, str(root)).ok == 1
    third = _chunk(workspace)
    assert third.summary["new"] == 1 and third.summary["inactive"] == 1
    with workspace.catalog() as db:
        active = db.execute("SELECT COUNT(*) FROM readme_chunks WHERE active = 1").fetchone()[0]
    assert active == len(items)


def test_chunk_settings_change_rechunks(workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "reporter"
    write_files(root, {**PY_FILES, "README.md": long_readme()})
    collect(workspace, str(root))
    before = _chunk(workspace).summary["chunks"]
    configure(workspace, chunk={"min_chars": 300, "max_chars": 600})
    after = _chunk(workspace)
    assert after.summary["unchanged"] == 0 and after.summary["chunks"] > before
