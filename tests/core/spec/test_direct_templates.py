"""Templates made of text and `{{ name | filter(args) }}` outputs render without a Jinja
context per record (spec/templates._direct_pieces): the same text as Jinja itself gives,
for every shape the fast path takes; anything else still goes through Jinja."""

from __future__ import annotations

import pytest
from jinja2.exceptions import UndefinedError

from graftwork.core.spec.templates import compile_template, environment

CTX = {"word": "spital", "sep": "comma", "n": 3, "days": 21, "city": "Oslo", "x": None}


@pytest.mark.parametrize(
    "source",
    [
        "The letters {{ word | separated(sep) }} spell what word?",
        "{{ word | length }}",
        "{{ word | separated('dash') }} / {{ word | spell }} / {{ word | spell(', ') }}",
        "The {{ n | ordinal }} letter of {{ word }} is {{ word | letter(n) }}.",
        "{{ word | letter(-1) | upper }} and {{ city | lower }} in {{ days | ordinal }}",
        "{{ word | count }} {{ x }} {{ 7 }} {{ 'lit' | upper }}",
    ],
)
def test_direct_templates_render_as_jinja_does(source: str) -> None:
    compiled = compile_template("t", source)
    assert compiled.render.__qualname__ == "_direct.<locals>.render"  # not Template.render
    assert compiled.render(dict(CTX)) == environment().from_string(source).render(**CTX)


@pytest.mark.parametrize(
    "source",
    [
        "{{ word | title }}",  # a Jinja filter the direct path does not copy
        "{{ word | separated(style=sep) }}",  # keyword arguments
        "{% if n %}{{ word }}{% endif %}",  # tags
        "{{ word ~ city }}",  # expressions
    ],
)
def test_everything_else_still_renders_through_jinja(source: str) -> None:
    compiled = compile_template("t", source)
    assert compiled.render.__qualname__ == "Template.render"
    assert compiled.render(dict(CTX)) == environment().from_string(source).render(**CTX)


def test_a_missing_variable_is_jinjas_undefined_error_on_the_direct_path() -> None:
    with pytest.raises(UndefinedError, match="'word' is undefined"):
        compile_template("t", "{{ word | length }}").render({})
