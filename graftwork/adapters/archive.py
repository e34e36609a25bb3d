"""Safe zip extraction (stdlib zipfile). Archives are hostile until proven otherwise.

The whole archive is refused, naming the member, for: absolute paths, drive letters, `..`
components, control characters in names, symlinks and other special files, encrypted
members, too many members, too many bytes in total, and a compression ratio over the limit
(per member and overall). Sizes are counted while extracting: headers can lie.
Corrupt archives (bad headers, CRC errors) are refused too. `__MACOSX/` and `.DS_Store`
(Finder litter) are skipped.
"""

from __future__ import annotations

import errno
import lzma
import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graftwork.core.ingest.ingest import ArchiveError, Extracted

CHUNK = 64 * 1024
# Ratios are only checked past this size: small text files legitimately compress hundreds
# of times (a file of spaces), and a bomb has to be large to hurt.
RATIO_FLOOR_BYTES = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 5000
    max_uncompressed_bytes: int = 200_000_000
    max_compression_ratio: float = 200.0


def is_litter(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1] == ".DS_Store")


def safe_parts(name: str) -> tuple[str, ...]:
    """The relative path parts of a member name, or ArchiveError if the name is unsafe."""
    unified = name.replace("\\", "/")  # zips made on Windows may use backslashes
    if unified.startswith("/"):
        raise ArchiveError(f"member {name!r} has an absolute path")
    if _DRIVE.match(unified):
        raise ArchiveError(f"member {name!r} has a drive letter")
    if any(unicodedata.category(ch) == "Cc" for ch in unified):
        raise ArchiveError(f"member {name!r} has a control character in its name")
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"member {name!r} has a '..' path component")
    return parts


def _check_type(info: zipfile.ZipInfo) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise ArchiveError(f"member {info.filename!r} is a symlink")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"member {info.filename!r} is a special file (mode {oct(kind)})")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"member {info.filename!r} is encrypted")


class ZipExtractor:
    """The ingest Extractor port."""

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits or ArchiveLimits()

    def extract(self, archive: Path, into: Path) -> Extracted:
        try:
            with zipfile.ZipFile(archive) as zf:
                return self._extract(zf, archive.stat().st_size, into)
        except zipfile.BadZipFile as exc:
            raise ArchiveError(f"corrupt zip archive ({exc})") from None
        except UnicodeDecodeError:
            raise ArchiveError(
                "corrupt zip archive (a member name claims UTF-8 but is not)"
            ) from None

    def _extract(self, zf: zipfile.ZipFile, archive_size: int, into: Path) -> Extracted:
        lim = self.limits
        infos = [i for i in zf.infolist() if not is_litter(i.filename.replace("\\", "/"))]
        if len(infos) > lim.max_members:
            raise ArchiveError(
                f"archive has {len(infos)} members, more than the limit of {lim.max_members}"
            )
        plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        declared = 0
        for info in infos:  # refuse before writing anything when the headers already tell
            _check_type(info)
            parts = safe_parts(info.filename)
            declared += info.file_size
            if declared > lim.max_uncompressed_bytes:
                raise ArchiveError(
                    f"archive expands past {lim.max_uncompressed_bytes} bytes (at member {info.filename!r})"
                )
            if parts:
                plan.append((info, parts))

        total = 0
        files = 0
        for info, parts in plan:
            target = into.joinpath(*parts)
            if info.is_dir() or stat.S_ISDIR(info.external_attr >> 16):
                self._mkdir(target, info.filename)
                continue
            self._mkdir(target.parent, info.filename)
            total += self._write_member(zf, info, target, total)
            files += 1
            if total > RATIO_FLOOR_BYTES and total > lim.max_compression_ratio * max(
                archive_size, 1
            ):
                raise ArchiveError(
                    f"archive compression ratio over {lim.max_compression_ratio:g} (zip bomb?) at member {info.filename!r}"
                )
        if files == 0:
            raise ArchiveError("archive holds no files")
        return Extracted(file_count=files, extracted_bytes=total)

    @staticmethod
    def _mkdir(path: Path, member: str) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ArchiveError(f"member {member!r} conflicts with another member") from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise ArchiveError(
                    f"member {member!r} has a name too long for the file system"
                ) from None
            raise

    def _write_member(
        self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, so_far: int
    ) -> int:
        """Stream one member to disk, counting real bytes against the limits."""
        lim = self.limits
        written = 0
        try:
            with zf.open(info) as src, open(target, "xb") as dst:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    written += len(chunk)
                    if so_far + written > lim.max_uncompressed_bytes:
                        raise ArchiveError(
                            f"archive expands past {lim.max_uncompressed_bytes} bytes (at member {info.filename!r})"
                        )
                    if written > RATIO_FLOOR_BYTES and written > lim.max_compression_ratio * max(
                        info.compress_size, 1
                    ):
                        raise ArchiveError(
                            f"member {info.filename!r} has a compression ratio over {lim.max_compression_ratio:g} (zip bomb?)"
                        )
                    dst.write(chunk)
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            raise ArchiveError(
                f"member {info.filename!r} is duplicated or conflicts with another member"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError) as exc:
            raise ArchiveError(f"corrupt member {info.filename!r} ({exc})") from None
        except OSError as exc:
            if exc.errno is None:  # bz2 reports a bad stream as a bare OSError
                raise ArchiveError(f"corrupt member {info.filename!r} ({exc})") from None
            if exc.errno == errno.ENAMETOOLONG:
                raise ArchiveError(
                    f"member {info.filename!r} has a name too long for the file system"
                ) from None
            raise  # the disk, not the archive (ENOSPC, EACCES): ingest reports it per item
        except NotImplementedError as exc:
            raise ArchiveError(
                f"member {info.filename!r} uses an unsupported compression ({exc})"
            ) from None
        return written
