"""Token counting of complete training examples, with a content-hash cache.

A *backend* (adapters/tokenizers.py: tiktoken or a Hugging Face chat template) knows how the
model sees an example (`render`) and how to count texts in bulk (`count_texts`). The
`CachingCounter` here adds the per-part breakdown and the cache: rows in the catalog's
`token_cache`, keyed by sha256(tokenizer id + rendered example), so after a prompt edit only
that one example is counted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from graftwork.core.base.catalog.db import now
from graftwork.core.dataset.examples import Example

PARTS = ("system", "tools", "user", "assistant", "structure")
_SQL_CHUNK = 500  # keys per `IN (...)` query, well under SQLite's variable limit


@dataclass(frozen=True)
class TokenCount:
    total: int
    parts: dict[str, int] = field(hash=False)

    @property
    def widget(self) -> int:
        """Tokens of the assistant answer (the widget code)."""
        return self.parts.get("assistant", 0)


APPROXIMATE_HINT = (
    "token counts are approximate (tiktoken stands in for Apple's tokenizer); set "
    "train.apple.toolkit_dir to Apple's adapter toolkit folder to count exactly"
)


def counts_exact(tokenizer_id: str | None) -> bool:
    """Whether counts made by tokenizer ``tokenizer_id`` (budget rows, set manifests keep it)
    are what the trainer will see: Apple's toolkit tokenizer or the model's own are; the
    tiktoken stand-in is not."""
    return bool(tokenizer_id) and not str(tokenizer_id).startswith("tiktoken:")


def counts_label(tokenizer_id: str | None) -> str:
    """'exact' or 'approximate', the word every report uses."""
    return "exact" if counts_exact(tokenizer_id) else "approximate"


class TokenizerBackend(Protocol):
    """What an adapter provides. ``id`` changes whenever counts could change. Optional:
    ``exact`` (bool) and ``label`` (what to show the user)."""

    id: str

    def render(self, example: Example) -> str: ...

    def count_texts(self, texts: Sequence[str]) -> list[int]: ...


class TokenCounter(Protocol):
    """What the stages and the TUI use."""

    id: str
    exact: bool
    label: str

    def count(self, example: Example, *, persist: bool = True) -> TokenCount: ...

    def count_many(
        self,
        examples: Sequence[Example],
        progress: Callable[[int], None] | None = None,
        apple_lines: Sequence[str] | None = None,
    ) -> list[TokenCount]: ...

    def count_texts(self, texts: Sequence[str]) -> list[int]: ...

    def lookup_identities(self, keys: Sequence[str]) -> dict[str, tuple[TokenCount, str]]: ...

    def store_identities(self, entries: dict[str, tuple[TokenCount, str]]) -> None: ...


def cache_key(tokenizer_id: str, rendered: str) -> str:
    return hashlib.sha256(f"{tokenizer_id}\0{rendered}".encode()).hexdigest()


def identity_key(tokenizer_id: str, project_hash: str, prompt: str, code_sha256: str) -> str:
    """Names an example by its ingredients (not its text), so a re-budget can find its count
    without reading the widget's code: "id:" + sha256(tokenizer, project, prompt, code hash)."""
    blob = f"{tokenizer_id}\0{project_hash}\0{code_sha256}\0{prompt.strip()}"
    return "id:" + hashlib.sha256(blob.encode()).hexdigest()


