"""Property-based ingest fuzzing (hypothesis): manifests and archives (zip members stored,
deflated, bzip2 or lzma; tar.gz/bz2/xz; odd names, sizes, nesting, encodings, special files;
flipped and cut bytes; hostile URLs and HTTP answers) served by the real local HTTP server and
ingested by the real CLI entry point in-process (strategies in tests/support/fuzz_ingest.py).

Every case must end with exit 0, 1 or 2, without a traceback or the error boundary's
"unexpected" fallback, without a file written outside the workspace and without a temp folder
left behind. The number of examples is bounded and the run derandomized (the `graftwork`
hypothesis profile in tests/conftest.py), so CI sees the same cases every time;
GRAFTWORK_FUZZ_EXAMPLES=500 runs more, bench/bench_robustness.py counts over a thousand.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from support.fuzz_ingest import Case, cases, run_case
from support.http_server import LocalServer

_count = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@given(case=cases())
def test_fuzzed_ingest_never_crashes_and_stays_inside(server: LocalServer, case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="gw-fuzz-") as tmp:
        n = next(_count)
        got = run_case(case, server, Path(tmp) / "case", prefix=f"/c{n}")
    assert got.code in (0, 1, 2), f"exit {got.code}\n{got.err}"
    assert not got.traceback, got.err
    assert not got.unexpected, f"a cause nobody handled:\n{got.err}"
    assert not got.outside, f"wrote outside the workspace: {got.outside}"
    assert not got.temp_left, f"temp folders left: {got.temp_left}"
