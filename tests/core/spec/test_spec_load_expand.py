"""Specs: strict loading with clear errors, Jinja2 templates, deterministic expansion."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from graftwork.core.base.config import configs_dir
from graftwork.core.spec.expand import expand
from graftwork.core.spec.load import SpecError, load_spec

EXAMPLE = configs_dir() / "specs" / "travel_guide.yaml"


def write(tmp_path: Path, body: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


MINIMAL = """\
    dataset: {name: demo}
    variables:
      city: [Rome, Oslo, Lima]
      month: [May, June]
    categories:
      trips:
        count: 4
        templates: ["A trip to {{ city }} in {{ month }}?"]
"""


def test_example_spec_expands_to_its_targets_without_repeats() -> None:
    loaded = load_spec(EXAMPLE)
    assert loaded.schema is not None and loaded.spec.contract.format == "json"
    result = expand(loaded)
    assert result.warnings == []
    wanted = {name: cat.count for name, cat in loaded.spec.categories.items()}
    assert Counter(p.category for p in result.prompts) == wanted
    texts = [p.prompt for p in result.prompts]
    assert len(set(texts)) == len(texts)
    assert len({p.id for p in result.prompts}) == len(texts)
    assert all("{{" not in t for t in texts)
    assert {p.tags["difficulty"] for p in result.prompts} <= {"easy", "medium", "hard"}
    # The category's own tag values replace the global ones.
    assert {p.tags["difficulty"] for p in result.prompts if p.category == "safety"} <= {
        "medium",
        "hard",
    }


def test_expansion_is_deterministic_for_a_seed_and_moves_with_it() -> None:
    loaded = load_spec(EXAMPLE)
    first = [p.record("x", "v1") for p in expand(loaded).prompts]
    again = [p.record("x", "v1") for p in expand(load_spec(EXAMPLE)).prompts]
    assert first == again
    other = [p.record("x", "v1") for p in expand(loaded, seed=7).prompts]
    assert other != first


def test_small_space_is_used_up_exactly_and_the_warning_says_how_many(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("count: 4", "count: 10"))
    result = expand(load_spec(path))
    assert sorted(p.prompt for p in result.prompts) == sorted(
        f"A trip to {c} in {m}?" for c in ("Rome", "Oslo", "Lima") for m in ("May", "June")
    )
    assert result.counts["trips"] == (6, 10)
    assert any("10 prompts asked, only 6 possible" in w for w in result.warnings)


def test_same_text_from_two_templates_counts_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        dataset: {name: demo}
        variables: {city: [Rome, Oslo]}
        categories:
          a: {count: 5, templates: ["Go to {{ city }}", "Go to {{ city }}"]}
        """,
    )
    result = expand(load_spec(path))
    assert sorted(p.prompt for p in result.prompts) == ["Go to Oslo", "Go to Rome"]


def test_template_with_unfillable_variables_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL.replace(
            'templates: ["A trip to {{ city }} in {{ month }}?"]',
            'templates: ["A trip to {{ city }} in {{ month }}?", {id: odd, text: "{{ hotel }} near {{ sight | upper }} in {{ city }}"}]',
        ),
    )
    loaded = load_spec(path)
    assert loaded.warnings == ["template odd skipped: no values for hotel, sight"]
    result = expand(loaded)
    assert len(result.prompts) == 4
    assert all(p.template_id == "trips.1" for p in result.prompts)


def test_weighted_values_follow_their_weights(tmp_path: Path) -> None:
    numbers = ", ".join(str(i) for i in range(5000))
    body = (
        "dataset: {name: demo}\n"
        f"variables: {{n: {{values: [{numbers}]}}, mood: {{weighted: {{calm: 9, loud: 1}}}}}}\n"
        'categories: {c: {count: 2000, templates: ["{{ n }} {{ mood }}"]}}\n'
    )
    path = write(tmp_path, body)
    moods = Counter(p.variables["mood"] for p in expand(load_spec(path)).prompts)
    assert 0.85 < moods["calm"] / 2000 < 0.95


def test_values_from_a_file_and_our_filters(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text("# words\nspital\n\ncat\ncat\n", encoding="utf-8")
    path = write(
        tmp_path,
        """\
        dataset: {name: letters}
        variables: {word: {file: words.txt}}
        categories:
          spelling:
            count: 2
            templates: ["The letters {{ word | spell(', ') }} spell what word? ({{ word | length }}, {{ 2 | ordinal }} is {{ word | letter(2) }})"]
        """,
    )
    prompts = sorted(p.prompt for p in expand(load_spec(path)).prompts)
    assert prompts == [
        "The letters c, a, t spell what word? (3, 2nd is a)",
        "The letters s, p, i, t, a, l spell what word? (6, 2nd is p)",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: [x]}}\ncolour: red\n",
            "unknown key 'colour'",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 0, templates: [x]}}\n",
            "key 'categories.c.count'",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 2, templates: []}}\n",
            "key 'categories.c.templates'",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: [x]}\n",
            "not valid YAML: line 3, column 1: expected ',' or '}'",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: [x]}}\n"
            "contract: {format: json, schema_file: spec.yaml}\nbroken: [\n",
            "not valid YAML: line 5",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: [x]}}\n"
            "contract: {format: json, schema: {type: objekt}}\n",
            "key 'contract.schema': not a valid JSON Schema at type",
        ),
        (
            "dataset: {name: d}\nvariables: {city: {file: nowhere.txt}}\n"
            "categories: {c: {count: 1, templates: ['{{ city }}']}}\n",
            "key 'variables.city.file': file not found",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: ['{{ city ']}}\n",
            "key 'categories.c.templates.0': template c.1 does not parse",
        ),
        (
            "dataset: {name: d}\nvariables: {w: {weighted: {a: 0}}}\n"
            "categories: {c: {count: 1, templates: [x]}}\n",
            "key 'variables.w",
        ),
        (
            "dataset: {name: d}\ncategories: {c: {count: 1, templates: [x]}}\n"
            "splits: {train: 0.8, val: 0.3, test: 0.1}\n",
            "train + val + test must be 1",
        ),
    ],
)
def test_bad_specs_name_file_key_and_cause(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)  # one line, never PyYAML's snippet
    assert info.value.exit_code == 2


def test_a_variable_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"caf\xe9\n")
    path = write(
        tmp_path,
        "dataset: {name: d}\nvariables: {w: {file: w.txt}}\ncategories: {c: {count: 1, templates: ['{{ w }}']}}\n",
    )
    with pytest.raises(SpecError, match=r"w\.txt is not UTF-8"):
        load_spec(path)
