"""Safe extraction: hostile archives are refused whole, naming the member and the cause."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from support.zips import bomb_zip, make_zip, raw_name_zip, symlink_zip, widget_zip

from graftwork.adapters.archive import ArchiveLimits, ZipExtractor
from graftwork.core.ingest.ingest import ArchiveError


def extract(data: bytes, tmp_path: Path, **limits: float) -> tuple[Path, object]:
    archive = tmp_path / "a.zip"
    archive.write_bytes(data)
    into = tmp_path / "out"
    into.mkdir()
    return into, ZipExtractor(ArchiveLimits(**limits)).extract(archive, into)  # type: ignore[arg-type]


def refused(data: bytes, tmp_path: Path, **limits: float) -> str:
    with pytest.raises(ArchiveError) as err:
        extract(data, tmp_path, **limits)
    return err.value.cause


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_widget_extracts_and_skips_finder_litter(tmp_path: Path) -> None:
    into, stats = extract(widget_zip("clock"), tmp_path)
    assert files_under(into) == ["clock.widget/README.md", "clock.widget/index.jsx"]
    assert stats.file_count == 2
    assert stats.extracted_bytes == sum(p.stat().st_size for p in into.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("/etc/evil.jsx", "has an absolute path"),
        ("\\windows\\evil.jsx", "has an absolute path"),
        ("C:/evil.jsx", "has a drive letter"),
        ("../evil.jsx", "has a '..' path component"),
        ("w.widget/../../evil.jsx", "has a '..' path component"),
        ("w.widget\\..\\..\\evil.jsx", "has a '..' path component"),
        ("w.widget/bad\x07name.jsx", "control character"),
    ],
)
def test_unsafe_member_names_refuse_the_whole_archive(
    tmp_path: Path, name: str, cause: str
) -> None:
    data = make_zip({"w.widget/index.jsx": "ok", name: "evil"})
    message = refused(data, tmp_path)
    assert cause in message and repr(name) in message
    assert files_under(tmp_path / "out") == []  # checked before anything was written
    assert not (tmp_path / "evil.jsx").exists()


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    assert refused(symlink_zip(), tmp_path) == "member 'evil.widget/link' is a symlink"


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    data = bomb_zip(50)
    assert len(data) < 200_000
    message = refused(data, tmp_path, max_compression_ratio=100)
    assert "compression ratio over 100" in message and "bomb.widget/zeros.bin" in message
    # It stopped early: far less than 50 MB reached the disk.
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()) < 10_000_000


def test_zip_bomb_is_refused_by_total_size(tmp_path: Path) -> None:
    message = refused(
        bomb_zip(50), tmp_path, max_uncompressed_bytes=10_000_000, max_compression_ratio=10_000
    )
    assert "expands past 10000000 bytes" in message


def test_lying_size_header_is_caught_while_extracting(tmp_path: Path) -> None:
    # The header claims 10 bytes; the real data is 3 MB of zeros. zipfile stops at the
    # declared size and the CRC check then fails: the archive is refused as corrupt.
    data = bytearray(make_zip({"w.widget/zeros.bin": b"\x00" * 3_000_000}))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.infolist()[0]
    real = info.file_size.to_bytes(4, "little")
    patched = bytes(data).replace(real, (10).to_bytes(4, "little"))
    assert patched != bytes(data)
    message = refused(patched, tmp_path)
    assert "w.widget/zeros.bin" in message


def test_too_many_members(tmp_path: Path) -> None:
    data = make_zip({f"w.widget/f{i}.txt": "x" for i in range(20)})
    assert (
        refused(data, tmp_path, max_members=10)
        == "archive has 20 members, more than the limit of 10"
    )


def test_not_a_zip_is_corrupt(tmp_path: Path) -> None:
    assert refused(b"PK\x03\x04 but then garbage" * 10, tmp_path).startswith("corrupt zip archive")


def test_crc_error_is_corrupt_member(tmp_path: Path) -> None:
    content = b"hello widget " * 50
    data = make_zip({"w.widget/index.jsx": content}, compression=zipfile.ZIP_STORED)
    damaged = data.replace(content[:13], b"HELLO WIDGET ", 1)
    message = refused(damaged, tmp_path)
    assert message.startswith("corrupt member 'w.widget/index.jsx'") and "CRC" in message


def test_truncated_archive_is_corrupt(tmp_path: Path) -> None:
    data = widget_zip("clock")
    assert refused(data[: len(data) // 2], tmp_path).startswith("corrupt zip archive")


def test_duplicate_member_names_are_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("w.widget/index.jsx", "one")
        zf.writestr("w.widget/index.jsx", "two")
    assert "duplicated" in refused(buf.getvalue(), tmp_path)


def test_non_utf8_name_and_content_extract(tmp_path: Path) -> None:
    # Latin-1 "café.jsx" without the UTF-8 flag: zipfile reads it as cp437; it must not crash.
    data = raw_name_zip("w.widget/cafX.jsx", b"w.widget/caf\xe9.jsx", content=b"caf\xe9 \xff\xfe")
    into, stats = extract(data, tmp_path)
    [name] = files_under(into)
    assert name.startswith("w.widget/caf") and name.endswith(".jsx")
    assert (into / name).read_bytes() == b"caf\xe9 \xff\xfe"
    assert stats.file_count == 1


def test_empty_archive_is_refused(tmp_path: Path) -> None:
    assert refused(make_zip({"__MACOSX/._x": "litter"}), tmp_path) == "archive holds no files"


def test_directory_entries_are_created(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("w.widget/", "")
        zf.writestr("w.widget/lib/", "")
        zf.writestr("w.widget/lib/util.js", "x")
    into, stats = extract(buf.getvalue(), tmp_path)
    assert (into / "w.widget" / "lib").is_dir() and stats.file_count == 1
