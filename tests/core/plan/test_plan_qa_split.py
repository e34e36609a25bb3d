"""qa's rules on hand-made records; split/SFT/suite on a catalog whose gate accepted a plan."""

from __future__ import annotations

import json
import shutil

from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.exports import run_split
from graftwork.core.plan.planner import run_plan
from graftwork.core.plan.qa import check_records


def rec(rid: str, prompt: str, response: str, **extra) -> dict:
    return {"id": rid, "category": "c", "prompt": prompt, "response": response, **extra}


def test_qa_rules_remove_what_they_name_and_keep_the_rest() -> None:
    rows = [
        rec(
            "a",
            "How do I get around Lisbon cheaply?",
            "Buy a Viva Viagem card and ride the trams and metro.",
        ),
        rec("b", "How do I get around Lisbon cheaply?", "Walk."),
        rec("c", "Where to eat in Porto?", "Buy a Viva Viagem card and ride the trams and metro."),
        rec("d", "how do i get around lisbon cheaply ?!", "Something else entirely, friend."),
        rec("e", "What is a good day trip from Kyoto?", ""),
        rec("f", "What should I pack for Oslo in winter?", "Bring wool layers, a warm hat and"),
        rec(
            "g",
            "Explain the tipping customs in Japan please.",
            "Explain the tipping customs in Japan, please.",
        ),
        rec(
            "h",
            "What are the best museums in Madrid for kids?",
            "Die besten Museen sind nicht weit, und es ist für die Kinder ein Spaß mit der Familie.",
        ),
        rec(
            "i",
            "Is Tbilisi safe at night for a solo traveller?",
            "Mostly yes: stay on lit streets and use licensed taxis.",
        ),
    ]
    kept, removed = check_records(rows, wants_json=False)
    assert [r["id"] for r in kept] == ["a", "i"]
    assert {r["id"]: r["rule"] for r in removed} == {
        "b": "exact_duplicate",
        "c": "exact_duplicate",
        "d": "near_duplicate",
        "e": "empty",
        "f": "truncated",
        "g": "repeats_prompt",
        "h": "language_mismatch",
    }
    _, removed = check_records(
        [rec("j", "Plan a day in Rome", '{"summary": "x"', response_json=None)], wants_json=True
    )
    assert removed[0]["rule"] == "truncated"


def test_split_sft_and_suite_are_seeded_and_the_suite_is_never_in_train(
    workspace: Workspace,
) -> None:
    specs = configs_dir() / "specs"
    shutil.copy(specs / "travel_guide.yaml", workspace.root / "spec.yaml")
    shutil.copy(specs / "travel_cities.txt", workspace.root)
    db = workspace.catalog()
    run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    for row in store.plan_items(db, store.latest_spec(db)["id"]):
        answer = json.dumps(
            {
                "summary": f"About: {row['prompt']}",
                "assumptions": [],
                "steps": [{"title": "Go", "detail": "now"}],
                "tips": [],
                "verify": ["hours"],
            }
        )
        store.save_gate(
            db,
            "main",
            row["item_id"],
            state="accepted",
            answer=answer,
            answer_stage="draft",
            parse_ok=1,
            schema_ok=1,
            mode="lenient",
            decided_by="gate",
            dry_run=0,
        )
    result = run_job(db, "split", lambda job: run_split(workspace, job=job))
    db.close()
    counts = result.summary["counts"]
    assert (
        sum(counts.values()) == 120 and counts["train"] > counts["val"] > 0 and counts["test"] > 0
    )
    root = workspace.root / "data" / "processed"
    read = lambda p: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]  # noqa: E731
    train_ids = {r["id"] for r in read(root / "splits" / "v1" / "train.jsonl")}
    test = read(root / "splits" / "v1" / "test.jsonl")
    sft = read(root / "sft" / "v1" / "train_sft.jsonl")
    assert len(sft) == counts["train"]
    assert [m["role"] for m in sft[0]["messages"]] == ["system", "user", "assistant"]
    suite_path = workspace.root / "eval" / "suites" / "fixed20_v1.jsonl"
    suite = read(suite_path)
    assert len(suite) == min(20, len(test))
    assert not {s["id"] for s in suite} & train_ids
    assert {s["id"] for s in suite} <= {r["id"] for r in test}
    # Stratified: every category the test split holds is in the suite.
    assert {s["category"] for s in suite} == {r["category"] for r in test}
    first = suite_path.read_bytes()
    db = workspace.catalog()
    run_job(db, "split", lambda job: run_split(workspace, job=job))
    db.close()
    assert suite_path.read_bytes() == first


