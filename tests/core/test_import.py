"""The import recipe: records from files -> catalog -> build -> exports, on real SQLite files
and the real offline tokenizer."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from graftwork import wiring
from graftwork.core.base.jobs import Cancelled, Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.budget import run_budget
from graftwork.core.dataset.build import build
from graftwork.core.dataset.exporters import export_set
from graftwork.core.ingest import records
from graftwork.core.sources import imported
from graftwork.core.sources.imported import import_paths


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    # every record in train: the round trips want each one back from one file
    text = workspace.config_path.read_text().replace(
        "project: {}", "project: {splits: {train: 1.0, valid: 0.0, test: 0.0}}"
    )
    workspace.config_path.write_text(text + "recipe: import\n")
    return workspace


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def do_import(ws: Workspace, *paths: Path, fmt: str = "auto") -> StageResult:
    return import_paths(ws, list(paths), fmt=fmt, job=Job(None, "import"))


def build_and_export(ws: Workspace, fmt: str, name: str = "s") -> list[dict]:
    """Budget, build (once) and one export; the exported train records."""
    counter = wiring.token_counter(ws)
    assert run_budget(ws, counter, job=Job(None, "budget")).failed == []
    if not (ws.datasets_dir / name).exists():
        assert build(ws, name, counter=counter, job=Job(None, "build")).failed == []
    result = export_set(ws, name, fmt)
    assert result.failed == []
    out = ws.datasets_dir / name / "export" / fmt / "train.jsonl"
    return [json.loads(line) for line in out.read_text().splitlines()]


def by_instruction(rows: list[dict]) -> dict[str, dict]:
    return {r["instruction"]: r for r in rows}


ALPACA = [
    {"instruction": "Say hi", "input": "", "output": "Hi!", "meta": {"id": "r1", "n": [1, 2]}},
    {"instruction": "Add", "input": "2 and 3", "output": "5\n", "meta": {"lang": "en"}},
    {"instruction": "  Spaces kept  ", "output": "ok"},
    {"instruction": "Übersetze", "input": "Haus", "output": "house", "meta": {}},
]


def test_alpaca_round_trip_gives_the_same_fields_and_meta(ws: Workspace, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "data.jsonl", ALPACA)
    result = do_import(ws, src)
    assert (result.ok, result.failed, result.summary["new"]) == (4, [], 4)
    out = by_instruction(build_and_export(ws, "alpaca"))
    assert len(out) == 4
    for record in ALPACA:
        got = out[record["instruction"]]
        assert (got["input"], got["output"]) == (record.get("input", ""), record["output"])
        if "meta" in record:
            assert got["meta"] == record["meta"]  # the record's own meta, exactly
        else:  # no meta of its own: graftwork's provenance
            assert got["meta"]["source"] == "import" and got["meta"]["id"] == "data-3"


def test_ids_come_from_meta_id_else_file_stem_and_line(ws: Workspace, tmp_path: Path) -> None:
    do_import(ws, write_jsonl(tmp_path / "my data.jsonl", ALPACA))
    db = ws.catalog()
    ids = [r[0] for r in db.execute("select id from items order by manifest_order")]
    prompts = dict(db.execute("select item_id, text from prompt_revisions").fetchall())
    db.close()
    assert ids == ["r1", "my_data-2", "my_data-3", "my_data-4"]
    assert prompts["my_data-2"] == "Add\n\n2 and 3"  # the user turn is the prompt revision


CHAT = [
    {
        "messages": [
            {"role": "system", "content": "You can look up flights."},
            {"role": "user", "content": "Is LH402 on time?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup_flight", "arguments": '{"code": "LH402"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "delayed"}'},
            {"role": "assistant", "content": "It is delayed."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup_flight",
                    "description": "Flight status.",
                    "parameters": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}},
                        "required": ["code"],
                    },
                },
            }
        ],
    },
    {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    },
]


def test_chat_with_tools_round_trips_to_mlx_chat(ws: Workspace, tmp_path: Path) -> None:
    result = do_import(ws, write_jsonl(tmp_path / "chat.jsonl", CHAT))
    assert (result.ok, result.failed) == (2, [])
    out = build_and_export(ws, "mlx-chat")
    assert sorted(out, key=json.dumps) == sorted(CHAT, key=json.dumps)
    # The same set exported for Apple: tools on the system message in Apple's shape, the
    # tool result as a user turn (schema §3.3), and every line passes Apple's rules.
    apple = build_and_export(ws, "apple")
    flight = next(m for m in apple if len(m) > 3)
    assert flight[0]["tools"][0]["function"]["arguments"]["required"] == ["code"]
    assert [m["role"] for m in flight] == ["system", "user", "assistant", "user", "assistant"]


def test_apple_lines_round_trip_to_the_same_lines(ws: Workspace, tmp_path: Path) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "create_widget",
            "description": "Make one.",
            "arguments": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    lines = [
        json.dumps(
            [
                {"role": "system", "content": "You write widgets.", "tools": [tool]},
                {"role": "user", "content": f"A {c} clock"},
                {"role": "assistant", "content": f"export const c = '{c}';"},
            ],
            ensure_ascii=False,
        )
        for c in ("red", "blue", "grün")
    ]
    src = tmp_path / "apple.jsonl"
    src.write_text("\n".join(lines) + "\n")
    assert do_import(ws, src).ok == 3
    build_and_export(ws, "apple")
    out = (ws.datasets_dir / "s" / "export" / "apple" / "train.jsonl").read_text().splitlines()
    assert sorted(out) == sorted(lines)


def test_sharegpt_and_json_array_files(ws: Workspace, tmp_path: Path) -> None:
    convo = {
        "id": "sg1",
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Capital of France?"},
            {"from": "gpt", "value": "Paris."},
        ],
    }
    src = tmp_path / "sg.json"
    src.write_text(
        "[\n" + json.dumps(convo) + ",\n\n" + json.dumps({**convo, "id": "sg2"}) + "\n]\n"
    )
    result = do_import(ws, src)
    assert (result.ok, result.failed) == (2, [])
    out = build_and_export(ws, "mlx-chat")
    assert out[0]["messages"][1] == {"role": "user", "content": "Capital of France?"}
    # a broken element of a JSON array names its line; the elements before it are imported
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"instruction": "a", "output": "b"},\n{"instruction": "c", oops}\n]\n')
    result = do_import(ws, bad)
    assert result.ok == 1 and result.failed[0][0] == f"{bad}:3"


def test_reimport_changes_nothing_and_a_changed_record_is_a_new_revision(
    ws: Workspace, tmp_path: Path
) -> None:
    src = write_jsonl(tmp_path / "data.jsonl", ALPACA)
    do_import(ws, src)

    def snapshot() -> list[list[tuple]]:
        with ws.catalog() as db:
            return [
                list(db.execute(f"select * from {t} order by 1"))
                for t in ("items", "import_examples", "prompt_revisions")
            ]

    before = snapshot()
    again = do_import(ws, src)
    assert again.summary["unchanged"] == 4 and snapshot() == before

    # The user edits one prompt in graftwork; a re-import whose user turn did not change
    # keeps that edit, a changed user turn becomes a new prompt revision.
    db = ws.catalog()
    from graftwork.core.prompts.prompts import add_revision, current

    add_revision(db, "r1", "Say hello nicely", origin="tui")
    db.close()
    changed = [dict(ALPACA[0], output="Hello!"), dict(ALPACA[1], instruction="Sum"), *ALPACA[2:]]
    result = do_import(ws, write_jsonl(src, changed))
    assert (result.summary["changed"], result.summary["unchanged"]) == (2, 2)
    db = ws.catalog()
    revs = dict(db.execute("select item_id, max(rev) from import_examples group by item_id"))
    assert revs == {"r1": 2, "data-2": 2, "data-3": 1, "data-4": 1}
    assert current(db, "r1")["text"] == "Say hello nicely"
    assert current(db, "data-2")["text"] == "Sum\n\n2 and 3"
    assert current(db, "data-2")["rev"] == 2
    db.close()


BAD_LINES = [
    ('{"instruction": "ok", "output": "fine"}', None),
    ("this is not json", "not JSON"),
    ('{"instruction": "no output"}', "missing 'output'"),
    ('{"instruction": 3, "output": "x"}', "'instruction' must be a string, got int"),
    ('{"instruction": "x", "output": "y", "meta": "m"}', "'meta' must be an object"),
    ('{"messages": [{"role": "user", "content": "x"}]}', "looks like a chat record"),
    ('{"instruction": "dup", "output": "y", "meta": {"id": "data-1"}}', "duplicate id 'data-1'"),
]


def test_bad_records_name_file_line_and_cause_good_ones_are_imported(
    ws: Workspace, tmp_path: Path
) -> None:
    src = tmp_path / "data.jsonl"
    src.write_bytes(
        ("\n".join(line for line, _ in BAD_LINES) + "\n").encode() + b'{"instruction": "\xff"}\n'
    )
    result = do_import(ws, src)
    assert result.ok == 1
    expected = [(f"{src}:{n}", cause) for n, (_, cause) in enumerate(BAD_LINES, 1) if cause]
    expected.append((f"{src}:{len(BAD_LINES) + 1}", "not UTF-8"))
    assert len(result.failed) == len(expected)
    for (where, cause), (want_where, want_cause) in zip(result.failed, expected, strict=True):
        assert where == want_where and want_cause in cause, (where, cause)


@pytest.mark.parametrize(
    ("record", "cause"),
    [
        ({"messages": []}, "the conversation is empty"),
        ({"messages": [{"role": "user", "content": "x"}]}, "the last message must be"),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [{"function": {"name": "f", "arguments": "{not json"}}],
                    },
                ]
            },
            "arguments is not JSON",
        ),
        (
            {"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}]},
            "content must be a string",
        ),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role 'robot'"),
    ],
)
def test_bad_chat_records(ws: Workspace, tmp_path: Path, record: dict, cause: str) -> None:
    src = write_jsonl(tmp_path / "c.jsonl", [CHAT[1], record])
    result = do_import(ws, src)
    assert result.ok == 1 and result.failed[0][0] == f"{src}:2"
    assert cause in result.failed[0][1]


def test_a_file_that_is_not_json_gives_up_and_imports_nothing(
    ws: Workspace, tmp_path: Path
) -> None:
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(f"line {n}, not json\n" for n in range(500)))
    result = do_import(ws, src)
    assert result.ok == 0 and len(result.failed) == records.GIVE_UP_AFTER + 1
    assert "gave up" in result.failed[-1][1]


def test_an_over_long_line_is_skipped_without_holding_it(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(records, "CHUNK", 256)
    src = tmp_path / "big.jsonl"
    huge = json.dumps({"instruction": "x" * 5000, "output": "y"})
    src.write_text(huge + "\n" + json.dumps({"instruction": "a", "output": "b"}) + "\n")
    result = do_import(ws, src)
    assert result.ok == 1 and result.failed == [(f"{src}:1", "record longer than 0 MB")]


def test_a_cancelled_import_leaves_whole_batches_only(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imported, "BATCH", 3)
    src = write_jsonl(
        tmp_path / "d.jsonl", [{"instruction": f"q{n}", "output": f"a{n}"} for n in range(20)]
    )
    cancel = threading.Event()

    def listen(event) -> None:  # stop during the third batch
        if event.type == "progress" and event.done >= 6:
            cancel.set()

    job = Job(None, "import", listeners=[listen], cancel_event=cancel)
    with pytest.raises(Cancelled):
        import_paths(ws, [src], job=job)
    db = ws.catalog()
    counts = [
        db.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("items", "import_examples", "prompt_revisions")
    ]
    db.close()
    assert counts == [6, 6, 6]


def test_import_needs_an_import_workspace_and_existing_paths(
    workspace: Workspace, tmp_path: Path
) -> None:
    from graftwork.core.sources.imported import ImportError_, import_files

    with pytest.raises(ImportError_, match="no such file"):
        import_files([tmp_path / "missing.jsonl"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportError_, match=r"no \.jsonl or \.json files"):
        import_files([tmp_path / "empty"])


def test_the_teacher_and_the_gauge_read_imported_items_through_the_provider(
    ws: Workspace, tmp_path: Path
) -> None:
    from graftwork.core.services import example_builder
    from graftwork.core.teach.plan import widget_context

    do_import(ws, write_jsonl(tmp_path / "data.jsonl", ALPACA))
    with ws.catalog() as db:
        ctx = widget_context(ws, db, "r1", 500, lambda text: len(text.split()))
        assert ctx.code == "Hi!" and ctx.name == "Say hi"
        ex = example_builder(ws)(db, "data-2", "Add, please\n\n2 and 3")
        assert [m["content"] for m in ex.messages] == ["Add, please\n\n2 and 3", "5\n"]
