from __future__ import annotations

from pathlib import Path

from graftwork.core.sources.uebersicht import load_widget_code


def test_code_is_concatenated_in_sorted_path_order_with_path_comments(tmp_path: Path) -> None:
    w = tmp_path / "Clock.widget"
    (w / "lib").mkdir(parents=True)
    (w / "index.jsx").write_text("export const refreshFrequency = 1000;\n", encoding="utf-8")
    (w / "lib" / "format.jsx").write_text(
        "export const pad = (n) => String(n);\n", encoding="utf-8"
    )
    (w / "a.jsx").write_text("// first\n", encoding="utf-8")
    (w / "style.css").write_text("body {}\n", encoding="utf-8")
    code = load_widget_code(w)
    names = [
        line.removeprefix("// File: ") for line in code.splitlines() if line.startswith("// File: ")
    ]
    assert names == ["a.jsx", "index.jsx", "lib/format.jsx"]
    assert "style.css" not in code and "refreshFrequency = 1000" in code


def test_macos_metadata_files_are_never_code(tmp_path: Path) -> None:
    w = tmp_path / "X.widget"
    (w / "__MACOSX").mkdir(parents=True)
    (w / "index.jsx").write_text("export const command = 'date';\n", encoding="utf-8")
    (w / "._index.jsx").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    (w / "__MACOSX" / "index.jsx").write_bytes(b"\x00junk")
    code = load_widget_code(w)
    assert code.count("// File: ") == 1 and "Mac OS X" not in code
