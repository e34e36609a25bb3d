"""A model's chat template: read it from a model folder, render it like transformers does, and
translate it to an Ollama (Go text/template) TEMPLATE as far as it can be.

The translation does not parse Jinja. It renders the template on a known conversation with
marker words as contents and cuts the output at the markers: what stands between them is what
the template writes around each turn (the system header, the text between a user turn and the
assistant's, the generation prompt, ...). Those pieces become the literal text of a Go template
of fixed shape. The Go template is then checked by rendering it (a Python twin of the same
shape) on other conversations and comparing with the Jinja output; when they differ, or the
template cannot be cut this way (markers rewritten, tool-only templates, raise_exception on our
conversation), there is no translation and the caller says so (Ollama then falls back to the
chat template stored in the GGUF for the families it knows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graftwork.core.base.errors import GraftworkError


class ChatTemplateError(GraftworkError):
    """The chat template could not be read or rendered."""


@dataclass(frozen=True)
class TokenizerFacts:
    """What shipping needs from a model folder's tokenizer files."""

    chat_template: str | None
    bos_token: str | None
    eos_token: str | None
    special_tokens: tuple[str, ...] = ()  # added tokens marked special (bos/eos included)


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):  # older configs: {"content": "<s>", ...}
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def read_tokenizer_facts(model_dir: Path) -> TokenizerFacts:
    """Chat template (chat_template.jinja, else tokenizer_config.json's `chat_template`, a
    string or a list of named templates of which `default` is taken), bos/eos and the special
    added tokens (tokenizer_config.json's added_tokens_decoder, tokenizer.json's added_tokens)."""
    model_dir = Path(model_dir)
    config: dict[str, Any] = {}
    config_path = model_dir / "tokenizer_config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ChatTemplateError(f"{config_path}: not readable JSON ({exc})") from exc
    template: str | None = None
    jinja_file = model_dir / "chat_template.jinja"
    if jinja_file.is_file():
        template = jinja_file.read_text(encoding="utf-8")
    else:
        raw = config.get("chat_template")
        if isinstance(raw, list):
            named = {t.get("name"): t.get("template") for t in raw if isinstance(t, dict)}
            raw = named.get("default")
        template = raw if isinstance(raw, str) and raw.strip() else None
    specials: list[str] = []
    for entry in (config.get("added_tokens_decoder") or {}).values():
        if isinstance(entry, dict) and entry.get("special") and entry.get("content"):
            specials.append(entry["content"])
    tokenizer_path = model_dir / "tokenizer.json"
    if tokenizer_path.is_file():
        try:
            added = json.loads(tokenizer_path.read_text(encoding="utf-8")).get("added_tokens")
        except (OSError, ValueError):
            added = None
        for entry in added or []:
            if isinstance(entry, dict) and entry.get("special") and entry.get("content"):
                specials.append(entry["content"])
    bos, eos = _token_text(config.get("bos_token")), _token_text(config.get("eos_token"))
    specials += [t for t in (bos, eos) if t]
    return TokenizerFacts(template, bos, eos, tuple(dict.fromkeys(specials)))


