"""The documented rules for language, project type, licence and key files."""

from __future__ import annotations

import json

import pytest

from graftwork.core.sources.readmes.facts import (
    key_file_paths,
    license_from_text,
    metadata_license,
    primary_language,
    project_type,
)
from graftwork.core.sources.readmes.tree import pick_readme


def test_language_counts_source_files_and_breaks_ties_by_manifest() -> None:
    assert primary_language(["a.py", "b.py", "c.js", "README.md", "x.json"]) == "Python"
    assert primary_language(["a.ts", "b.go", "go.mod"]) == "Go"
    assert primary_language(["README.md", "notes.txt"]) == ""


@pytest.mark.parametrize(
    ("files", "texts", "kind"),
    [
        (["app/src/main/AndroidManifest.xml", "build.gradle"], {}, "mobile_app"),
        (
            ["manifest.json", "popup.js"],
            {"manifest.json": '{"manifest_version": 3}'},
            "browser_extension",
        ),
        (["project.godot", "main.gd"], {}, "game"),
        (
            ["pyproject.toml", "app.py"],
            {"pyproject.toml": '[project]\ndependencies = ["fastapi>=0.1"]'},
            "web_application",
        ),
        (
            ["package.json", "src/App.jsx"],
            {"package.json": json.dumps({"dependencies": {"react": "18"}})},
            "web_application",
        ),
        (["manage.py", "site/settings.py"], {}, "web_application"),
        (["package.json", "cli.js"], {"package.json": json.dumps({"bin": {"x": "cli.js"}})}, "cli"),
        (["Cargo.toml", "src/main.rs"], {"Cargo.toml": '[package]\nname = "x"'}, "cli"),
        (["go.mod", "cmd/x/main.go"], {}, "cli"),
        (["Cargo.toml", "src/lib.rs"], {"Cargo.toml": '[package]\nname = "x"'}, "library"),
        (
            ["pyproject.toml", "src/x/__init__.py"],
            {"pyproject.toml": '[project]\nname = "x"'},
            "library",
        ),
        (["a.ipynb", "b.ipynb", "data.csv"], {}, "data_science"),
        (["main.tf", "variables.tf"], {}, "infrastructure"),
        (["README.md", "guide.md", "faq.md", "logo.png"], {}, "documentation"),
        (["a.c", "Makefile"], {}, "other"),
    ],
)
def test_project_type_rules(files: list[str], texts: dict[str, str], kind: str) -> None:
    assert project_type(files, texts) == kind


def test_a_dependency_name_inside_another_word_does_not_count() -> None:
    texts = {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask-like-thing2"]'}
    assert project_type(["pyproject.toml"], texts) == "library"
    texts = {"pyproject.toml": '[project]\nname = "reactive"\ndependencies = ["nextgen"]'}
    assert project_type(["pyproject.toml"], texts) == "library"


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        ("MIT License\n\nPermission is hereby granted, free of charge, to any person", "MIT"),
        ("Apache License\nVersion 2.0, January 2004", "Apache-2.0"),
        ("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007", "GPL-3.0"),
        ("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999", "LGPL-2.1"),
        (
            "Redistribution and use in source and binary forms ... Neither the name of",
            "BSD-3-Clause",
        ),
        ("Redistribution and use in source and binary forms, with or without", "BSD-2-Clause"),
        ("This is free and unencumbered software released into the public domain.", "Unlicense"),
        (
            "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear",
            "ISC",
        ),
        ("All rights reserved. Do not copy.", ""),
    ],
)
def test_licence_from_text(text: str, spdx: str) -> None:
    assert license_from_text(text) == spdx


def test_licence_from_package_metadata() -> None:
    assert metadata_license({"package.json": '{"license": "Apache-2.0"}'}) == "Apache-2.0"
    assert metadata_license({"Cargo.toml": '[package]\nlicense = "MIT OR Apache-2.0"'}) == (
        "MIT OR Apache-2.0"
    )
    assert (
        metadata_license({"pyproject.toml": '[project]\nlicense = {text = "see LICENSE file"}'})
        == ""
    )


def test_key_files_manifests_then_entry_points() -> None:
    files = ["README.md", "src/main.rs", "Cargo.toml", "Makefile", "web/package.json", "docs/x.md"]
    assert key_file_paths(files, 6) == ["Cargo.toml", "Makefile", "web/package.json", "src/main.rs"]
    assert key_file_paths(files, 2) == ["Cargo.toml", "Makefile"]


def test_readme_choice_prefers_markdown_at_the_root() -> None:
    assert pick_readme(["readme.txt", "README.md", "docs/README.md"]) == "README.md"
    assert pick_readme(["README", "Readme.rst"]) == "Readme.rst"
    assert pick_readme(["docs/README.md", "READMEs.md"]) is None
