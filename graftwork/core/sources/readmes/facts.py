"""Facts about a repository inferred from its files: primary language, project type,
licence (SPDX id) and key files. Every rule is here, in order, and in
docs/recipes/readmes.md.

Language: GitHub's own answer when collected over the API; otherwise the language with the
most source files by extension (documentation, data and config files do not count); a tie
goes to the language whose manifest is present, then alphabetically.

Project type, the first rule that matches:
  mobile_app        AndroidManifest.xml, an .xcodeproj, pubspec.yaml or a Podfile
  browser_extension a manifest.json with "manifest_version"
  game              project.godot, or Unity's Assets/ with ProjectSettings/
  web_application   a web framework among the dependencies (flask, django, fastapi, express,
                    next, react, vue, svelte, rails, ...) or manage.py
  cli               declared commands ([project.scripts], console_scripts, "bin" in
                    package.json, a [[bin]] or src/main.rs in Cargo, main.go / cmd/)
  library           a package manifest without commands (pyproject.toml, setup.py,
                    package.json, Cargo.toml with src/lib.rs, go.mod, *.gemspec, pom.xml, ...)
  data_science      notebooks (.ipynb) make up a fifth or more of the files
  infrastructure    Terraform (.tf), Helm charts, Ansible playbooks, docker-compose only
  documentation     Markdown/reStructuredText make up most of the files
  other             none of the above

Licence: GitHub's SPDX id over the API; else the `license` of package metadata
(pyproject.toml, package.json, Cargo.toml); else the LICENSE/LICENCE/COPYING file's text
matched against the distinctive sentences of common licences; "" when unknown.

Key files: manifests first (pyproject.toml, package.json, Cargo.toml, go.mod, ...), then entry
points (main.py, src/main.rs, cmd/<name>/main.go, index.js, ...), shallower paths first, at
most `key_files_max`, their text cut at whole lines to share `key_files_tokens`.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections import Counter as Tally
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from graftwork.core.budget.tokens import fit_lines
from graftwork.core.sources.readmes.model import KeyFile

Counter = Callable[[str], int]

LANGUAGES: dict[str, str] = {
    ".py": "Python", ".pyi": "Python", ".ipynb": "Jupyter Notebook",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".rs": "Rust", ".go": "Go", ".rb": "Ruby",
    ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".swift": "Swift",
    ".m": "Objective-C", ".mm": "Objective-C", ".c": "C", ".h": "C", ".cc": "C++",
    ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++", ".cs": "C#", ".fs": "F#",
    ".php": "PHP", ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell", ".ps1": "PowerShell",
    ".lua": "Lua", ".pl": "Perl", ".r": "R", ".jl": "Julia", ".dart": "Dart",
    ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure",
    ".elm": "Elm", ".vue": "Vue", ".svelte": "Svelte", ".zig": "Zig", ".nim": "Nim",
    ".ml": "OCaml", ".v": "V", ".sol": "Solidity", ".tf": "HCL", ".coffee": "CoffeeScript",
    ".css": "CSS", ".scss": "SCSS", ".html": "HTML", ".vim": "Vim Script",
}  # fmt: skip

# Which language a manifest speaks for (tie-break) and which manifests are key files.
MANIFESTS: dict[str, str] = {
    "pyproject.toml": "Python", "setup.py": "Python", "setup.cfg": "Python",
    "requirements.txt": "Python", "Pipfile": "Python", "package.json": "JavaScript",
    "tsconfig.json": "TypeScript", "Cargo.toml": "Rust", "go.mod": "Go", "Gemfile": "Ruby",
    "pom.xml": "Java", "build.gradle": "Java", "build.gradle.kts": "Kotlin",
    "Package.swift": "Swift", "composer.json": "PHP", "mix.exs": "Elixir",
    "pubspec.yaml": "Dart", "CMakeLists.txt": "C++", "stack.yaml": "Haskell",
    "DESCRIPTION": "R", "Project.toml": "Julia", "deno.json": "TypeScript",
    "Makefile": "", "Dockerfile": "", "docker-compose.yml": "", "compose.yaml": "",
}  # fmt: skip

ENTRY_POINTS = (
    "main.py", "app.py", "__main__.py", "cli.py", "manage.py", "src/main.rs", "src/lib.rs",
    "main.go", "index.js", "index.ts", "src/index.js", "src/index.ts", "src/main.ts",
    "src/main.js", "server.js", "app.js", "src/App.tsx", "src/App.jsx", "lib/main.dart",
    "Main.java", "main.c", "main.cpp", "src/main.c", "src/main.cpp", "index.php",
)  # fmt: skip

WEB_DEPS = (
    "flask", "django", "fastapi", "starlette", "aiohttp", "tornado", "sanic", "streamlit",
    "gradio", "express", "next", "react", "react-dom", "vue", "svelte", "@angular/core",
    "nuxt", "koa", "fastify", "@nestjs/core", "gatsby", "astro", "rails", "sinatra",
    "actix-web", "axum", "rocket", "warp", "gin-gonic/gin", "labstack/echo", "gofiber/fiber",
    "laravel/framework", "symfony/framework-bundle", "phoenix",
)  # fmt: skip

NOT_CODE = {".md", ".rst", ".txt", ".json", ".yml", ".yaml", ".toml", ".lock", ".cfg", ".ini"}

LICENSE_FILES = re.compile(r"^(license|licence|copying|unlicense)([.-].*)?$", re.IGNORECASE)

# (SPDX id, every one of these phrases, none of these) in order: specific before general.
LICENSE_TEXTS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("AGPL-3.0", ("gnu affero general public license", "version 3"), ()),
    ("LGPL-3.0", ("gnu lesser general public license", "version 3"), ()),
    ("LGPL-2.1", ("gnu lesser general public license", "version 2.1"), ()),
    ("GPL-3.0", ("gnu general public license", "version 3"), ()),
    ("GPL-2.0", ("gnu general public license", "version 2"), ()),
    ("Apache-2.0", ("apache license", "version 2.0"), ()),
    ("MPL-2.0", ("mozilla public license", "2.0"), ()),
    ("EPL-2.0", ("eclipse public license", "2.0"), ()),
    ("BSL-1.0", ("boost software license",), ()),
    ("Unlicense", ("this is free and unencumbered software",), ()),
    ("CC0-1.0", ("cc0 1.0 universal",), ()),
    ("0BSD", ("permission to use, copy, modify, and/or distribute", "without fee"),
     ("copyright notice and this permission notice appear",)),
    ("ISC", ("permission to use, copy, modify, and/or distribute",), ()),
    ("MIT", ("permission is hereby granted, free of charge",), ()),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "neither the name"), ()),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",), ()),
    ("Zlib", ("this software is provided 'as-is'", "altered source versions"), ()),
    ("WTFPL", ("do what the fuck you want to public license",), ()),
]  # fmt: skip

_SPDX_LIKE = re.compile(r"^[A-Za-z0-9.+\-]+( (AND|OR|WITH) [A-Za-z0-9.+\-]+)*$")


def _ext(path: str) -> str:
    return PurePosixPath(path).suffix.lower()


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def primary_language(files: list[str]) -> str:
    tally = Tally(LANGUAGES[e] for f in files if (e := _ext(f)) in LANGUAGES and e not in NOT_CODE)
    if not tally:
        return ""
    best = max(tally.values())
    tied = sorted(lang for lang, n in tally.items() if n == best)
    if len(tied) > 1:
        spoken = {MANIFESTS[_base(f)] for f in files if "/" not in f and _base(f) in MANIFESTS}
        for lang in tied:
            if lang in spoken:
                return lang
    return tied[0]


def _toml(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return {}


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _deps_text(texts: dict[str, str]) -> str:
    """Dependency declarations of every manifest, lower-cased, for word lookups."""
    return "\n".join(texts.get(name, "") for name in MANIFESTS).lower()


def _has_dep(deps: str, names: tuple[str, ...]) -> bool:
    return _dep_pattern(names).search(deps) is not None


@functools.cache
def _dep_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    # one compiled alternation per name list (was a pattern per name and repository)
    words = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?<![\w@/-])(?:{words})(?![\w-])")


def project_type(files: list[str], texts: dict[str, str]) -> str:
    """``texts``: root manifest name -> text (those that exist and were read)."""
    names = {_base(f) for f in files}
    root = {f for f in files if "/" not in f}
    pyproject = _toml(texts.get("pyproject.toml"))
    package = _json(texts.get("package.json"))
    cargo = _toml(texts.get("Cargo.toml"))
    manifest = _json(texts.get("manifest.json"))
    if (
        "AndroidManifest.xml" in names
        or any(".xcodeproj/" in f for f in files)
        or "pubspec.yaml" in root
        or "Podfile" in root
    ):
        return "mobile_app"
    if "manifest_version" in manifest:
        return "browser_extension"
    if "project.godot" in root or (
        any(f.startswith("Assets/") for f in files)
        and any(f.startswith("ProjectSettings/") for f in files)
    ):
        return "game"
    if _has_dep(_deps_text(texts), WEB_DEPS) or "manage.py" in root:
        return "web_application"
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
    if (
        project.get("scripts")
        or "console_scripts" in texts.get("setup.py", "") + texts.get("setup.cfg", "")
        or package.get("bin")
        or cargo.get("bin")
        or ("Cargo.toml" in root and "src/main.rs" in files)
        or ("go.mod" in root and ("main.go" in root or any(f.startswith("cmd/") for f in files)))
    ):
        return "cli"
    if (
        root & {"pyproject.toml", "setup.py", "setup.cfg", "package.json", "go.mod", "pom.xml",
                "build.gradle", "composer.json", "Package.swift", "mix.exs", "DESCRIPTION"}
        or "src/lib.rs" in files
        or any(f.endswith(".gemspec") for f in root)
    ):  # fmt: skip
        return "library"
    if files and sum(f.endswith(".ipynb") for f in files) * 5 >= len(files):
        return "data_science"
    if any(f.endswith(".tf") for f in files) or "Chart.yaml" in names or "playbook.yml" in names:
        return "infrastructure"
    docs = sum(_ext(f) in (".md", ".rst", ".mdx") for f in files)
    if files and docs * 2 > len(files):
        return "documentation"
    return "other"


def metadata_license(texts: dict[str, str]) -> str:
    """The licence declared in package metadata, when it looks like an SPDX id/expression."""
    candidates: list[Any] = []
    project = _toml(texts.get("pyproject.toml")).get("project")
    if isinstance(project, dict):
        lic = project.get("license")
        candidates.append(lic.get("text") if isinstance(lic, dict) else lic)
    candidates.append(_json(texts.get("package.json")).get("license"))
    package = _toml(texts.get("Cargo.toml")).get("package")
    if isinstance(package, dict):
        candidates.append(package.get("license"))
    for value in candidates:
        if isinstance(value, str) and _SPDX_LIKE.match(value.strip()):
            return value.strip()
    return ""


def license_from_text(text: str) -> str:
    flat = " ".join(text.lower().replace("“", '"').replace("”", '"').split())
    for spdx, needed, excluded in LICENSE_TEXTS:
        if all(p in flat for p in needed) and not any(p in flat for p in excluded):
            return spdx
    return ""


def license_files(files: list[str]) -> list[str]:
    return sorted(f for f in files if "/" not in f and LICENSE_FILES.match(f))


def key_file_paths(files: list[str], limit: int) -> list[str]:
    """Manifests (root first), then entry points, shallow before deep, at most ``limit``."""
    present = set(files)
    manifests = [f for f in files if _base(f) in MANIFESTS and f.count("/") <= 1]
    manifests.sort(key=lambda f: (f.count("/"), list(MANIFESTS).index(_base(f)), f))
    entries = [e for e in ENTRY_POINTS if e in present]
    entries += sorted(
        f for f in files if re.fullmatch(r"cmd/[^/]+/main\.go|src/[^/]+/(__main__|cli)\.py", f)
    )
    if not entries:  # a package's own entry: src/<pkg>/__init__.py or <pkg>/__init__.py
        entries = sorted(f for f in files if re.fullmatch(r"(src/)?[^/]+/__init__\.py", f))[:1]
    out: list[str] = []
    for path in manifests + entries:
        if path not in out:
            out.append(path)
    return out[:limit]


def key_files(
    paths: list[str], read: Callable[[str], str | None], budget: int, count: Counter
) -> list[KeyFile]:
    """Texts of ``paths`` sharing ``budget`` tokens; a file that does not fit whole is cut at
    a line; unreadable (binary) files are skipped."""
    out: list[KeyFile] = []
    left = budget
    for path in paths:
        if left <= 0:
            break
        text = read(path)
        if text is None or not text.strip():
            continue
        kept, tokens, truncated = fit_lines(text, left, count)
        if not kept.strip():
            continue
        out.append(KeyFile(path, kept, tokens, truncated))
        left -= tokens
    return out


def texts_wanted(files: list[str], limit: int, *, need_license: bool) -> list[str]:
    """Every path `describe` reads: root manifests, key files and (when asked) licence files."""
    root = [f for f in files if "/" not in f and (f in MANIFESTS or f == "manifest.json")]
    wanted = root + key_file_paths(files, limit) + (license_files(files) if need_license else [])
    return list(dict.fromkeys(wanted))


def describe(
    files: list[str],
    read: Callable[[str], str | None],
    *,
    key_limit: int,
    key_budget: int,
    count: Counter,
    language: str = "",
    license: str = "",
) -> dict[str, Any]:
    """Snapshot fields: language, project_type, license, key_files. ``language`` and
    ``license`` are what the host already knows (GitHub's answers) and win over inference."""
    root_texts = {
        f: text
        for f in files
        if "/" not in f and (f in MANIFESTS or f == "manifest.json") and (text := read(f))
    }
    if not license:
        license = metadata_license(root_texts)
    if not license:
        for path in license_files(files):
            if (text := read(path)) and (license := license_from_text(text)):
                break
    return {
        "language": language or primary_language(files),
        "project_type": project_type(files, root_texts),
        "license": license,
        "key_files": key_files(key_file_paths(files, key_limit), read, key_budget, count),
    }
