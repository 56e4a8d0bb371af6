"""Language detection and the grammar table."""

from __future__ import annotations

import pytest

from agentls.syntax.languages import detect_language, load_languages, shebang_interpreter
from agentls.syntax.parser import get_language, parse

IDS = {
    "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
    "ruby", "php", "bash", "json", "jsonc", "yaml", "toml", "html", "css", "lua", "markdown",
}  # fmt: skip


def test_the_table_has_every_language() -> None:
    assert set(load_languages()) == IDS


@pytest.mark.parametrize("language", sorted(IDS))
def test_every_grammar_loads_and_parses(language: str) -> None:
    spec = load_languages()[language]
    assert spec.id == language
    assert get_language(language) is not None, spec.grammar
    tree = parse("", language)
    assert tree is not None


@pytest.mark.parametrize(
    ("language_id", "expected"),
    [
        ("python", "python"),
        ("javascriptreact", "javascript"),
        ("typescriptreact", "tsx"),
        ("typescript", "typescript"),
        ("shellscript", "bash"),
        ("sh", "bash"),
        ("csharp", "csharp"),
        ("cs", "csharp"),
        ("jsonc", "jsonc"),
        ("CPP", "cpp"),
        ("tsx", "tsx"),  # an id is always accepted as a languageId
    ],
)
def test_detects_by_language_id(language_id: str, expected: str) -> None:
    assert detect_language(language_id=language_id) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/src/app/main.py", "python"),
        ("stubs/os.pyi", "python"),
        ("web/App.TSX", "tsx"),
        ("lib/index.d.ts", "typescript"),
        ("lib/server.mjs", "javascript"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("include/ring.h", "cpp"),
        ("src/ring.c", "c"),
        ("Program.cs", "csharp"),
        ("tasks/deploy.rake", "ruby"),
        ("index.php", "php"),
        ("scripts/build.sh", "bash"),
        ("package.json", "json"),
        ("/repo/tsconfig.json", "jsonc"),
        (".vscode/settings.json", "jsonc"),
        (".github/workflows/ci.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("docs/index.html", "html"),
        ("theme.css", "css"),
        ("init.lua", "lua"),
        ("README.md", "markdown"),
        ("C:\\work\\tool\\setup.py", "python"),
    ],
)
def test_detects_by_extension(path: str, expected: str) -> None:
    assert detect_language(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/repo/Gemfile", "ruby"),
        ("Rakefile", "ruby"),
        ("/home/me/.bashrc", "bash"),
        ("Cargo.lock", "toml"),
        ("/pkg/PKGBUILD", "bash"),
        ("SConstruct", "python"),
    ],
)
def test_detects_by_filename(path: str, expected: str) -> None:
    assert detect_language(path) == expected


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("#!/usr/bin/env python3", "python"),
        ("#!/usr/bin/python3.12 -u", "python"),
        ("#!/bin/bash", "bash"),
        ("#!/bin/sh -e", "bash"),
        ("#!/usr/bin/env -S node --experimental-vm-modules", "javascript"),
        ("#!/usr/bin/env -S PYTHONPATH=src python3 -X dev", "python"),
        ("#!/usr/bin/env -Sruby -w", "ruby"),
        ("#!/usr/bin/env -i -u HOME lua5.4", "lua"),
        ("#! /usr/bin/env php", "php"),
        ("#!/usr/bin/perl", None),
        ("#!", None),
    ],
)
def test_detects_by_shebang(first_line: str, expected: str | None) -> None:
    assert detect_language("bin/tool", text=f"{first_line}\nrest of the script\n") == expected


def test_shebang_interpreter_sees_through_env() -> None:
    assert shebang_interpreter("#!/usr/bin/env -S deno run --allow-read") == "deno"
    assert shebang_interpreter("#!/usr/bin/env --split-string=python3 -u") == "python3"
    assert shebang_interpreter("not a shebang") is None


def test_unknown_is_none() -> None:
    assert detect_language("notes.unknownext") is None
    assert detect_language("Makefile") is None
    assert detect_language(language_id="plaintext") is None
    assert detect_language() is None
    assert detect_language("data", text="just text\n") is None


def test_language_id_comes_first_then_filename_then_extension_then_shebang() -> None:
    # languageId wins over the extension when it names a known language...
    assert detect_language("component.js", language_id="typescriptreact") == "tsx"
    # ...and is ignored when it does not.
    assert detect_language("component.js", language_id="plaintext") == "javascript"
    # The extension wins over the shebang.
    assert detect_language("tool.py", text="#!/bin/bash\n") == "python"
    # The exact filename wins over the extension (".profile" is a name, not an extension).
    assert detect_language("/home/me/.profile") == "bash"
    # The shebang is the last resort.
    assert detect_language("bin/tool", language_id="plaintext", text="#!/usr/bin/env ruby\n") == "ruby"


def test_unknown_language_has_no_grammar() -> None:
    assert get_language("cobol") is None
    assert parse("IDENTIFICATION DIVISION.", "cobol") is None


def test_publishing_is_data() -> None:
    specs = load_languages()
    assert specs["python"].publish_diagnostics
    # Every text is valid Markdown: the grammar could only raise false alarms.
    assert not specs["markdown"].publish_diagnostics
