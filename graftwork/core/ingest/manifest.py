"""The gallery manifest: parse it, validate every entry, pick the ones the user asked for.

A manifest is `{"widgets": [...]}` or a bare list of the same objects. A manifest that is not
JSON or has the wrong shape stops the stage (ConfigError, exit 2); a bad entry is reported
with its index and id and skipped, and the others carry on.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graftwork.core.base.errors import ConfigError

MAX_ID_LENGTH = 200  # ids become folder names; stay well under every filesystem's limit
# File systems limit names in bytes (255 on ext4/APFS), and ingest adds suffixes and temp
# prefixes (".<id>.png.xxxxxxxx.tmp"): 200 bytes of UTF-8 leaves room for them.
MAX_ID_BYTES = 200
# How deep one entry may nest lists and objects. Real entries are flat; a hostile one could
# nest until json.dumps or a later reader hits Python's recursion limit.
MAX_ENTRY_DEPTH = 32


@dataclass(frozen=True)
class ManifestEntry:
    """One valid manifest entry; ``raw`` keeps every field so OS_* columns can be rebuilt."""

    id: str
    download_url: str
    order: int
    raw: dict[str, Any]
    name: str | None = None
    author: str | None = None
    description: str | None = None
    screenshot_url: str | None = None


@dataclass(frozen=True)
class ManifestProblem:
    """An entry that cannot be used; reported with its index and id, then skipped."""

    index: int
    id: Any  # whatever the entry held under "id" (maybe missing or not a string)
    cause: str

    @property
    def label(self) -> str:
        return (
            f"entry #{self.index} (id {self.id!r})"
            if self.id is not None
            else f"entry #{self.index}"
        )


@dataclass
class ParsedManifest:
    entries: list[ManifestEntry] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)


def id_problem(item_id: str) -> str | None:
    """Why ``item_id`` cannot name a folder under downloads/, or None if it can."""
    if not item_id:
        return "empty id"
    if any(unicodedata.category(ch) == "Cc" for ch in item_id):
        return "id contains a control character"
    if "/" in item_id or "\\" in item_id:
        return "id contains a path separator"
    if ".." in item_id:
        return "id contains '..'"
    if item_id.startswith("."):
        # Hidden names are ours (downloads/.archives, .screenshots, temp folders).
        return "id starts with '.'"
    if item_id != item_id.strip():
        return "id has leading or trailing whitespace"
    if len(item_id) > MAX_ID_LENGTH:
        return f"id longer than {MAX_ID_LENGTH} characters"
    size = len(item_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"id is {size} bytes in UTF-8, longer than the limit of {MAX_ID_BYTES} bytes"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in item_id):
        return "id contains a lone surrogate (not valid Unicode)"
    return None


def nesting_depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests lists and objects, counting no further than ``limit + 1``
    (iterative, so a hostile document cannot exhaust the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            stack.extend(
                (child, depth) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be parsed (e.g. "http://[::1": Invalid IPv6 URL), or None."""
    if "\x00" in url:
        return "contains a NUL byte"
    try:
        urlsplit(url).port  # noqa: B018 -- port parsing raises on garbage like ":99999999"
    except ValueError as exc:
        return str(exc)
    return None


def _optional_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _entry_problem(raw: Any, first_seen: dict[str, int]) -> str | None:
    """Why a manifest entry cannot be used, or None."""
    if not isinstance(raw, dict):
        return f"entry is a {type(raw).__name__}, not an object"
    item_id, url = raw.get("id"), raw.get("downloadUrl")
    if item_id is None:
        return "missing 'id'"
    if not isinstance(item_id, str):
        return f"'id' must be a string, got {type(item_id).__name__}"
    bad_id = id_problem(item_id)
    if bad_id:
        return bad_id
    if url is None:
        return "missing 'downloadUrl'"
    if not isinstance(url, str) or not url.strip():
        return "'downloadUrl' must be a non-empty string"
    bad_url = url_problem(url.strip())
    if bad_url:
        return f"invalid 'downloadUrl' {url.strip()[:80]!r} ({bad_url})"
    if nesting_depth(raw, MAX_ENTRY_DEPTH) > MAX_ENTRY_DEPTH:
        return f"entry is nested deeper than {MAX_ENTRY_DEPTH} levels"
    try:  # JSON may escape half a surrogate pair ("\\ud800"): no file name, URL or row can hold it
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "entry holds text that is not valid Unicode (a lone surrogate)"
    if item_id in first_seen:
        return f"duplicate id (first seen at entry #{first_seen[item_id]})"
    return None


def parse_manifest(data: bytes | str, source: str) -> ParsedManifest:
    """Parse manifest text. Raises ConfigError for the whole file, collects entry problems."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: manifest is not valid JSON ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{source}: manifest is nested too deeply to read") from None
    if isinstance(doc, dict):
        if "widgets" not in doc:
            raise ConfigError(
                f"{source}: manifest object has no 'widgets' list (keys: {', '.join(sorted(doc)) or 'none'})"
            )
        doc = doc["widgets"]
    if not isinstance(doc, list):
        raise ConfigError(
            f'{source}: manifest must be a list of widgets or {{"widgets": [...]}}, got {type(doc).__name__}'
        )

    parsed = ParsedManifest()
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(doc):
        cause = _entry_problem(raw, first_seen)
        if cause:
            item_id = raw.get("id") if isinstance(raw, dict) else None
            parsed.problems.append(ManifestProblem(index, item_id, cause))
            continue
        item_id, url = raw["id"], raw["downloadUrl"]
        first_seen[item_id] = index
        parsed.entries.append(
            ManifestEntry(
                id=item_id,
                download_url=url.strip(),
                order=index,
                raw=raw,
                name=_optional_str(raw, "name"),
                author=_optional_str(raw, "author"),
                description=_optional_str(raw, "description"),
                screenshot_url=_optional_str(raw, "screenshotUrl"),
            )
        )
    return parsed


def read_widget_file(path: Path) -> list[str]:
    """Ids from a widget file: one per line; blank lines and `#` comments are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read widget file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: widget file is not UTF-8 text") from None
    ids = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line)
    return ids


def select(
    entries: list[ManifestEntry], wanted: Iterable[str] | None
) -> tuple[list[ManifestEntry], list[str]]:
    """Entries whose id is in ``wanted`` (all when None), in manifest order, plus unknown ids."""
    if wanted is None:
        return list(entries), []
    wanted_list = list(dict.fromkeys(wanted))  # de-duplicated, order kept
    known = {e.id for e in entries}
    chosen = set(wanted_list)
    return [e for e in entries if e.id in chosen], [w for w in wanted_list if w not in known]
