"""The template engine: Jinja2 in a sandbox, strict about undefined variables.

Every variable a template uses is found from the template itself (jinja2.meta), so a spec
never lists them twice. Filters we define (``spell``, ``separated``, ``letter``, ``ordinal``) cover derived
values such as a word spelled with separators or its n-th letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


def spell(value: Any, sep: str = " ") -> str:
    """'spital' | spell(', ') -> 's, p, i, t, a, l'"""
    return sep.join(str(value))


SEPARATORS = {"space": " ", "comma": ", ", "dash": "-", "none": ""}


def separated(value: Any, style: str = "space") -> str:
    """'spital' | separated('dash') -> 's-p-i-t-a-l' (styles: space, comma, dash, none)."""
    return spell(value, SEPARATORS.get(str(style), str(style)))


def letter(value: Any, n: int) -> str:
    """The n-th letter, counting from 1 (negative counts from the end)."""
    text = str(value)
    return text[n - 1] if n > 0 else text[n]


def ordinal(n: Any) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


FILTERS: dict[str, Callable[..., Any]] = {
    "spell": spell,
    "separated": separated,
    "letter": letter,
    "ordinal": ordinal,
}


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters.update(FILTERS)
    return env


@dataclass(frozen=True)
class CompiledTemplate:
    id: str
    source: str
    variables: frozenset[str]  # every name the template reads
    render: Callable[[dict[str, Any]], str]  # context -> text


class TemplateError(ValueError):
    """A template that does not parse; the message is the cause (with its line)."""


def compile_template(template_id: str, source: str) -> CompiledTemplate:
    env = environment()
    try:
        tree = env.parse(source)
        compiled = env.from_string(tree)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}") from None
    names = frozenset(meta.find_undeclared_variables(tree))
    parts = _plain_parts(tree)
    if parts is not None:
        return CompiledTemplate(template_id, source, names, _joiner(parts))
    pieces = _direct_pieces(tree)
    if pieces is not None:
        return CompiledTemplate(template_id, source, names, _direct(pieces))
    return CompiledTemplate(template_id, source, names, compiled.render)


def _plain_parts(tree: nodes.Template) -> list[tuple[bool, str]] | None:
    """A template made only of text and bare ``{{ name }}`` outputs, as (is_name, text)
    parts; None for anything else (filters, tags, expressions). Such templates render as a
    plain join, the same text Jinja gives (str() of each value) at a fraction of the cost,
    which is what keeps expanding 100,000 prompts within seconds."""
    parts: list[tuple[bool, str]] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append((False, child.data))
            elif isinstance(child, nodes.Name) and child.ctx == "load":
                parts.append((True, child.name))
            else:
                return None
    return parts


# Jinja's own filters a direct template may use, as the same Python (jinja2.filters: length
# is len, upper/lower call str's); every filter of FILTERS is allowed too.
_JINJA_DIRECT: dict[str, Callable[..., Any]] = {
    "length": len,
    "count": len,
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
}
Piece = Callable[[dict[str, Any]], Any]


def _direct_pieces(tree: nodes.Template) -> list[Piece] | None:
    """Text and ``{{ name | filter(args) }}`` outputs (filters chained, arguments names or
    constants, filters from FILTERS or _JINJA_DIRECT), as functions of the context; None for
    anything else. Rendering them is a few Python calls instead of a Jinja context per
    record (a templated set renders an input and an output per record), with the same text:
    Jinja's output is str() of the value here too (autoescape off), and a missing variable
    is an error both ways."""
    pieces: list[Piece] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                text = child.data
                pieces.append(lambda _ctx, text=text: text)
                continue
            value = _direct_value(child)
            if value is None:
                return None
            pieces.append(value)
    return pieces


def _direct_value(node: nodes.Node) -> Piece | None:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name
        return lambda ctx: _lookup(ctx, name)
    if isinstance(node, nodes.Const):
        const = node.value
        return lambda _ctx: const
    if not isinstance(node, nodes.Filter) or node.node is None:
        return None
    if node.kwargs or node.dyn_args or node.dyn_kwargs:
        return None
    fn = FILTERS.get(node.name) or _JINJA_DIRECT.get(node.name)
    inner = _direct_value(node.node)
    args = [_direct_value(a) for a in node.args]
    if fn is None or inner is None or any(a is None for a in args):
        return None
    if not args:
        return lambda ctx: fn(inner(ctx))
    return lambda ctx: fn(inner(ctx), *(a(ctx) for a in args))  # type: ignore[misc]


def _lookup(ctx: dict[str, Any], name: str) -> Any:
    try:
        return ctx[name]
    except KeyError:
        # what Jinja's StrictUndefined says, so a caller sees one kind of error
        from jinja2.exceptions import UndefinedError

        raise UndefinedError(f"'{name}' is undefined") from None


def _direct(pieces: list[Piece]) -> Callable[[dict[str, Any]], str]:
    def render(ctx: dict[str, Any]) -> str:
        return "".join([str(piece(ctx)) for piece in pieces])

    return render


def _joiner(parts: list[tuple[bool, str]]) -> Callable[[dict[str, Any]], str]:
    # str.format_map gives str() of str, int, float and bool values, as Jinja does.
    fmt = "".join(
        "{" + text + "}" if is_name else text.replace("{", "{{").replace("}", "}}")
        for is_name, text in parts
    )
    return fmt.format_map
