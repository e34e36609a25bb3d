"""collect from folders and git repositories made in the test (real git CLI, real catalog)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import PY_FILES, collect, configure, repo_row
from support.git_repos import file_url, git, make_repo, write_files

from graftwork.core.base.workspace import Workspace


def test_plain_folder_honours_gitignore_skips_vendored_and_outside_symlinks(
    workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    write_files(
        root,
        {
            **PY_FILES,
            ".gitignore": "*.log\n/secret/\n",
            "debug.log": "noise",
            "secret/key.txt": "hidden",
            "docs/.gitignore": "draft-*\n!draft-keep.md\n",
            "docs/draft-1.md": "x",
            "docs/draft-keep.md": "kept",
            "docs/guide.md": "guide",
            "node_modules/lib/index.js": "vendored",
            "build/out.txt": "generated",
            "src/tool/__pycache__/cli.pyc": "cache",
        },
    )
    os.symlink("/etc/hostname", root / "outside")
    os.symlink("src/tool/cli.py", root / "inside")
    result = collect(workspace, str(root))
    assert result.ok == 1 and not result.failed
    row = repo_row(workspace, "proj")
    tree = json.loads(row["file_tree"])
    assert tree == [
        ".gitignore",
        "README.md",
        "docs/.gitignore",
        "docs/draft-keep.md",
        "docs/guide.md",
        "inside",
        "pyproject.toml",
        "src/tool/__init__.py",
        "src/tool/cli.py",
    ]
    assert json.loads(row["notes"]) == ["symlink outside points outside the repository; left out"]
    assert (row["language"], row["project_type"], row["license"]) == ("Python", "cli", "MIT")
    keys = [k["path"] for k in json.loads(row["key_files"])]
    assert keys == ["pyproject.toml", "src/tool/cli.py"]


def test_git_work_tree_lists_tracked_files_and_names_submodules(
    workspace: Workspace, tmp_path: Path
) -> None:
    sub = make_repo(tmp_path / "sub", {"README.md": "# Sub\n"})
    root = make_repo(tmp_path / "main", PY_FILES)
    git(root, "submodule", "add", "-q", file_url(sub), "ext/sub")
    git(root, "commit", "-q", "-m", "sub")
    (root / "untracked.py").write_text("x = 1\n")
    result = collect(workspace, str(root))
    assert result.ok == 1
    row = repo_row(workspace, "main")
    tree = json.loads(row["file_tree"])
    assert "untracked.py" not in tree and "ext/sub" not in tree
    assert ".gitmodules" in tree and "src/tool/cli.py" in tree
    assert json.loads(row["notes"]) == ["submodule ext/sub not collected"]


def test_git_url_is_cloned_shallow_into_the_workspace_and_recollected(
    workspace: Workspace, tmp_path: Path
) -> None:
    origin = make_repo(tmp_path / "origin" / "tool.git", PY_FILES)
    url = file_url(origin)
    assert collect(workspace, url).ok == 1
    row = repo_row(workspace, "tool")
    assert row["origin"] == "git" and row["checkout"] == "repos/tool"
    clone = workspace.root / "repos" / "tool"
    assert git(clone, "rev-list", "--count", "HEAD").strip() == "1"
    write_files(origin, {"CHANGELOG.md": "# 1.1\n"})
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "more")
    assert collect(workspace, url).ok == 1
    assert "CHANGELOG.md" in json.loads(repo_row(workspace, "tool")["file_tree"])
    leftovers = [p.name for p in (workspace.root / "repos").iterdir() if p.name != "tool"]
    assert leftovers == []


def test_bad_repositories_are_named_with_their_cause_and_the_others_go_on(
    workspace: Workspace, tmp_path: Path
) -> None:
    configure(workspace, collect={"max_files": 5, "max_readme_bytes": 2000})
    good = make_repo(tmp_path / "good", PY_FILES)
    no_readme = make_repo(tmp_path / "noreadme", {"a.py": "x = 1\n"})
    big = make_repo(tmp_path / "big", {"README.md": "# Big\n\n" + "word " * 1000})
    latin = make_repo(tmp_path / "latin", {"README.md": "Caf\xe9\n".encode("latin-1")})
    empty = make_repo(tmp_path / "empty", {}, commit=False)
    many = make_repo(tmp_path / "many", {f"f{i}.py": "" for i in range(6)} | {"README.md": "x"})
    cloned_empty = file_url(make_repo(tmp_path / "void.git", {}, commit=False))
    result = collect(
        workspace,
        *(str(p) for p in (good, no_readme, big, latin, empty, many)),
        cloned_empty,
        str(tmp_path / "nowhere"),
    )
    assert result.ok == 1
    causes = dict(result.failed)
    assert causes["noreadme"].startswith("no README at the top level")
    assert causes["big"] == "README.md is 5,007 bytes, over the 2,000 bytes limit"
    assert causes["latin"] == "README.md is not UTF-8 (invalid byte at offset 3)"
    assert causes["empty"] == "empty repository (no files)"
    assert causes["many"] == "7 files, over the limit of 5 (max_files)"
    assert causes["void"] == "empty repository (no files)"
    assert causes["nowhere"].endswith("nowhere does not exist")
    assert repo_row(workspace, "latin")["status"] == "failed"
    exported = json.loads((workspace.root / "collection/awesome_readme_data.json").read_text())
    assert [r["repo"] for r in exported] == ["good"]


def test_a_failed_recollect_keeps_the_last_good_snapshot(
    workspace: Workspace, tmp_path: Path
) -> None:
    root = make_repo(tmp_path / "proj", PY_FILES)
    assert collect(workspace, str(root)).ok == 1
    (root / "README.md").unlink()
    result = collect(workspace, str(root))
    assert result.failed == [
        ("proj", "no README at the top level (README, README.md, .rst or .txt)")
    ]
    row = repo_row(workspace, "proj")
    assert row["status"] == "failed" and row["readme"].startswith("# Tool")


def test_without_git_a_clone_fails_by_name_and_folders_are_walked(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "proj", {**PY_FILES, ".gitignore": "*.tmp\n"})
    (root / "scratch.tmp").write_text("x")
    url = file_url(make_repo(tmp_path / "other.git", PY_FILES))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # git cannot be found
    result = collect(workspace, str(root), url)
    assert result.ok == 1
    assert result.failed == [("other", "git is not installed, so this URL cannot be cloned")]
    assert "scratch.tmp" not in json.loads(repo_row(workspace, "proj")["file_tree"])
    assert result.summary["note"].startswith("git is not installed")


def test_same_folder_name_from_two_places_gets_two_stable_ids(
    workspace: Workspace, tmp_path: Path
) -> None:
    a = make_repo(tmp_path / "a" / "tool", PY_FILES)
    b = make_repo(tmp_path / "b" / "tool", PY_FILES)
    assert collect(workspace, str(a), str(b)).ok == 2
    with workspace.catalog() as db:
        ids = {r["location"]: r["id"] for r in db.query("SELECT id, location FROM readme_repos")}
    assert ids[str(a)] == "tool" and ids[str(b)].startswith("tool-")
    assert collect(workspace, str(b)).ok == 1
    with workspace.catalog() as db:
        assert db.execute("SELECT COUNT(*) FROM readme_repos").fetchone()[0] == 2
