"""Recipes: a workspace names one in graftwork.yaml; `graftwork recipes` lists them;
`graftwork run` runs the workspace recipe's stages with inputs from flags or `run:`."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from support.cli import run_cli

from graftwork.cli import cli
from graftwork.core import recipes
from graftwork.core.base.config import workspace_settings
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.project import load_project
from graftwork.core.base.workspace import Workspace
from graftwork.core.recipes import Recipe, get_recipe, workspace_recipe, workspace_recipe_name
from graftwork.core.stages import get_stage

# A recipe of this test module (registered by the `toy_recipe` fixture): stages that need
# no network, one of them with a required input of its own.
RECIPE = Recipe(
    name="toy",
    summary="a test recipe",
    source="toy",
    stages=("analyze", "prompts.import", "prompts.draft"),
    example_shape="chat",
)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, standalone_mode=False)
    return result.exit_code, result.output


def main(*args: str) -> tuple[int, str, str]:
    """The real entry point in a child process (exit codes and output as a user sees them)."""
    proc = run_cli(*args, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def toy_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(recipes.RECIPE_MODULES, "toy", __name__)


def test_init_stores_the_default_recipe_and_the_config_stays_strict(tmp_path: Path) -> None:
    code, out, err = main("init", str(tmp_path / "ws"))
    assert code == 0, err
    assert "recipe uebersicht" in out
    ws = Workspace(tmp_path / "ws")
    assert workspace_settings(ws)["recipe"] == "uebersicht"
    assert workspace_recipe_name(ws) == "uebersicht"
    load_project(ws)  # the other sections still load beside the new key


def test_init_with_an_unknown_recipe_is_one_line_listing_the_known(tmp_path: Path) -> None:
    code, _, err = main("init", str(tmp_path / "ws"), "--recipe", "widgetz")
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: unknown recipe 'widgetz'; known: {', '.join(sorted(recipes.RECIPE_MODULES))}"
    ]
    assert not (tmp_path / "ws").exists()


def test_init_again_keeps_the_recipe_and_refuses_another(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "ws")
    assert main("init", str(tmp_path / "ws"))[0] == 0
    code, _, err = main("init", str(tmp_path / "ws"), "--recipe", "import")
    assert code == 2
    assert "already a workspace with recipe 'uebersicht'" in err or "not available" in err


def test_an_unknown_recipe_in_graftwork_yaml_is_a_config_error(workspace: Workspace) -> None:
    text = workspace.config_path.read_text().replace("recipe: uebersicht", "recipe: nope")
    workspace.config_path.write_text(text)
    with pytest.raises(ConfigError, match=r"graftwork\.yaml: key 'recipe': unknown recipe 'nope'"):
        workspace_recipe(workspace)  # what budget, build, run and the workstation ask
    code, _, err = main("-w", str(workspace.root), "budget")
    assert code == 2 and "unknown recipe 'nope'; known: " in err


def test_a_recipe_that_is_not_a_name_is_a_config_error(workspace: Workspace) -> None:
    text = workspace.config_path.read_text().replace("recipe: uebersicht", "recipe: [1, 2]")
    workspace.config_path.write_text(text)
    with pytest.raises(ConfigError, match=r"key 'recipe' must be a name, got list"):
        load_project(workspace)  # every reader of graftwork.yaml sees it


def test_a_workspace_from_before_recipes_is_uebersicht(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    lines = ws.config_path.read_text().splitlines()
    ws.config_path.write_text("\n".join(x for x in lines if not x.startswith("recipe:")))
    assert workspace_recipe_name(ws) == "uebersicht"


def test_recipes_lists_one_line_each_with_its_stages() -> None:
    code, out, err = main("recipes")
    assert code == 0, err
    lines = out.splitlines()
    ueb = next(line for line in lines if line.startswith("uebersicht "))
    assert "ingest > analyze > prompts.draft > budget > build" in ueb
    assert len(lines) == len(recipes.available_recipes())


def test_every_recipe_names_declared_stages_and_an_example_factory() -> None:
    for recipe in recipes.available_recipes():
        assert recipe.stages, recipe.name
        for name in recipe.stages:
            assert get_stage(name).name == name
        module, _, attr = recipe.examples.partition(":")
        assert module.startswith("graftwork.core.") and attr, recipe.name


def test_the_uebersicht_recipe_keeps_todays_pipeline_and_table() -> None:
    ueb = get_recipe("uebersicht")
    assert ueb.source == "uebersicht" and ueb.set_format == "apple"
    assert ueb.stages == ("ingest", "analyze", "prompts.draft", "budget", "build")
    assert ueb.examples == "graftwork.core.sources.uebersicht:provider"
    from graftwork.tui.widgets.widgets_pane import COLUMNS

    assert [c.label for c in ueb.columns] == [label for label, _, _ in COLUMNS]
    assert [c.width for c in ueb.columns] == [width for _, width, _ in COLUMNS]


# -- run ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("toy_recipe")
def test_run_runs_the_workspace_recipe_and_names_a_missing_input(workspace: Workspace) -> None:
    text = workspace.config_path.read_text().replace("recipe: uebersicht", "recipe: toy")
    workspace.config_path.write_text(text)
    with pytest.raises(
        click.UsageError, match=r"Missing option '--prompts-dir': stage 'prompts imp"
    ):
        invoke("-w", str(workspace.root), "run")
    with workspace.catalog() as db:
        assert db["jobs"].count == 0  # said before any stage ran
    prompts = workspace.root / "my-prompts"
    prompts.mkdir()
    code, out = invoke("-w", str(workspace.root), "run", "--prompts-dir", str(prompts))
    assert code == 0, out
    with workspace.catalog() as db:
        kinds = [r[0] for r in db.execute("select kind from jobs order by started_at, rowid")]
    assert kinds == ["analyze", "prompts.import", "prompts.draft"]


@pytest.mark.usefixtures("toy_recipe")
def test_run_takes_its_inputs_from_graftwork_yaml(workspace: Workspace) -> None:
    prompts = workspace.root / "my-prompts"
    prompts.mkdir()
    text = workspace.config_path.read_text().replace("recipe: uebersicht", "recipe: toy")
    text = text.replace("run: {}", f"run: {{prompts_dir: {prompts}}}")
    workspace.config_path.write_text(text)
    code, out = invoke("-w", str(workspace.root), "run")
    assert code == 0, out
    workspace.config_path.write_text(text.replace("prompts_dir:", "prompt_dir:"))
    with pytest.raises(ConfigError, match=r"unknown key 'run.prompt_dir'; expected some of"):
        invoke("-w", str(workspace.root), "run")


def test_init_puts_a_recipes_starter_files_in_a_new_workspace(tmp_path: Path) -> None:
    code, out, err = main("init", str(tmp_path / "ws"), "--recipe", "plan")
    assert code == 0, err
    assert "wrote spec.yaml" in out and "recipe plan" in out
    assert (tmp_path / "ws" / "spec.yaml").is_file()
    assert workspace_recipe_name(Workspace(tmp_path / "ws")) == "plan"
