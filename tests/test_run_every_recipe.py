"""`graftwork init --recipe X` then `graftwork run`: every recipe ends with a built set, or
with one line that names the missing input and how to give it (a flag or graftwork.yaml's
`run:` section). Real CLI, real SQLite, the real fake teacher server on 127.0.0.1 for plan,
the readmes teacher in dry-run mode (no network)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from support.fake_openai_server import FakeOpenAIServer

from graftwork.cli import main
from graftwork.core.base.workspace import Workspace
from graftwork.core.recipes import get_recipe
from graftwork.core.stages import get_stage

REPO = Path(__file__).resolve().parents[1]


def gw(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0)


def init(tmp_path: Path, recipe: str) -> Workspace:
    root = tmp_path / f"ws-{recipe}"
    assert gw("init", str(root), "--recipe", recipe) == 0
    return Workspace(root)


def configure(ws: Workspace, old: str, new: str) -> None:
    text = ws.config_path.read_text(encoding="utf-8")
    assert old in text
    ws.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")


def job_kinds(ws: Workspace) -> list[str]:
    with ws.catalog() as db:
        return [r[0] for r in db.execute("select kind from jobs order by started_at, rowid")]


def assert_built(ws: Workspace, recipe: str, name: str = "s1") -> dict:
    manifest = json.loads((ws.datasets_dir / name / "manifest.json").read_text())
    lines = sum(
        len((ws.datasets_dir / name / f"{split}.jsonl").read_text().splitlines())
        for split in ("train", "valid", "test")
    )
    assert lines > 0, f"{recipe}: the set is empty"
    kinds = [get_stage(stage).job_kind for stage in get_recipe(recipe).stages]
    assert job_kinds(ws)[-len(kinds) :] == kinds  # every stage ran, in the recipe's order
    return manifest


def test_readmes_collects_chunks_instructs_and_builds_from_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init(tmp_path, "readmes")
    configure(ws, "teacher: {}", "teacher: {dry_run: true}")
    code = gw("-w", str(ws.root), "run", "--set", "s1")
    assert code == 2
    err = capsys.readouterr().err
    assert "needs one of --source PATH_OR_URL, --repos FILE, --awesome FILE_OR_URL" in err
    assert "run.sources" in err and job_kinds(ws) == []  # said before any stage started

    repos = REPO / "data" / "readmes"
    sources = [a for name in ("tallyho", "gopherping") for a in ("--source", str(repos / name))]
    assert gw("-w", str(ws.root), "run", *sources, "--set", "s1") == 0, capsys.readouterr()
    assert_built(ws, "readmes")
    assert (ws.datasets_dir / "s1" / "sft_dataset.json").is_file()  # the seed's records
    with ws.catalog() as db:
        assert db["readme_repos"].count == 2


def test_readmes_takes_its_sources_as_lists_from_graftwork_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init(tmp_path, "readmes")
    assert "#   sources: [" in ws.config_path.read_text()  # the starter shows this recipe's inputs
    for name in ("tallyho", "pocketnote"):
        shutil.copytree(REPO / "data" / "readmes" / name, ws.root / "mine" / name)
    (ws.root / "more.txt").write_text("mine/pocketnote\n", encoding="utf-8")
    configure(ws, "teacher: {}", "teacher: {dry_run: true}")
    # relative paths in graftwork.yaml are relative to the workspace, not the current folder
    configure(ws, "run: {}", "run: {sources: [mine/tallyho], repos: more.txt, set: s1}")
    assert gw("-w", str(ws.root), "run") == 0, capsys.readouterr()
    assert_built(ws, "readmes")
    with ws.catalog() as db:
        repos = {r[0] for r in db.execute("select repo from readme_repos")}
    assert repos == {"tallyho", "pocketnote"}

    configure(ws, "sources: [mine/tallyho]", "sources: mine/tallyho")
    assert gw("-w", str(ws.root), "run") == 2
    assert "key 'run.sources' must be a list of strings" in capsys.readouterr().err


def test_import_imports_the_given_files_then_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init(tmp_path, "import")
    assert "#   import: [" in ws.config_path.read_text()
    assert gw("-w", str(ws.root), "run", "--set", "s1") == 2
    err = capsys.readouterr().err
    assert "Missing option '--import'" in err and "run.import" in err
    records = tmp_path / "mine.jsonl"
    records.write_text(
        "".join(
            json.dumps({"instruction": f"Say {n}.", "input": "", "output": f"{n}."}) + "\n"
            for n in range(12)
        ),
        encoding="utf-8",
    )
    assert gw("-w", str(ws.root), "run", "--import", str(records), "--set", "s1") == 0
    assert_built(ws, "import")
    with ws.catalog() as db:
        assert db["import_examples"].count == 12
    # from graftwork.yaml, relative to the workspace; a re-import of the same file changes nothing
    shutil.copy(records, ws.root / "mine.jsonl")
    configure(ws, "run: {}", "run: {import: [mine.jsonl], set: s2}")
    assert gw("-w", str(ws.root), "run") == 0, capsys.readouterr()
    assert_built(ws, "import", "s2")


@pytest.mark.parametrize("recipe", ["buckets", "templates"])
def test_rule_recipes_build_from_their_starter_files(
    tmp_path: Path, recipe: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init(tmp_path, recipe)
    assert gw("-w", str(ws.root), "run") == 2
    assert "Missing option '--set'" in capsys.readouterr().err
    assert gw("-w", str(ws.root), "run", "--set", "s1") == 0, capsys.readouterr()
    assert_built(ws, recipe)


PLAN_SPEC = """\
dataset: {name: tips, version: v1}
system_prompt: You give travel tips as JSON.
seed: 3
variables:
  city: [Oslo, Lima, Kyoto, Accra, Quito, Porto, Hanoi, Perth]
