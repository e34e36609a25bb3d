"""Property-based ingest cases (hypothesis) and the harness that runs one.

A case is a manifest (its shape, ids, hostile URLs, odd values, nesting, encoding) and, per
entry, an archive (zip with stored/deflate/bzip2/lzma members, tar.gz/bz2/xz, odd member names,
sizes, nesting, name encodings, symlinks and special files, flipped or cut bytes) and the HTTP
answer that serves it (real LocalServer on 127.0.0.1: statuses, redirects, lying headers,
resets). `run_case` ingests it with the real CLI entry point, in-process, and reports what a
user must never see: a traceback, the error boundary's "unexpected" fallback (a cause nobody
handled), an exit code other than 0/1/2, a file written outside the workspace, a temp folder
left behind. tests/test_ingest_fuzz.py asserts none happen (bounded examples, derandomized);
bench/bench_robustness.py runs a thousand and more and counts them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from support.http_server import LocalServer, Reply, reset_connection

from graftwork.core.base.workspace import Workspace

# Every name meant to escape the workspace ends in this file name, so a check for it anywhere
# above the workspace (and at absolute paths) finds an escape whatever the path was.
ESCAPE = "gw-fuzz-escape.jsx"
ESCAPE_ABS = f"/tmp/gw-fuzz-abs/{ESCAPE}"

# ---- member names ------------------------------------------------------------------------

HOSTILE_NAMES = [
    f"../{ESCAPE}",
    f"../../../../../../../../{ESCAPE}",
    f"w.widget/../../{ESCAPE}",
    f"w.widget\\..\\..\\{ESCAPE}",
    ESCAPE_ABS,
    f"C:/{ESCAPE}",
    f"C:\\{ESCAPE}",
    f"//server/share/{ESCAPE}",
    "w.widget/" + "n" * 300 + ".jsx",  # too long for a file name
    "w.widget/" + "é" * 130 + ".jsx",  # 260 bytes in UTF-8
    "w.widget/a\x01b.jsx",
    "w.widget/a\x00b.jsx",
    "w.widget/",
    "w.widget/./././index.jsx",
    "__MACOSX/._index.jsx",
    "w.widget/.DS_Store",
    "w.widget/\u202etxt.jsx",
    "w.widget/CON",
    "w.widget/a:b.jsx",
    "w.widget/" + "/".join(["d"] * 120) + "/deep.jsx",  # deeper than PATH_MAX allows? close
]
_segment = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\"),
        min_size=1,
        max_size=24,
    ),
    st.sampled_from(["..", ".", "", "index.jsx", "lib", "é" * 90, "x" * 250, ".hidden"]),
)
member_names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.lists(_segment, min_size=1, max_size=8).map(lambda parts: "/".join(parts)),
    st.lists(_segment, min_size=1, max_size=4).map(lambda p: "w.widget/" + "/".join(p)),
)

# ---- member contents: size and shape ----------------------------------------------------


@st.composite
def contents(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["text", "binary", "repeat", "empty", "utf16", "latin1"]))
    if kind == "empty":
        return b""
    if kind == "binary":
        return draw(st.binary(max_size=2048))
    if kind == "repeat":  # compresses well: ratio checks, big files
        return draw(st.binary(min_size=1, max_size=8)) * draw(st.integers(1, 200_000))
    text = draw(st.text(max_size=400))
    if kind == "utf16":
        return text.encode("utf-16", "surrogatepass")
    if kind == "latin1":
        return text.encode("latin-1", "replace")
    return ("export const command = 'date'\n" + text).encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes
    kind: str = "file"  # file | dir | symlink | hardlink | fifo | device | encrypted | mode
    compression: int = zipfile.ZIP_DEFLATED
    raw_name: bytes | None = None  # zip: the name's bytes as stored, without the UTF-8 flag
    mode: int = 0  # kind "mode": a raw Unix mode in the zip's external attributes


@st.composite
def members(draw: st.DrawFn, item_id: str) -> Member:
    plain = f"{item_id}.widget/index.jsx"
    name = draw(st.one_of(st.just(plain), member_names))
    kind = draw(
        st.sampled_from(
            ["file"] * 6 + ["dir", "symlink", "hardlink", "fifo", "device", "encrypted", "mode"]
        )
    )
    compression = draw(
        st.sampled_from(
            [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
        )
    )
    raw_name = None
    if draw(st.booleans()) and draw(st.booleans()):  # a legacy encoding of a non-ASCII name
        legacy = f"{item_id}.widget/" + draw(st.text(st.characters(max_codepoint=255), max_size=12))
        enc = draw(st.sampled_from(["latin-1", "cp437", "shift_jis", "utf-16-le"]))
        raw = legacy.encode(enc, "replace")
        name, raw_name = legacy, raw
    return Member(
        name=name,
        data=draw(contents()),
        kind=kind,
        compression=compression,
        raw_name=raw_name,
        mode=draw(st.integers(0, 0o177777)),
    )


def _zip_bytes(items: list[Member]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": duplicates are the point
        for n, m in enumerate(items):
            # A placeholder of the raw name's length is replaced afterwards (zipfile would
            # encode the name as UTF-8 and set the flag).
            name = _placeholder(n, m) or m.name or f"x{n}"
            info = zipfile.ZipInfo(name)
            info.compress_type = m.compression
            if m.kind == "dir":
                info.external_attr = (stat.S_IFDIR | 0o755) << 16
            elif m.kind == "symlink":
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            elif m.kind in ("fifo", "device"):
                info.create_system = 3
                kind = stat.S_IFIFO if m.kind == "fifo" else stat.S_IFCHR
                info.external_attr = (kind | 0o644) << 16
            elif m.kind == "mode":
                info.create_system = 3
                info.external_attr = m.mode << 16
            elif m.kind == "encrypted":
                info.flag_bits |= 0x1
            data = m.name.encode() if m.kind == "symlink" else m.data
            with contextlib.suppress(ValueError):  # zipfile refuses some names itself
                zf.writestr(info, data)
    out = buf.getvalue()
    for n, m in enumerate(items):
        placeholder = _placeholder(n, m)
        if placeholder and m.raw_name:
            out = out.replace(placeholder.encode(), m.raw_name)
    return out


def _placeholder(n: int, m: Member) -> str | None:
    """An ASCII stand-in as long as the member's raw name bytes (replaced after writing)."""
    if not m.raw_name or len(m.raw_name) < 4:
        return None
    return f"{n:03d}" + "r" * (len(m.raw_name) - 3)