class CachingCounter:
    """TokenCounter over a backend, caching in memory and (given a catalog path) in SQLite.

    Safe to share between threads: each thread opens its own SQLite connection.
    """

    MEMO_LIMIT = 100_000

    def __init__(
        self, backend: TokenizerBackend, cache_path: Path | None = None, *, batch: int = 256
    ) -> None:
        self.backend = backend
        self.id = backend.id
        self.exact = bool(getattr(backend, "exact", counts_exact(backend.id)))
        self.label = str(getattr(backend, "label", backend.id))
        self.cache_path = cache_path
        self.batch = batch
        self._memo: dict[str, TokenCount] = {}
        self._fixed: dict[str, int] = {}  # system / tools texts: the same in every example
        self._alias_memo: dict[str, tuple[TokenCount, str]] = {}
        self._volatile: dict[str, TokenCount] = {}  # count(persist=False): memory only
        self._migrated = False
        self._lock = threading.Lock()

    # -- public ----------------------------------------------------------------------------
    def count(self, example: Example, *, persist: bool = True) -> TokenCount:
        """One example. ``persist=False`` (live previews while typing) keeps the count in
        memory only, so drafts never pile up in the catalog."""
        if persist:
            return self.count_many([example])[0]
        rendered = self.backend.render(example)
        key = cache_key(self.id, rendered)
        hit = self._volatile.get(key) or self._lookup([key]).get(key)
        if hit is None:
            hit = self._count_fresh([example], [rendered])[0]
            if len(self._volatile) > 1000:
                self._volatile.clear()
            self._volatile[key] = hit
        return hit

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        return self.backend.count_texts(list(texts)) if texts else []

    def count_many(
        self,
        examples: Sequence[Example],
        progress: Callable[[int], None] | None = None,
        apple_lines: Sequence[str] | None = None,
    ) -> list[TokenCount]:
        """Counts in order. ``apple_lines`` (each example's apple_line(), when the caller has
        them anyway) saves rendering again with backends that count that line."""
        if apple_lines is not None and getattr(self.backend, "renders_apple_line", False):
            rendered = list(apple_lines)
        else:
            rendered = [self.backend.render(e) for e in examples]
        keys = [cache_key(self.id, r) for r in rendered]
        found = self._lookup(keys)
        promoted = {
            k: c for k in keys if k not in found and (c := self._volatile.pop(k, None)) is not None
        }
        if promoted:  # counted during a live preview: store it now, no need to count again
            self._store(promoted)
            found.update(promoted)
        misses = [i for i, k in enumerate(keys) if k not in found]
        if progress and len(examples) > len(misses):
            progress(len(examples) - len(misses))
        # Count misses in batches so progress moves and memory stays flat.
        for start in range(0, len(misses), self.batch):
            chunk = misses[start : start + self.batch]
            counted = self._count_fresh([examples[i] for i in chunk], [rendered[i] for i in chunk])
            new = {keys[i]: c for i, c in zip(chunk, counted, strict=True)}
            self._store(new)
            found.update(new)
            if progress:
                progress(len(chunk))
        return [found[k] for k in keys]

    # -- identity aliases ------------------------------------------------------------------
    # Rows keyed "id:..." (identity_key) hold {"parts": ..., "example_sha256": ...} in the
    # parts column: the count of an example found by its ingredients.
    def lookup_identities(self, keys: Sequence[str]) -> dict[str, tuple[TokenCount, str]]:
        missing = [k for k in dict.fromkeys(keys) if k not in self._alias_memo]
        if missing and self.cache_path is not None:
            with self._cache() as conn:
                self._read_identities(conn, missing)
        return {k: self._alias_memo[k] for k in keys if k in self._alias_memo}

    def _read_identities(self, conn: sqlite3.Connection, missing: list[str]) -> None:
        for start in range(0, len(missing), _SQL_CHUNK):
            chunk = missing[start : start + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, total, blob in conn.execute(
                f"SELECT key, total, parts FROM token_cache WHERE tokenizer = ? AND key IN ({marks})",
                [self.id, *chunk],
            ):
                data = json.loads(blob)
                self._alias_memo[key] = (
                    TokenCount(int(total), data["parts"]),
                    data["example_sha256"],
                )

    def store_identities(self, entries: dict[str, tuple[TokenCount, str]]) -> None:
        self._alias_memo.update(entries)
        if self.cache_path is None or not entries:
            return
        stamp = now()
        with self._cache() as conn, conn:  # type: ignore[union-attr]
            conn.executemany(
                "INSERT OR REPLACE INTO token_cache (key, tokenizer, total, parts, created_at) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        k,
                        self.id,
                        c.total,
                        json.dumps({"parts": c.parts, "example_sha256": sha}),
                        stamp,
                    )
                    for k, (c, sha) in entries.items()
                ],
            )

    # -- counting --------------------------------------------------------------------------
    def _fixed_count(self, text: str) -> int:
        if text not in self._fixed:
            self._fixed[text] = self.backend.count_texts([text])[0]
        return self._fixed[text]

    def _count_fresh(
        self, examples: Sequence[Example], rendered: Sequence[str]
    ) -> list[TokenCount]:
        # A backend that can split one encoding into parts (tiktoken) does all the work;
        # anything it cannot handle falls back to counting the parts separately.
        direct = getattr(self.backend, "count_examples", None)
        if direct is None:
            return self._count_parts(examples, rendered)
        out = direct(examples, rendered)
        todo = [i for i, c in enumerate(out) if c is None]
        if todo:
            again = self._count_parts([examples[i] for i in todo], [rendered[i] for i in todo])
            for i, c in zip(todo, again, strict=True):
                out[i] = c
        return out  # type: ignore[return-value]

    def _count_parts(
        self, examples: Sequence[Example], rendered: Sequence[str]
    ) -> list[TokenCount]:
        # One batched call for all totals, users and assistants; duplicates counted once.
        texts: list[str] = []
        index: dict[str, int] = {}
        for text in (*rendered, *(e.user for e in examples), *(e.assistant for e in examples)):
            if text not in index:
                index[text] = len(texts)
                texts.append(text)
        counts = self.backend.count_texts(texts)
        out = []
        part_texts = getattr(self.backend, "part_texts", None)  # optional: the backend's own view
        for ex, ren in zip(examples, rendered, strict=True):
            parts = part_texts(ex) if part_texts else ex.parts()
            sizes = {
                "system": self._fixed_count(parts["system"]),
                "tools": self._fixed_count(parts["tools"]),
                "user": counts[index[ex.user]],
                "assistant": counts[index[ex.assistant]],
            }
            total = counts[index[ren]]
            sizes["structure"] = total - sum(sizes.values())
            out.append(TokenCount(total, sizes))
        return out

    # -- cache -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _cache(self) -> Iterator[sqlite3.Connection | None]:
        """A connection to the token cache for one lookup or store, closed after it. Counters
        live as long as the process and serve many threads: a connection kept per thread
        would outlive its thread unclosed (Python 3.13 warns of each)."""
        if self.cache_path is None:
            yield None
            return
        if not self._migrated:
            from graftwork.core.base.catalog.db import open_catalog

            with self._lock, open_catalog(self.cache_path):  # migrated: token_cache exists
                self._migrated = True
        from graftwork.core.base.catalog.liveness import lock_wait_seconds

        conn = sqlite3.connect(str(self.cache_path), timeout=lock_wait_seconds())
        try:
            yield conn
        finally:
            conn.close()

    def _lookup(self, keys: Sequence[str]) -> dict[str, TokenCount]:
        found = {k: self._memo[k] for k in keys if k in self._memo}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if self.cache_path is None or not missing:
            return found
        with self._cache() as conn:
            assert conn is not None
            for start in range(0, len(missing), _SQL_CHUNK):
                chunk = missing[start : start + _SQL_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, total, parts FROM token_cache WHERE tokenizer = ? AND key IN ({marks})",
                    [self.id, *chunk],
                ).fetchall()
                for key, total, parts in rows:
                    found[key] = TokenCount(int(total), json.loads(parts))
        self._remember({k: found[k] for k in missing if k in found})
        return found

    def _store(self, new: dict[str, TokenCount]) -> None:
        self._remember(new)
        if self.cache_path is None or not new:
            return
        stamp = now()
        with self._cache() as conn, conn:  # type: ignore[union-attr]
            conn.executemany(
                "INSERT OR REPLACE INTO token_cache (key, tokenizer, total, parts, created_at) VALUES (?, ?, ?, ?, ?)",
                [(k, self.id, c.total, json.dumps(c.parts), stamp) for k, c in new.items()],
            )

    def _remember(self, new: dict[str, TokenCount]) -> None:
        with self._lock:
            if len(self._memo) + len(new) > self.MEMO_LIMIT:
                self._memo.clear()
            self._memo.update(new)


def fit_lines(text: str, budget: int, count: Callable[[str], int]) -> tuple[str, int, bool]:
    """As many whole lines of ``text`` as fit in ``budget`` tokens: (text, tokens, truncated)."""
    total = count(text)
    if total <= budget:
        return text, total, False
    lines = text.splitlines(keepends=True)
    lo, hi = 0, len(lines)  # invariant: lines[:lo] fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count("".join(lines[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    kept = "".join(lines[:lo])
    return kept, count(kept), True
