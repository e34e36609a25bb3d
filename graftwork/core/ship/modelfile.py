"""Ollama's Modelfile for a shipped GGUF: FROM, TEMPLATE, SYSTEM and stop PARAMETERs.

Ollama reads a value in three double quotes as a multi-line value; a value holding three
double quotes itself cannot be written that way, so such a TEMPLATE or SYSTEM is left out with
a comment saying why.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from graftwork.core.base.errors import GraftworkError
from graftwork.core.ship.chat_template import Translation

# Ollama model names: a name of letters, digits, '.', '_' and '-' (and an optional :tag),
# lower case by convention (Ollama folds them).
OLLAMA_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}(:[a-z0-9][a-z0-9._-]{0,79})?$")


class OllamaNameError(GraftworkError):
    exit_code = 2


def check_ollama_name(name: str) -> str:
    if not OLLAMA_NAME_RE.match(name or ""):
        suggestion = re.sub(r"[^a-z0-9._-]+", "-", (name or "").lower()).strip("-._") or "model"
        raise OllamaNameError(
            f"Ollama model name {name!r} is not allowed: lower-case letters, digits, '.', '_' "
            f"and '-' (an optional :tag), starting with a letter or digit. Try {suggestion!r} "
            "(--name)."
        )
    return name


def default_ollama_name(set_name: str) -> str:
    """A valid name from the set's name: `graftwork ship` uses it when --name is not given."""
    return re.sub(r"[^a-z0-9._-]+", "-", set_name.lower()).strip("-._")[:80] or "graftwork-model"


def _block(keyword: str, value: str) -> str:
    if '"""' in value:
        return f"# {keyword} left out: its text holds three double quotes, which Modelfiles cannot quote\n"
    return f'{keyword} """{value}"""\n'


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def modelfile_text(
    gguf_name: str, translation: Translation, system_prompt: str | None, source_note: str
) -> str:
    """The Modelfile beside ``gguf_name`` (FROM is relative: Ollama resolves it against the
    Modelfile's folder)."""
    lines = [f"# {source_note}\n", f"FROM ./{gguf_name}\n"]
    if translation.go_template is not None:
        lines.append(f"# TEMPLATE from the model's chat template ({translation.note})\n")
        lines.append(_block("TEMPLATE", translation.go_template))
    else:
        lines.append(
            f"# no TEMPLATE: chat template {translation.note}; Ollama uses the one in the GGUF "
            "(tokenizer.chat_template) where it knows the family\n"
        )
    if system_prompt:
        lines.append(_block("SYSTEM", system_prompt))
    for stop in translation.stops:
        lines.append(f"PARAMETER stop {_quoted(stop)}\n")
    return "".join(lines)


def create_command(name: str, modelfile: Path) -> list[str]:
    return ["ollama", "create", name, "-f", str(modelfile)]


def create_command_line(name: str, modelfile: Path) -> str:
    return shlex.join(create_command(name, modelfile))