categories:
  tips:
    count: 8
    templates: ["Tips for {{ city }}?"]
contract:
  format: json
  schema:
    type: object
    required: [summary, steps]
    properties:
      summary: {type: string}
      steps: {type: array, items: {type: string}, minItems: 1}
gating: {min_chars: 10, required_keys: [summary]}
"""


def plan_teacher(body: dict) -> str:
    if body["messages"][0]["content"].startswith("[stage:critique]"):
        return json.dumps({"verdict": "pass", "issues": []})
    city = body["messages"][-1]["content"].split("Tips for ")[-1].split("?")[0]
    # a different answer per prompt: qa drops duplicate answers
    return json.dumps({"summary": f"A good day in {city}, on foot.", "steps": ["walk", "eat"]})


def test_plan_plans_teaches_gates_and_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init(tmp_path, "plan")
    (ws.root / "spec.yaml").write_text(textwrap.dedent(PLAN_SPEC), encoding="utf-8")
    with FakeOpenAIServer(responder=plan_teacher) as server:
        configure(
            ws, "teacher: {}", f"teacher: {{base_url: '{server.base_url}', api_key_env: null}}"
        )
        assert gw("-w", str(ws.root), "run", "--set", "s1") == 0, capsys.readouterr()
    manifest = assert_built(ws, "plan")
    assert len(manifest["items"]) == 8


def test_a_run_that_calls_the_teacher_says_so_and_asks_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = init(tmp_path, "plan")
    (ws.root / "spec.yaml").write_text(textwrap.dedent(PLAN_SPEC), encoding="utf-8")
    # the default teacher needs OPENAI_API_KEY: said before any stage starts
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert gw("-w", str(ws.root), "run", "--set", "s1") == 2
    assert "the teacher API key is missing" in capsys.readouterr().err
    assert job_kinds(ws) == []
    with FakeOpenAIServer(responder=plan_teacher) as server:
        configure(
            ws, "teacher: {}", f"teacher: {{base_url: '{server.base_url}', api_key_env: null}}"
        )
        # A terminal cannot run under pytest: stdin says it is one, and the answer is "no".
        monkeypatch.setattr("sys.stdin.isatty", lambda: True)
        monkeypatch.setattr("click.confirm", _refuse)
        assert gw("-w", str(ws.root), "run", "--set", "s1") == 130  # aborted, as Ctrl-C
        err = capsys.readouterr().err
        assert "asks the teacher" in err and "teach drafts, teach critiques, teach refine" in err
        assert job_kinds(ws) == [] and server.served() == []  # nothing ran, nothing was sent
        assert gw("-w", str(ws.root), "run", "--set", "s1", "--yes") == 0


def _refuse(*_args: object, **_kw: object) -> None:
    import click

    raise click.Abort()