def _tar_bytes(items: list[Member], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for n, m in enumerate(items):
            info = tarfile.TarInfo(m.name or f"x{n}")
            if m.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, ESCAPE_ABS
            elif m.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
            elif m.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif m.kind in ("fifo", "device"):
                info.type = tarfile.FIFOTYPE if m.kind == "fifo" else tarfile.CHRTYPE
            else:
                info.size = len(m.data)
            body = io.BytesIO(m.data) if info.type == tarfile.REGTYPE else None
            with contextlib.suppress(ValueError):
                tf.addfile(info, body)
    return buf.getvalue()


ARCHIVE_FORMATS = ["zip", "zip", "zip", "tar.gz", "tar.bz2", "tar.xz"]


@st.composite
def archives(draw: st.DrawFn, item_id: str) -> bytes:
    fmt = draw(st.sampled_from(ARCHIVE_FORMATS))
    items = draw(st.lists(members(item_id), min_size=0, max_size=5))
    if draw(st.integers(0, 9)) < 7:  # mostly a real widget file among the odd ones
        body = b"export const command = 'date'\n" + draw(st.binary(max_size=64))
        items.insert(0, Member(f"{item_id}.widget/index.jsx", body))
    data = _zip_bytes(items) if fmt == "zip" else _tar_bytes(items, "w:" + fmt.split(".")[1])
    damage = draw(st.sampled_from(["none"] * 4 + ["flip", "cut", "prefix", "suffix"]))
    if damage == "flip" and data:
        out = bytearray(data)
        for pos, value in draw(
            st.lists(st.tuples(st.integers(0, len(out) - 1), st.integers(0, 255)), max_size=20)
        ):
            out[pos] = value
        data = bytes(out)
    elif damage == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "prefix":
        data = draw(st.binary(max_size=64)) + data
    elif damage == "suffix":
        data = data + draw(st.binary(max_size=64))
    return data


# ---- HTTP answers ------------------------------------------------------------------------


@st.composite
def replies(draw: st.DrawFn, body: bytes, route: str) -> list[Reply]:
    how = draw(
        st.sampled_from(
            ["ok"] * 6
            + ["status", "flaky", "redirect", "loop", "long", "short", "reset", "html", "gzip"]
        )
    )
    if how == "status":
        return [Reply(status=draw(st.sampled_from([204, 301, 403, 404, 418, 429, 500, 503, 599])))]
    if how == "flaky":
        return [Reply(status=503), Reply(body=body)]
    if how == "redirect":
        return [Reply(status=302, headers={"Location": route + ".moved"})]
    if how == "loop":
        return [Reply(status=302, headers={"Location": route})]
    if how == "long":  # promises more bytes than it sends
        return [Reply(body=body, headers={"Content-Length": str(len(body) + 100)})]
    if how == "short":
        return [Reply(body=body, headers={"Content-Length": str(max(len(body) - 7, 0))})]
    if how == "reset":
        return [Reply(action=reset_connection)]
    if how == "html":
        return [Reply(body=b"<!doctype html><html><body>Moved</body></html>")]
    if how == "gzip":  # says gzip, is not
        return [Reply(body=body, headers={"Content-Encoding": "gzip"})]
    return [Reply(body=body)]


# ---- manifests ---------------------------------------------------------------------------

HOSTILE_URLS = [
    "http://[::1",
    "http://[::1]:99999/x.zip",
    "http://127.0.0.1:1/refused.zip",
    "http://127.0.0.1:99999999/x.zip",
    "http://user:pass@127.0.0.1:1/x.zip",
    "http://%zz/x.zip",
    "http:///x.zip",
    "http://127.0.0.1:1/\x00.zip",
    "file:///etc/passwd",
    "file:///dev/zero",
    "file://otherhost/x.zip",
    "/etc/passwd",
    "/dev/null",
    "../../../../etc/passwd",
    "x.zip",
    "ftp://example.invalid/x.zip",
    "javascript:alert(1)",
    "data:application/zip;base64,UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
    "C:\\widgets\\x.zip",
    "http://" + "a" * 300 + ".invalid/x.zip",
    "http://127.0.0.1:1/" + "é" * 500,
    " ",
    "",
]
ODD_IDS = [
    "",
    " ",
    ".hidden",
    "..",
    "../x",
    "a/b",
    "a\\b",
    "a\x00b",
    "é" * 101,  # 202 bytes
    "é" * 200,
    "x" * 201,
    "\ud800",
    "CON",
    "\u202etxt",
    "[bold]markup[/]",
    "with space",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@dataclass
class Entry:
    id: Any
    archive: bytes
    replies: list[Reply]
    url: str | None  # None: the served archive's URL
    screenshot: list[Reply]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    entries: list[Entry]
    shape: str  # object | list | other
    encoding: str
    damage: str
    local: bool  # manifest read from a path (else served over HTTP)
    depth: int  # extra list nesting around one entry value
    duplicate: bool


@st.composite
def entries(draw: st.DrawFn, n: int) -> Entry:
    item_id: Any = draw(
        st.one_of(
            st.just(f"w{n}"),
            st.sampled_from(ODD_IDS),
            st.text(max_size=30),
            json_values,
        )
    )
    safe = f"w{n}"
    archive = draw(archives(item_id if isinstance(item_id, str) else safe))
    url = draw(st.one_of(st.none(), st.none(), st.sampled_from(HOSTILE_URLS), st.text(max_size=60)))
    shot = draw(
        st.sampled_from([[Reply(body=b"\x89PNG\r\n")], [Reply(status=500)], [Reply(body=b"")], []])
    )
    extra = draw(
        st.dictionaries(
            st.sampled_from(["name", "author", "description", "screenshotUrl", "x", "downloadUrl"]),
            json_values,
            max_size=3,
        )
    )
    return Entry(item_id, archive, draw(replies(archive, f"/{n}.zip")), url, shot, extra)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    count = draw(st.integers(0, 4))
    return Case(
        entries=[draw(entries(n)) for n in range(count)],
        shape=draw(st.sampled_from(["object", "object", "list", "other"])),
        encoding=draw(st.sampled_from(["utf-8"] * 5 + ["utf-8-sig", "utf-16", "latin-1"])),
        damage=draw(st.sampled_from(["none"] * 6 + ["cut", "flip", "nul"])),
        local=draw(st.booleans()),
        depth=draw(st.sampled_from([0, 0, 0, 5, 40, 3000])),
        duplicate=draw(st.booleans()),
    )


# ---- running one case --------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    err: str
    traceback: bool
    unexpected: bool  # the error boundary's fallback: a cause nobody handled
    outside: list[str]  # files written outside the workspace
    temp_left: list[str]

    @property
    def bad(self) -> bool:
        return (
            self.traceback
            or self.unexpected
            or bool(self.outside)
            or bool(self.temp_left)
            or self.code not in (0, 1, 2)
        )


def _manifest_bytes(case: Case, server: LocalServer, prefix: str) -> bytes:
    docs: list[Any] = []
    for n, e in enumerate(case.entries):
        route = f"{prefix}/{n}.zip"
        server.route(route, *e.replies)
        server.route(route + ".moved", Reply(body=e.archive))
        doc: dict[str, Any] = {"id": e.id, "downloadUrl": e.url or server.url(route)}
        doc.update({k: v for k, v in e.extra.items() if k != "downloadUrl" or e.url})
        if e.screenshot:
            doc["screenshotUrl"] = server.route(f"{prefix}/{n}.png", *e.screenshot)
        if n == 0 and case.depth:
            doc["description"] = nested(doc.get("description", "x"), case.depth)
        docs.append(doc)
    if case.duplicate and docs:
        docs.append(dict(docs[0]))
    doc_all: Any = {"widgets": docs} if case.shape == "object" else docs
    if case.shape == "other":
        doc_all = {"widgets": {"not": "a list"}} if docs else "just a string"
    try:
        text = json.dumps(doc_all, allow_nan=True)
    except (RecursionError, ValueError):
        text = "[" * case.depth + "]" * case.depth
    data = text.encode(case.encoding, "surrogatepass" if case.encoding == "utf-8" else "replace")
    if case.damage == "cut" and data:
        data = data[: len(data) // 2]
    elif case.damage == "flip" and data:
        data = data[:-1] + b"\xff"
    elif case.damage == "nul":
        data = data.replace(b'"', b'"\x00', 1)
    return data


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def run_cli(args: list[str]) -> tuple[int, str]:
    """The real `graftwork` entry point in-process; its exit code and stderr."""
    from graftwork.cli import main

    err = io.StringIO()
    code: int
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return code, err.getvalue()


def escapes(root: Path) -> list[str]:
    """Escape files found above the workspace or at the absolute targets."""
    spots = [*root.parents, root, Path(ESCAPE_ABS).parent]
    return [str(p / ESCAPE) for p in spots if (p / ESCAPE).exists()]


def run_case(case: Case, server: LocalServer, root: Path, prefix: str) -> Outcome:
    """Ingest ``case`` into a new workspace at ``root/ws``; what went wrong, if anything."""
    root.mkdir(parents=True)
    ws = Workspace.init(root / "ws")
    config = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
    config["project"] = {
        "ingest": {"retries": 1, "backoff_seconds": 0, "timeout_seconds": 0.5, "concurrency": 3}
    }
    ws.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    data = _manifest_bytes(case, server, prefix)
    local = root / "in" / "manifest.json"
    local.parent.mkdir()
    local.write_bytes(data)
    manifest = str(local) if case.local else server.route(f"{prefix}/manifest.json", data)
    before = {p for p in _tree(root) if not p.startswith("ws")}
    cwd = Path.cwd()
    os.chdir(root / "in")  # a relative name that escapes lands next to the manifest
    try:
        code, err = run_cli(["-w", str(ws.root), "ingest", "--manifest", manifest])
    finally:
        os.chdir(cwd)
    after = {p for p in _tree(root) if not p.startswith("ws")}
    temp = ws.downloads_dir / ".ingest-tmp"
    return Outcome(
        code=code,
        err=err,
        traceback="Traceback" in err,
        unexpected="error: unexpected " in err or "--debug" in err,
        outside=sorted(after - before) + escapes(root),
        temp_left=sorted(p.name for p in temp.glob("*")) if temp.exists() else [],
    )
