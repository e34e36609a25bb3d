"""Static facts from a widget's source (JSX, plain JS or CoffeeScript), without a JS runtime.

A small scanner blanks out comments (so a commented-out `export const command` is not
read), then regular expressions find the exports Übersicht cares about: `command`,
`refreshFrequency`, `render`, `className`, `updateState`/`initialState`, plus imports,
hooks and the styling approach. It is a heuristic by design: the facts feed prompt drafts
and the report, never the training data itself.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# ---- comment stripping -------------------------------------------------------------------

# After these characters a `/` starts a regex literal rather than a division. `<` and `>` are
# left out on purpose: in JSX they precede closing tags (`</div>`), not regexes.
_REGEX_AFTER = set("(,=:[!&|?{};+-*%~^")
_REGEX_KEYWORDS = ("return", "typeof", "case", "in", "of", "delete", "void", "throw")


def strip_comments(src: str) -> str:
    """Replace JS comments with spaces (newlines kept, so offsets and lines still match).

    Quoted strings end at a newline even when unterminated: an apostrophe in JSX text
    (`<p>Don't</p>`) then confuses at most one line instead of the rest of the file.
    """
    out = list(src)
    n = len(src)
    i = 0
    mode = "code"
    quote = ""
    depth = 0  # brace depth in code
    tpl_stack: list[int] = []  # brace depths at which a `${` returns to its template
    last = ""  # last significant code character (for the regex heuristic)
    word = ""  # last identifier-ish word in code
    while i < n:
        c = src[i]
        nxt = src[i + 1] if i + 1 < n else ""
        if mode == "code":
            if c == "/" and nxt == "/":
                mode = "line"
                out[i] = out[i + 1] = " "
                i += 2
                continue
            if c == "/" and nxt == "*":
                mode = "block"
                out[i] = out[i + 1] = " "
                i += 2
                continue
            if c in "\"'":
                mode, quote = "str", c
            elif c == "`":
                mode = "tpl"
            elif c == "/" and (last == "" or last in _REGEX_AFTER or word in _REGEX_KEYWORDS):
                mode = "re"
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if tpl_stack and tpl_stack[-1] == depth:
                    tpl_stack.pop()
                    mode = "tpl"
            if c.isalnum() or c in "_$":
                prev = src[i - 1] if i else ""
                word = word + c if prev.isalnum() or prev in ("_", "$") else c
            elif not c.isspace():
                word = ""
            if not c.isspace():
                last = c
        elif mode == "line":
            if c == "\n":
                mode = "code"
            else:
                out[i] = " "
        elif mode == "block":
            if c == "*" and nxt == "/":
                out[i] = out[i + 1] = " "
                mode = "code"
                i += 2
                continue
            if c != "\n":
                out[i] = " "
        elif mode in ("str", "re"):
            if c == "\\":
                i += 2
                continue
            if c == "\n" or (mode == "str" and c == quote) or (mode == "re" and c == "/"):
                mode, last, word = "code", "x", ""
        elif mode == "tpl":
            if c == "\\":
                i += 2
                continue
            if c == "`":
                mode, last, word = "code", "x", ""
            elif c == "$" and nxt == "{":
                tpl_stack.append(depth)
                depth += 1
                mode, last, word = "code", "{", ""
                i += 2
                continue
        i += 1
    return "".join(out)


# ---- literals ----------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "v": "\v"}


def read_literal(code: str, pos: int) -> tuple[str, str, int] | None:
    """Read the string literal starting at ``pos``: (value, kind, end) or None.

    kind is "string" for '...' / "..." (and CoffeeScript's triple quotes) or "template" for
    a backtick literal, whose `${...}` parts are kept verbatim.
    """
    if pos >= len(code) or code[pos] not in "\"'`":
        return None
    q = code[pos]
    if q != "`" and code.startswith(q * 3, pos):  # CoffeeScript heredoc
        end = code.find(q * 3, pos + 3)
        if end < 0:
            return None
        return code[pos + 3 : end].strip("\n"), "string", end + 3
    buf: list[str] = []
    i = pos + 1
    depth = 0
    while i < len(code):
        c = code[i]
        if c == "\\" and i + 1 < len(code):
            e = code[i + 1]
            if q == "`" and depth:
                buf.append(c + e)
            elif e == "\n":
                pass  # line continuation
            else:
                buf.append(_ESCAPES.get(e, e))
            i += 2
            continue
        if q == "`":
            if depth == 0 and c == "`":
                return "".join(buf), "template", i + 1
            if c == "$" and code.startswith("${", i) and depth == 0:
                depth = 1
                buf.append("${")
                i += 2
                continue
            if depth:
                depth += {"{": 1, "}": -1}.get(c, 0)
        elif c == q:
            return "".join(buf), "string", i + 1
        elif c == "\n":
            return None  # unterminated
        buf.append(c)
        i += 1
    return None


def _read_concat(code: str, pos: int) -> tuple[str, str, int] | None:
    """A literal, or literals joined with `+` ("a" + "b"): (value, kind, end)."""
    first = read_literal(code, pos)
    if first is None:
        return None
    value, kind, end = first
    while True:
        m = re.compile(r"\s*\+\s*").match(code, end)
        if not m:
            break
        nxt = read_literal(code, m.end())
        if nxt is None:
            return value, "expression", end
        value += nxt[0]
        kind = "template" if "template" in (kind, nxt[1]) else kind
        end = nxt[2]
    return value, kind, end


# ---- refresh frequency -------------------------------------------------------------------

_NUM_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow)


def _eval_number(expr: str, consts: dict[str, float]) -> float | None:
    """Evaluate a small arithmetic expression (`1000 * 60`, `MINUTE * 5`) or return None."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (
        SyntaxError,
        ValueError,
        RecursionError,
        MemoryError,
    ):  # deep nesting exhausts the parser
        return None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in consts:
            return consts[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, _NUM_OPS):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Mod):
                return a % b
            if abs(b) > 64:
                raise ValueError("exponent too large")
            return a**b
        raise ValueError("not arithmetic")

    try:
        value = ev(tree)
    except (ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    return value if math.isfinite(value) else None  # `1e400` is inf: no interval


_CONST_RE = re.compile(
    r"(?m)^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*([^;\n]+)"
)


def _numeric_consts(code: str) -> dict[str, float]:
    consts: dict[str, float] = {}
    for name, expr in _CONST_RE.findall(code):
        value = _eval_number(expr.rstrip(" ;"), consts)
        if value is not None:
            consts[name] = value
    return consts


# ---- the facts ---------------------------------------------------------------------------

HOOKS = (
    "useState",
    "useEffect",
    "useRef",
    "useMemo",
    "useCallback",
    "useReducer",
    "useContext",
    "useLayoutEffect",
)


@dataclass
class WidgetFacts:
    kind: str = "jsx"
    refresh_frequency: str | None = None  # the expression as written ("1000 * 60", "false")
    refresh_ms: int | None = None  # its value in ms when it is a plain number expression
    refresh_disabled: bool = False  # `refreshFrequency = false`: render once, no timer
    command: str | None = None  # the shell command text, or the expression / "function"
    command_kind: str = "none"  # string | template | function | expression | none
    styling: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    uebersicht_imports: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    uses_run: bool = False
    uses_fetch: bool = False
    uses_update_state: bool = False
    uses_initial_state: bool = False
    uses_react: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_IMPORT_RE = re.compile(r"""\bimport\s+(?:([\w$*{}\s,]+?)\s+from\s+)?["']([^"'\n]+)["']""")
_REQUIRE_RE = re.compile(r"""\brequire\s*\(\s*["']([^"'\n]+)["']\s*\)""")
_EXPORT_RE = re.compile(
    r"\bexport\s+(?:default\s+)?(?:async\s+)?(?:const|let|var|function\*?|class)\s+([A-Za-z_$][\w$]*)"
)


def _unique(seq: list[str]) -> list[str]:
    return list(dict.fromkeys(seq))


def _export_value_pos(code: str, name: str, coffee: bool) -> int | None:
    """Where the value of the export (or object/coffee property) ``name`` starts."""
    patterns = [rf"\bexport\s+(?:const|let|var)\s+{name}\s*=\s*"]
    patterns.append(rf"(?m)^\s*{name}\s*:\s*" if coffee else rf"(?m)^\s*{name}\s*[:=]\s*")
    if not coffee:
        patterns.append(rf"\bexports\.{name}\s*=\s*")
        # `const command = ...` exported later with `export { command }`
        patterns.append(rf"(?m)^\s*(?:const|let|var)\s+{name}\s*=\s*")
    for pat in patterns:
        m = re.search(pat, code)
        if m:
            return m.end()
    return None


def _command(code: str, coffee: bool) -> tuple[str | None, str]:
    if re.search(r"\bexport\s+(?:async\s+)?function\s+command\b", code):
        return "function", "function"
    pos = _export_value_pos(code, "command", coffee)
    if pos is None:
        return None, "none"
    lit = _read_concat(code, pos)
    if lit is not None:
        return (lit[0], lit[1]) if lit[0].strip() else (None, "none")
    rest = code[pos : pos + 200]
    if re.match(r"(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[\w$]+\s*=>)|\([^)]*\)\s*->|->", rest):
        return "function", "function"
    ident = re.match(r"([A-Za-z_$][\w$]*)\s*(?:;|$|\n)", rest)
    if ident:  # `export const command = cmd` where `const cmd = "..."` sits above
        m = re.search(rf"\b(?:const|let|var)\s+{re.escape(ident.group(1))}\s*=\s*", code)
        if m:
            lit = _read_concat(code, m.end())
            if lit is not None:
                return lit[0], lit[1]
    expr = re.match(r"[^;\n]*", rest).group(0).strip()  # type: ignore[union-attr]
    if expr in ("", "undefined", "null", "false", "''", '""', "``"):  # explicitly no command
        return None, "none"
    return expr, "expression"


_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _refresh(code: str, coffee: bool, facts: WidgetFacts) -> None:
    pos = _export_value_pos(code, "refreshFrequency", coffee)
    if pos is None:
        return
    expr = re.match(r"[^;\n]*", code[pos:]).group(0).strip().rstrip(",")  # type: ignore[union-attr]
    if not expr:
        return
    facts.refresh_frequency = expr
    if expr == "false":
        facts.refresh_disabled = True
        return
    dur = re.fullmatch(r"""["'](\d+(?:\.\d+)?)\s*(ms|s|m|h|d)["']""", expr)
    if dur:  # a duration string such as '10s' or "1m" (older widgets use them)
        facts.refresh_ms = int(float(dur.group(1)) * _UNIT_MS[dur.group(2)])
        return
    value = _eval_number(expr, _numeric_consts(code))
    if value is not None and value >= 0:
        facts.refresh_ms = int(value)


def _styling(code: str, coffee: bool, ue_imports: list[str]) -> list[str]:
    found: list[str] = []
    if coffee:
        if re.search(r"(?m)^\s*style\s*:", code):
            found.append("css-string")
        return found
    if (
        re.search(r"\bcss\s*`", code)
        or re.search(r"(?<![\w.$])css\s*\(", code)
        or "css" in ue_imports
    ):
        found.append("emotion-css")
    if re.search(r"\bstyled(?:\s*\.\s*\w+|\s*\()", code):
        found.append("styled")
    pos = _export_value_pos(code, "className", coffee)
    if pos is not None:
        head = code[pos : pos + 40].lstrip()
        if head.startswith(("`", "'", '"')):
            found.append("className-css")
        elif head.startswith("{"):
            found.append("className-object")
        elif head.startswith("css") and "emotion-css" not in found:
            found.append("emotion-css")
    if re.search(r"\bclassName\s*=\s*[{\"']", code):
        found.append("class-names")
    if re.search(r"\bstyle\s*=\s*\{", code):
        found.append("inline-style")
    return found


def extract_facts(source: str, kind: str = "jsx") -> WidgetFacts:
    """Facts from a widget's source; ``kind`` is jsx, js or coffee."""
    coffee = kind == "coffee"
    code = source if coffee else strip_comments(source)
    if coffee:  # CoffeeScript comments: `# ...` lines (block comments are rare in widgets)
        code = re.sub(r"(?m)^\s*#(?!##).*$", "", code)
    facts = WidgetFacts(kind=kind)
    facts.command, facts.command_kind = _command(code, coffee)
    _refresh(code, coffee, facts)
    ue: list[str] = []
    mods: list[str] = []
    for names, mod in _IMPORT_RE.findall(code):
        mods.append(mod)
        if mod == "uebersicht":
            ue += [p.split(" as ")[0].strip() for p in re.split(r"[{},]", names) if p.strip()]
    mods += _REQUIRE_RE.findall(code)
    facts.imports = _unique(mods)
    facts.uebersicht_imports = _unique(ue)
    listed = [
        n.split(" as ")[-1].strip()
        for group in re.findall(r"\bexport\s*\{([^}]*)\}", code)
        for n in group.split(",")
    ]
    facts.exports = _unique(_EXPORT_RE.findall(code) + [n for n in listed if n])
    facts.hooks = _unique(re.findall(rf"\b({'|'.join(HOOKS)})\s*\(", code))
    facts.uses_run = bool(re.search(r"(?<![\w.$])run\s*\(", code))
    facts.uses_fetch = bool(re.search(r"(?<![\w.$])fetch\s*\(", code))
    facts.uses_update_state = bool(
        re.search(r"\bexport\s+(?:const|let|var|function)\s+updateState\b", code)
    )
    facts.uses_initial_state = bool(
        re.search(r"\bexport\s+(?:const|let|var)\s+initialState\b", code)
    )
    facts.uses_react = (
        bool(facts.hooks) or "react" in facts.imports or bool(re.search(r"\bReact\.", code))
    )
    facts.styling = _styling(code, coffee, ue)
    return facts
