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

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from semantic_text_splitter import MarkdownSplitter

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+([^\n]*)$", re.MULTILINE)
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


def _fence_lines(text: str) -> list[tuple[int, int, str, int, str]]:
    """Lines that may open or close a fence: (line start, line end, char, run length, rest).
    Found with str.find (C speed); only lines whose first non-blank is a ``` or ~~~ run."""
    out = []
    for marker in ("```", "~~~"):
        pos = text.find(marker)
        while pos != -1:
            line_start = text.rfind("\n", 0, pos) + 1
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end == -1 else line_end
            if not text[line_start:pos].strip(" \t"):
                run = pos
                while run < line_end and text[run] == marker[0]:
                    run += 1
                out.append((line_start, line_end, marker[0], run - pos, text[run:line_end]))
            pos = text.find(marker, line_end)
    out.sort()
    return out


def fence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every fenced code block, fences included. Lenient
    on indentation (fences inside list items count), so a block is never missed; an
    unclosed fence runs to the end, as CommonMark says."""
    spans: list[tuple[int, int]] = []
    opened: tuple[int, str, int] | None = None  # (start, char, length)
    for start, end, char, length, rest in _fence_lines(text):
        if opened is None:
            if not (char == "`" and "`" in rest):
                opened = (start, char, length)
        elif char == opened[1] and length >= opened[2] and not rest.strip():
            spans.append((opened[0], end))
            opened = None
    if opened is not None:
        spans.append((opened[0], len(text)))
    return spans


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Whether ``pos`` lies strictly inside a span (spans sorted, ``starts`` their starts)."""
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and spans[i][0] < pos < spans[i][1]


def _join_across_fences(
    pieces: list[tuple[int, int]], spans: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    if not spans:
        return pieces
    starts = [s for s, _ in spans]
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        # The cut before this piece lies inside a fence (the previous piece ends in it or this
        # one starts in it): keep them together.
        if out and (_inside(spans, starts, out[-1][1]) or _inside(spans, starts, start)):
            out[-1] = (out[-1][0], max(out[-1][1], end))
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


def _has_prose(text: str) -> bool:
    """At least MIN_WORDS words outside links, images, HTML and headings (line by line, so
    it usually stops after the first lines of a chunk)."""
    words = 0
    for line in text.splitlines():
        for pattern in _STRIP:
            line = pattern.sub(" ", line)
        for _ in _WORD.finditer(line):
            words += 1
            if words >= MIN_WORDS:
                return True
    return False


def link_only(text: str) -> bool:
    """Only badges, images, links (and headings): no prose a model should learn to write."""
    if _has_prose(text):
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


def _heading_at(positions: list[int], titles: list[str], offset: int) -> str:
    i = bisect.bisect_right(positions, offset) - 1
    return titles[i] if i >= 0 else ""


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
    starts = [s for s, _ in spans]
    headings = [
        (m.start(), m.group(2).rstrip(" \t#"))
        for m in _HEADING.finditer(text)
        if not (spans and _inside(spans, starts, m.start()))
    ]
    positions = [pos for pos, _ in headings]
    titles = [title for _, title in headings]
    for start, end in pieces:
        body = text[start:end].strip()
        if not body:
            continue
        if drop_link_only and link_only(body):
            out.dropped_link_only += 1
            continue
        if len(body) > max_chars:
            out.oversize += 1
        out.chunks.append(Chunk(len(out.chunks), body, _heading_at(positions, titles, start)))
    return out
