"""Write docs/cli.md: every graftwork command's --help, rendered the same way on every machine.

Run `make docs` after adding or changing a command or flag; tests/test_docs.py fails while
docs/cli.md differs from what this renders. Usage: python scripts/cli_docs.py [--check] [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "cli.md"
WIDTH = 100  # fixed, so the text never depends on the terminal that runs this

HEADER = """\
# Command reference

Generated from each command's `--help` by `scripts/cli_docs.py` (`make docs`); do not edit by
hand. Global options come before the command: `graftwork -w DIR COMMAND ...`. Exit codes:
**0** all good, **1** finished but some items failed (each is named with its cause), **2**
usage or configuration error (a Ctrl-C gives 130).
"""


def _help(
    command: click.Command, path: list[str], parent: click.Context | None
) -> tuple[click.Context, str]:
    ctx = click.Context(
        command,
        info_name=path[-1],
        parent=parent,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
    )
    return ctx, command.get_help(ctx).rstrip()


def _sections(
    command: click.Command, path: list[str], parent: click.Context | None, depth: int
) -> list[str]:
    ctx, text = _help(command, path, parent)
    out = [f"{'#' * depth} `{' '.join(path)}`", "", "```text", text, "```", ""]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _sections(sub, [*path, name], ctx, min(depth + 1, 4))
    return out


def render() -> str:
    from graftwork.cli import cli

    lines = [HEADER]
    lines += _sections(cli, ["graftwork"], None, 2)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    out = Path(args[0]) if args else DEFAULT_OUT
    text = render()
    if check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
