"""A small interpreter of Go's text/template, for the subset Ollama TEMPLATEs use: text,
`{{ .Field }}`, `$`, variables (`:=` declares, `=` assigns to the nearest), `if` / `else if` /
`else` / `end`, `range $i, $v := PIPE`, parenthesised calls and the functions eq, ne, not,
and, or, len, slice, index; `{{-` and `-}}` trim whitespace. Go itself cannot run in the tests,
so this checks what the Modelfile's TEMPLATE text does, written from the text/template docs.
Anything outside the subset raises, so a test never passes on a template it did not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+)')


@dataclass
class _Node:
    kind: str  # text | out | decl | assign | if | range
    text: str = ""
    expr: list[str] = field(default_factory=list)
    var: str = ""
    vars: list[str] = field(default_factory=list)
    branches: list[tuple[list[str] | None, list[_Node]]] = field(default_factory=list)
    body: list[_Node] = field(default_factory=list)


def _lex(template: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _ACTION.finditer(template):
        text = template[pos : m.start()]
        if m.group(1):
            text = text.rstrip()
        parts.append(("text", text))
        parts.append(("action", m.group(2).strip()))
        pos = m.end()
        if m.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip())
    parts.append(("text", template[pos:]))
    return [p for p in parts if p != ("text", "")]


def _tokens(expr: str) -> list[str]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or not m.group(1):
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def _parse(
    parts: list[tuple[str, str]], i: int, stop: tuple[str, ...]
) -> tuple[list[_Node], int, str]:
    nodes: list[_Node] = []
    while i < len(parts):
        kind, value = parts[i]
        i += 1
        if kind == "text":
            nodes.append(_Node("text", text=value))
            continue
        head = value.split(None, 1)[0] if value else ""
        if head in stop:  # "else if X" has head "else"
            return nodes, i, value
        if head == "if":
            node = _Node("if")
            cond: list[str] | None = _tokens(value[2:])
            while True:
                body, i, closer = _parse(parts, i, ("end", "else"))
                node.branches.append((cond, body))
                if closer == "end":
                    break
                cond = _tokens(closer[len("else if") :]) if closer.startswith("else if") else None
            nodes.append(node)
        elif head == "range":
            m = re.fullmatch(r"range\s+(?:(\$\w*)\s*,\s*(\$\w*)\s*:=\s*)?(.+)", value, re.S)
            if not m:
                raise ValueError(f"unsupported range: {value!r}")
            body, i, closer = _parse(parts, i, ("end",))
            if closer != "end":
                raise ValueError("range with else is not supported")
            vars_ = [v for v in (m.group(1), m.group(2)) if v]
            nodes.append(_Node("range", vars=vars_, expr=_tokens(m.group(3)), body=body))
        elif m := re.fullmatch(r"(\$\w+)\s*(:=|=)\s*(.+)", value, re.S):
            kind = "decl" if m.group(2) == ":=" else "assign"
            nodes.append(_Node(kind, var=m.group(1), expr=_tokens(m.group(3))))
        else:
            nodes.append(_Node("out", expr=_tokens(value)))
    if stop:
        raise ValueError(f"missing {{{{ end }}}} (wanted one of {stop})")
    return nodes, i, ""


def _truth(v: Any) -> bool:
    return bool(v) if v is not None else False


_FUNCS = {
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "not": lambda a: not _truth(a),
    "and": lambda *xs: next((x for x in xs if not _truth(x)), xs[-1]),
    "or": lambda *xs: next((x for x in xs if _truth(x)), xs[-1]),
    "len": len,
    "slice": lambda x, *ix: x[ix[0] : ix[1]] if len(ix) == 2 else x[ix[0] :] if ix else x,
    "index": lambda x, *ix: x[ix[0]],
}


class _Run:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.scopes: list[dict[str, Any]] = [{"$": root}]

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise KeyError(f"undefined variable {name}")

    def term(self, tok: str, dot: Any) -> Any:
        if tok.startswith('"'):
            return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if tok == ".":
            return dot
        if tok.startswith("."):
            base, path = dot, tok[1:].split(".")
        elif tok.startswith("$"):
            name, *path = tok.split(".")
            base = self.lookup(name)
        else:
            raise ValueError(f"unsupported term {tok!r}")
        for key in path:
            base = base[key]
        return base

    def expr(self, toks: list[str], dot: Any) -> Any:
        args, i = [], 0
        while i < len(toks):
            if toks[i] == "(":
                depth, j = 1, i + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(toks[j], 0)
                    j += 1
                args.append(("v", self.expr(toks[i + 1 : j - 1], dot)))
                i = j
            else:
                args.append(("t", toks[i]))
                i += 1
        if args and args[0][0] == "t" and args[0][1] in _FUNCS:
            fn = _FUNCS[args[0][1]]
            return fn(*[v if k == "v" else self.term(v, dot) for k, v in args[1:]])
        if len(args) != 1:
            raise ValueError(f"unsupported expression {' '.join(toks)!r}")
        k, v = args[0]
        return v if k == "v" else self.term(v, dot)

    def run(self, nodes: list[_Node], dot: Any, out: list[str]) -> None:
        for n in nodes:
            if n.kind == "text":
                out.append(n.text)
            elif n.kind == "out":
                out.append(str(self.expr(n.expr, dot)))
            elif n.kind == "decl":
                self.scopes[-1][n.var] = self.expr(n.expr, dot)
            elif n.kind == "assign":
                value = self.expr(n.expr, dot)
                for scope in reversed(self.scopes):
                    if n.var in scope:
                        scope[n.var] = value
                        break
                else:
                    raise KeyError(f"assignment to undeclared {n.var}")
            elif n.kind == "if":
                for cond, body in n.branches:
                    if cond is None or _truth(self.expr(cond, dot)):
                        self.scopes.append({})
                        self.run(body, dot, out)
                        self.scopes.pop()
                        break
            elif n.kind == "range":
                for i, item in enumerate(self.expr(n.expr, dot)):
                    scope = (
                        dict(zip(n.vars, [i, item][-len(n.vars) :], strict=True)) if n.vars else {}
                    )
                    self.scopes.append(scope)
                    self.run(n.body, item, out)
                    self.scopes.pop()


def execute(template: str, data: dict[str, Any]) -> str:
    nodes, _, _ = _parse(_lex(template), 0, ())
    out: list[str] = []
    _Run(data).run(nodes, data, out)
    return "".join(out)