def render(
    template: str,
    messages: list[dict[str, Any]],
    *,
    add_generation_prompt: bool = False,
    bos_token: str | None = None,
    eos_token: str | None = None,
) -> str:
    """Render a chat template the way transformers does (sandboxed Jinja, trim_blocks,
    lstrip_blocks, `tojson`, `raise_exception`, `strftime_now`)."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, **_: Any) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now(UTC).strftime(fmt)
    try:
        return env.from_string(template).render(
            messages=messages,
            add_generation_prompt=add_generation_prompt,
            bos_token=bos_token or "",
            eos_token=eos_token or "",
            tools=None,
        )
    except Exception as exc:  # any Jinja error: syntax, undefined, raise_exception
        raise ChatTemplateError(f"the chat template does not render: {exc}") from exc


# ---- translation to Ollama's Go template -------------------------------------------------

_SYS, _U1, _A1, _U2, _A2 = "QXSYSTEMQX", "QXUSERONEQX", "QXASSTONEQX", "QXUSERTWOQX", "QXASSTTWOQX"


@dataclass(frozen=True)
class Pieces:
    """The literal text a template writes around each turn."""

    bos: str  # written once at the start
    system_prefix: str  # before the system text
    system_to_user: str  # after the system text, before the first user text
    first_user_prefix: str  # before the first user text when there is no system text
    user_to_assistant: str  # after a user text followed by an assistant turn
    generation: str  # after the last user text, when the model is to answer
    assistant_to_user: str  # after an assistant text followed by a user turn

    def literals(self) -> list[str]:
        return [
            self.bos,
            self.system_prefix,
            self.system_to_user,
            self.first_user_prefix,
            self.user_to_assistant,
            self.generation,
            self.assistant_to_user,
        ]


@dataclass(frozen=True)
class Translation:
    go_template: str | None  # None: no faithful translation
    note: str  # why not, or what was checked
    stops: tuple[str, ...] = field(default=())  # stop strings for PARAMETER stop


def _cut(text: str, markers: list[str]) -> list[str] | None:
    """The text before, between and after the markers, which must each appear once, in order."""
    pieces, pos = [], 0
    for m in markers:
        if text.count(m) != 1:
            return None
        i = text.index(m)
        if i < pos:
            return None
        pieces.append(text[pos:i])
        pos = i + len(m)
    pieces.append(text[pos:])
    return pieces


def _conversation(system: bool) -> list[dict[str, str]]:
    turns = [
        {"role": "user", "content": _U1},
        {"role": "assistant", "content": _A1},
        {"role": "user", "content": _U2},
        {"role": "assistant", "content": _A2},
    ]
    return ([{"role": "system", "content": _SYS}] if system else []) + turns


def _pieces(facts: TokenizerFacts) -> Pieces | str:
    """The turn pieces of the template, or why they cannot be cut."""
    assert facts.chat_template is not None
    kw = {"bos_token": facts.bos_token, "eos_token": facts.eos_token}
    full = render(facts.chat_template, _conversation(True), **kw)
    gen = render(facts.chat_template, _conversation(True)[:4], add_generation_prompt=True, **kw)
    nosys = render(facts.chat_template, _conversation(False)[:2], **kw)
    cut = _cut(full, [_SYS, _U1, _A1, _U2, _A2])
    cut_gen = _cut(gen, [_SYS, _U1, _A1, _U2])
    cut_nosys = _cut(nosys, [_U1, _A1])
    if cut is None or cut_gen is None or cut_nosys is None:
        return "the template rewrites or repeats message contents"
    head, sys_to_user, u_to_a, a_to_u, u_to_a2, _tail = cut
    if u_to_a != u_to_a2:
        return "the text between a user and an assistant turn differs from turn to turn"
    bos = facts.bos_token if facts.bos_token and head.startswith(facts.bos_token) else ""
    nosys_head = cut_nosys[0]
    if bos and nosys_head.startswith(bos):
        nosys_head = nosys_head[len(bos) :]
    return Pieces(
        bos=bos,
        system_prefix=head[len(bos) :],
        system_to_user=sys_to_user,
        first_user_prefix=nosys_head,
        user_to_assistant=u_to_a,
        generation=cut_gen[-1],
        assistant_to_user=a_to_u,
    )


def go_template(p: Pieces) -> str:
    """The Go template of fixed shape for these pieces (Ollama's .System and .Messages). The
    bos token is left out: the runtime writes it (the GGUF's tokenizer.ggml.add_bos_token)."""
    return (
        f"{{{{ if .System }}}}{p.system_prefix}{{{{ .System }}}}{{{{ end }}}}"
        '{{ $prev := "" }}'
        "{{ range $i, $_ := .Messages }}"
        "{{ $last := eq (len (slice $.Messages $i)) 1 }}"
        '{{ if eq .Role "user" }}'
        f'{{{{ if eq $prev "assistant" }}}}{p.assistant_to_user}'
        f'{{{{ else if eq $prev "" }}}}'
        f"{{{{ if $.System }}}}{p.system_to_user}{{{{ else }}}}{p.first_user_prefix}{{{{ end }}}}"
        "{{ end }}"
        "{{ .Content }}"
        f"{{{{ if $last }}}}{p.generation}{{{{ else }}}}{p.user_to_assistant}{{{{ end }}}}"
        '{{ $prev = "user" }}'
        '{{ else if eq .Role "assistant" }}{{ .Content }}{{ $prev = "assistant" }}'
        "{{ end }}"
        "{{ end }}"
    )


def render_pieces(p: Pieces, system: str | None, messages: list[dict[str, str]]) -> str:
    """What Ollama writes with go_template(p): a Python twin, for checking the translation."""
    out = []
    if system:
        out += [p.system_prefix, system]
    prev = ""
    for i, m in enumerate(messages):
        last = i == len(messages) - 1
        if m["role"] == "user":
            if prev == "assistant":
                out.append(p.assistant_to_user)
            elif prev == "":
                out.append(p.system_to_user if system else p.first_user_prefix)
            out += [m["content"], p.generation if last else p.user_to_assistant]
            prev = "user"
        elif m["role"] == "assistant":
            out.append(m["content"])
            prev = "assistant"
    return "".join(out)


# Conversations the translation must reproduce exactly (each ends with a user turn: Ollama
# renders the prompt for the next answer).
_CHECKS: list[tuple[str | None, list[dict[str, str]]]] = [
    ("Be brief.", [{"role": "user", "content": "Hi there"}]),
    (None, [{"role": "user", "content": "Hello"}]),
    (
        "You write widgets.",
        [
            {"role": "user", "content": "A clock."},
            {"role": "assistant", "content": "export const command = 'date'"},
            {"role": "user", "content": "Now blue."},
        ],
    ),
]


def translate(facts: TokenizerFacts) -> Translation:
    """The Ollama TEMPLATE for a model's chat template, checked against the Jinja output."""
    if not facts.chat_template:
        return Translation(None, "the model has no chat template")
    try:
        pieces = _pieces(facts)
        if isinstance(pieces, str):
            return Translation(None, f"not translated: {pieces}")
        if any("{{" in s or "}}" in s for s in pieces.literals()):
            return Translation(None, "not translated: the template writes '{{' or '}}' itself")
        for system, messages in _CHECKS:
            convo = ([{"role": "system", "content": system}] if system else []) + messages
            want = render(
                facts.chat_template,
                convo,
                add_generation_prompt=True,
                bos_token=facts.bos_token,
                eos_token=facts.eos_token,
            )
            if render_pieces(pieces, system, messages) != want[len(pieces.bos) :]:
                return Translation(
                    None, "not translated: the Go template would not write what the Jinja one does"
                )
    except ChatTemplateError as exc:
        return Translation(None, f"not translated: {exc}")
    return Translation(
        go_template(pieces),
        f"translated and checked on {len(_CHECKS)} conversations",
        stop_strings(facts, pieces),
    )


def stop_strings(facts: TokenizerFacts, pieces: Pieces | None = None) -> tuple[str, ...]:
    """The eos token, then every special token the template writes around turns (the start of
    the next turn is a stop too), never the bos token."""
    stops = [facts.eos_token] if facts.eos_token else []
    if pieces is not None:
        text = "".join(pieces.literals()[1:])
        stops += [t for t in facts.special_tokens if t in text]
    return tuple(s for s in dict.fromkeys(stops) if s and s != facts.bos_token)
