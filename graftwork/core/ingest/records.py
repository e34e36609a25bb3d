"""Stream the records of a JSONL or JSON-array file, one at a time, each with the line it
starts on, so a 2 GB file never sits in memory and every problem names file:line.

A file whose first line is a complete JSON array of message objects is JSONL of Apple
samples; a file that starts with `[` otherwise is one JSON array of records, read
incrementally. Anything else is read as JSONL. Bad lines (not UTF-8, not JSON, longer than
MAX_RECORD_BYTES) are yielded as errors and reading goes on with the next line; a JSON array
cannot be resynchronised after a broken element, so its reading stops there.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

MAX_RECORD_BYTES = 64 * 1024 * 1024
CHUNK = 1 << 20
GIVE_UP_AFTER = 100  # errors before the first good record: the file is not JSON/JSONL


class RawRecord(NamedTuple):  # a tuple: made once per record, 100,000s of times
    line: int  # 1-based line the record starts on
    value: Any = None
    error: str | None = None  # set when the record could not be read


def read_records(path: Path) -> Iterator[RawRecord]:
    """The file's records in order; errors as RawRecord(error=...)."""
    good = bad = 0
    with open(path, "rb") as fh:
        for rec in _records(fh):
            if rec.error is None:
                good += 1
            else:
                bad += 1
            yield rec
            if bad >= GIVE_UP_AFTER and good == 0:
                yield RawRecord(
                    rec.line,
                    error=f"gave up after {bad} unreadable records and none readable "
                    "(is this a JSON or JSONL file?)",
                )
                return


def _records(fh: BinaryIO) -> Iterator[RawRecord]:
    head = fh.readline(CHUNK).lstrip(codecs.BOM_UTF8).lstrip()
    fh.seek(0)
    if head.startswith(b"["):
        first = next(_lines(fh), None)
        fh.seek(0)
        if not (first and _is_apple_line(first.strip())):
            yield from _json_array(fh)
            return
    yield from _jsonl(fh)


def _lines(fh: BinaryIO) -> Iterator[bytes | None]:
    """Physical lines, read a chunk at a time; None for a line longer than MAX_RECORD_BYTES
    (its rest is skipped without being held)."""
    while True:
        raw = fh.readline(CHUNK)
        if not raw:
            return
        if raw.endswith(b"\n") or len(raw) < CHUNK:
            yield raw
            continue
        # A long line: read on in big chunks (readline() with a limit reads the file in
        # small pieces, which made skipping a 2 GB line take a minute) and seek back to just
        # after its newline.
        parts: list[bytes] | None = [raw]
        size = len(raw)
        while chunk := fh.read(CHUNK):
            end = chunk.find(b"\n")
            if end >= 0:
                fh.seek(end + 1 - len(chunk), 1)
                chunk = chunk[: end + 1]
            if parts is not None:
                size += len(chunk)
                if size > MAX_RECORD_BYTES:
                    parts = None  # too long: drop what we hold, skip the rest
                else:
                    parts.append(chunk)
            if end >= 0:
                break
        yield None if parts is None else b"".join(parts)


def _is_apple_line(line: bytes) -> bool:
    """A complete first line that is an array of message objects: JSONL of Apple samples."""
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def _jsonl(fh: BinaryIO) -> Iterator[RawRecord]:
    loads = json.loads
    for number, raw in enumerate(_lines(fh), 1):
        if raw is None:
            yield RawRecord(number, error=f"record longer than {MAX_RECORD_BYTES >> 20} MB")
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield RawRecord(number, error=f"not UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        try:
            yield RawRecord(number, loads(text))
        except json.JSONDecodeError as exc:
            yield RawRecord(number, error=f"not JSON ({exc.msg} at column {exc.colno})")


def _json_array(fh: BinaryIO) -> Iterator[RawRecord]:
    """Elements of one top-level JSON array, decoded incrementally."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buf, pos, line, eof = "", 0, 1, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = fh.read(CHUNK)
        buf = buf[pos:] + utf8.decode(chunk, final=not chunk)
        pos = 0
        eof = not chunk
        return True

    def skip_ws() -> bool:
        """Move past whitespace; False at the end of the file."""
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                line += buf[pos] == "\n"
                pos += 1
            if pos < len(buf):
                return True
            if not more():
                return False

    try:
        if not skip_ws() or buf[pos] != "[":
            yield RawRecord(line, error="not a JSON array")
            return
        pos += 1
        if skip_ws() and buf[pos] == "]":
            return  # an empty array
        expect_value = True
        while True:
            if not skip_ws():
                yield RawRecord(line, error="not JSON (the array is not closed)")
                return
            if not expect_value:
                if buf[pos] == "]":
                    return
                if buf[pos] != ",":
                    yield RawRecord(line, error=f"not JSON (expected ',' or ']', got {buf[pos]!r})")
                    return
                pos += 1
                expect_value = True
                continue
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if len(buf) - pos > MAX_RECORD_BYTES:
                        yield RawRecord(
                            line, error=f"record longer than {MAX_RECORD_BYTES >> 20} MB"
                        )
                        return
                    if not more():  # complete and still broken
                        yield RawRecord(line, error=f"not JSON ({exc.msg})")
                        return
            yield RawRecord(line, value)
            line += buf.count("\n", pos, end)
            pos = end
            expect_value = False
    except UnicodeDecodeError as exc:
        yield RawRecord(line, error=f"not UTF-8 ({exc.reason}); the rest of the array is unread")