def test_budget_and_build_work_on_a_plan_workspace(workspace: Workspace) -> None:
    from graftwork import wiring

    specs = configs_dir() / "specs"
    shutil.copy(specs / "travel_guide.yaml", workspace.root / "spec.yaml")
    shutil.copy(specs / "travel_cities.txt", workspace.root)
    config = workspace.config_path.read_text(encoding="utf-8")
    # init writes `recipe: uebersicht`; a second key would be ignored by YAML's last-wins rule
    config = config.replace("recipe: uebersicht", "recipe: plan")
    workspace.config_path.write_text(config, encoding="utf-8")
    with workspace.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(workspace, job=job))
        rows = store.plan_items(db, store.latest_spec(db)["id"])
        for i, row in enumerate(rows[:10]):
            state = "accepted" if i < 8 else "rejected"
            store.save_gate(
                db,
                "main",
                row["item_id"],
                state=state,
                answer=json.dumps({"summary": row["prompt"]}),
                answer_stage="draft",
                reasons=[] if i < 8 else ["schema: x"],
                mode="lenient",
                decided_by="gate",
                dry_run=0,
            )
        budget = run_job(db, "budget", lambda job: wiring.budget(workspace, job=job))
        built = run_job(db, "build", lambda job: wiring.build(workspace, "travel", job=job))
    assert budget.summary["keep"] == 8
    assert built.exit_code == 0
    lines = [
        json.loads(line)
        for split in ("train", "valid", "test")
        for line in (workspace.datasets_dir / "travel" / f"{split}.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert len(lines) == 8
    roles = [m["role"] for m in lines[0]["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert {json.loads(x["messages"][2]["content"])["summary"] for x in lines} == {
        x["messages"][1]["content"] for x in lines
    }


def test_build_and_split_assign_every_prompt_to_the_same_split(workspace: Workspace) -> None:
    """One source of truth: the spec's fractions and seed. The project's own splits (set far
    apart here on purpose) must not move a plan example to another split in build."""
    from graftwork import wiring

    specs = configs_dir() / "specs"
    shutil.copy(specs / "travel_guide.yaml", workspace.root / "spec.yaml")
    shutil.copy(specs / "travel_cities.txt", workspace.root)
    config = workspace.config_path.read_text(encoding="utf-8")
    config = config.replace("recipe: uebersicht", "recipe: plan").replace(
        "project: {}", "project: {splits: {train: 0.34, valid: 0.33, test: 0.33}, seed: 3}"
    )
    workspace.config_path.write_text(config, encoding="utf-8")
    with workspace.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(workspace, job=job))
        for row in store.plan_items(db, store.latest_spec(db)["id"]):
            store.save_gate(
                db,
                "main",
                row["item_id"],
                state="accepted",
                answer=json.dumps({"summary": row["prompt"]}),
                answer_stage="draft",
                mode="lenient",
                decided_by="gate",
                dry_run=0,
            )
        run_job(db, "split", lambda job: run_split(workspace, job=job))
        run_job(db, "budget", lambda job: wiring.budget(workspace, job=job))
        built = run_job(db, "build", lambda job: wiring.build(workspace, "travel", job=job))
    assert built.exit_code == 0
    split_dir = workspace.root / "data" / "processed" / "splits" / "v1"
    by_split = {
        rec["id"]: {"val": "valid"}.get(name, name)
        for name in ("train", "val", "test")
        for rec in map(json.loads, (split_dir / f"{name}.jsonl").read_text().splitlines())
    }
    manifest = json.loads((workspace.datasets_dir / "travel" / "manifest.json").read_text())
    by_build = {item["id"]: item["split"] for item in manifest["items"]}
    assert len(by_build) == len(by_split) == 120
    assert by_build == by_split
    assert manifest["splits"] == {"train": 0.8, "valid": 0.1, "test": 0.1}
    assert sum(1 for s in by_build.values() if s == "train") > 80  # not the project's 0.34
