"""Build zip archives in memory for tests, including hostile ones."""

from __future__ import annotations

import io
import stat
import zipfile


def make_zip(files: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``files`` (name -> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def widget_zip(item_id: str, body: str = "export const command = 'date'\n") -> bytes:
    """A small widget archive: <id>.widget/index.jsx plus Finder litter to be skipped."""
    return make_zip(
        {
            f"{item_id}.widget/index.jsx": f"// {item_id}\n{body}",
            f"{item_id}.widget/README.md": f"# {item_id}\n",
            "__MACOSX/._index.jsx": b"\x00\x05\x16\x07",
            f"{item_id}.widget/.DS_Store": b"\x00\x00\x00\x01Bud1",
        }
    )


def symlink_zip(name: str = "evil.widget/link", target: str = "/etc/passwd") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("evil.widget/index.jsx", "x")
        info = zipfile.ZipInfo(name)
        info.create_system = 3  # Unix, so external_attr carries the file type
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return buf.getvalue()


def raw_name_zip(placeholder: str, raw: bytes, content: bytes = b"x") -> bytes:
    """A zip whose member name is the raw bytes ``raw`` (e.g. Latin-1), with no UTF-8 flag."""
    assert len(placeholder.encode()) == len(raw)
    data = make_zip({placeholder: content})
    return data.replace(placeholder.encode(), raw)


def bomb_zip(megabytes: int = 50) -> bytes:
    """``megabytes`` MB of zeros in one member: tiny on disk, huge when extracted."""
    buf = io.BytesIO()
    chunk = b"\x00" * (1 << 20)
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("bomb.widget/zeros.bin", "w") as fh,
    ):
        for _ in range(megabytes):
            fh.write(chunk)
    return buf.getvalue()
