"""Split a README into chunks of about min..max characters.

The splitting itself is semantic-text-splitter's MarkdownSplitter (Rust, fast): it breaks at
the highest Markdown level that fits (sections, blocks, then sentences, then words). Around it:
- a fenced code block is never cut in two: pieces whose boundary falls inside a fence are
  joined (such a chunk may exceed max; it is counted as oversize);
- neighbours that fit together within max are joined, so few chunks fall under min;
- chunks that are only badges, images or links (no prose outside headings) are dropped and
  counted: a quick regex pass finds candidates, markdown-it-py's parse decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from semantic_text_splitter import MarkdownSplitter

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_STRIP = [
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),  # images
    re.compile(r"\[[^\]]*\]\([^)]*\)"),  # inline links, text and all
    re.compile(r"\[[^\]]*\]\[[^\]]*\]"),  # reference links
    re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE),  # reference definitions
    re.compile(r"<[^>]*>"),  # HTML tags and autolinks
    re.compile(r"https?://\S+"),  # bare URLs
    re.compile(r"^ {0,3}#{1,6}[ \t].*$", re.MULTILINE),  # headings do not count as prose
]
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3  # fewer words of prose than this: a link/badge/image-only chunk


@dataclass(frozen=True)
class Chunk:
    idx: int
    text: str
    heading: str  # the nearest heading at or before the chunk's start ("" before any)


@dataclass
class Chunked:
    chunks: list[Chunk] = field(default_factory=list)
    dropped_link_only: int = 0
    oversize: int = 0


@lru_cache(maxsize=8)
def _splitter(min_chars: int, max_chars: int) -> MarkdownSplitter:
    return MarkdownSplitter((min_chars, max_chars))


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark")


def fence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every fenced code block, fences included. Lenient
    on indentation (fences inside list items count), so a block is never missed; an
    unclosed fence runs to the end, as CommonMark says."""
    spans: list[tuple[int, int]] = []
    pos = 0
    opened: tuple[int, str, int] | None = None  # (start, char, length)
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if opened is None:
            m = _FENCE_OPEN.match(stripped)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                opened = (pos, m.group(1)[0], len(m.group(1)))
        else:
            body = stripped.strip()
            char, length = opened[1], opened[2]
            if body and set(body) == {char} and len(body) >= length:
                spans.append((opened[0], pos + len(stripped)))
                opened = None
        pos += len(line)
    if opened is not None:
        spans.append((opened[0], len(text)))
    return spans


def _join_across_fences(
    pieces: list[tuple[int, int]], spans: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        if out:
            prev_start, prev_end = out[-1]
            # The cut between prev_end and start lies inside a fence: keep them together.
            if any(s < prev_end and e > start for s, e in spans) or any(
                s < start < e for s, e in spans
            ):
                out[-1] = (prev_start, max(prev_end, end))
                continue
        out.append((start, end))
    return out


def _join_small(pieces: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        if out and end - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def link_only(text: str) -> bool:
    """Only badges, images, links (and headings): no prose a model should learn to write."""
    rest = text
    for pattern in _STRIP:
        rest = pattern.sub(" ", rest)
    if len(_WORD.findall(rest)) >= MIN_WORDS:
        return False  # the quick pass already sees prose
    words = 0
    depth = 0  # inside a link
    heading = False
    for token in _md().parse(text):
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type in ("fence", "code_block"):
            return False  # code is content
        elif token.type == "inline" and not heading:
            for child in token.children or ():
                if child.type == "link_open":
                    depth += 1
                elif child.type == "link_close":
                    depth -= 1
                elif child.type in ("text", "code_inline") and depth == 0:
                    words += len(_WORD.findall(child.content))
    return words < MIN_WORDS


def _heading_at(headings: list[tuple[int, str]], offset: int) -> str:
    title = ""
    for pos, text in headings:
        if pos > offset:
            break
        title = text
    return title


def chunk_readme(
    text: str, *, min_chars: int = 1000, max_chars: int = 2000, drop_link_only: bool = True
) -> Chunked:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = Chunked()
    if not text.strip():
        return out
    spans = fence_spans(text)
    pieces = [(o, o + len(c)) for o, c in _splitter(min_chars, max_chars).chunk_indices(text)]
    pieces = _join_small(_join_across_fences(pieces, spans), max_chars)
    headings = [
        (m.start(), m.group(2).strip())
        for m in _HEADING.finditer(text)
        if not any(s <= m.start() < e for s, e in spans)
    ]
    for start, end in pieces:
        body = text[start:end].strip()
        if not body:
            continue
        if drop_link_only and link_only(body):
            out.dropped_link_only += 1
            continue
        if len(body) > max_chars:
            out.oversize += 1
        out.chunks.append(Chunk(len(out.chunks), body, _heading_at(headings, start)))
    return out
