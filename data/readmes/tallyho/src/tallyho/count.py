from pathlib import Path

MARKERS = ("TODO", "FIXME")


def count_file(path: Path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace")
    return {
        "path": str(path),
        "lines": text.count("\n"),
        "words": len(text.split()),
        "todo": sum(text.count(m) for m in MARKERS),
    }
