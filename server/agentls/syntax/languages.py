"""Which language a document is in: its LSP languageId, its file name, its extension, or its shebang.

The table itself is data, in ``agentls/grammars/languages.toml``; this module only reads and indexes it.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_TABLE = "languages.toml"


@dataclass(frozen=True)
class LanguageSpec:
    """One language: how to recognise its files and which grammar parses it."""

    id: str
    extensions: tuple[str, ...]
    filenames: tuple[str, ...]
    shebangs: tuple[str, ...]
    lsp_ids: tuple[str, ...]
    grammar: str  # "module:function", e.g. "tree_sitter_python:language"
    publish_diagnostics: bool


@dataclass(frozen=True)
class _Index:
    by_lsp_id: Mapping[str, str]
    by_filename: Mapping[str, str]
    by_extension: Mapping[str, str]  # lower-case, with the dot
    by_shebang: Mapping[str, str]


def _strings(table: Mapping[str, object], key: str, language: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{_TABLE}: [{language}].{key} must be a list of strings")
    return tuple(value)


@functools.cache
def load_languages() -> Mapping[str, LanguageSpec]:
    """Every known language by id, read once from the packaged ``languages.toml``."""
    raw = importlib.resources.files("agentls").joinpath("grammars", _TABLE).read_text(encoding="utf-8")
    specs: dict[str, LanguageSpec] = {}
    for language, table in tomllib.loads(raw).items():
        grammar = table.get("grammar")
        if not isinstance(grammar, str) or ":" not in grammar:
            raise ValueError(f"{_TABLE}: [{language}].grammar must be 'module:function'")
        specs[language] = LanguageSpec(
            id=language,
            extensions=_strings(table, "extensions", language),
            filenames=_strings(table, "filenames", language),
            shebangs=_strings(table, "shebangs", language),
            lsp_ids=_strings(table, "lsp_ids", language),
            grammar=grammar,
            publish_diagnostics=bool(table.get("publish_diagnostics", True)),
        )
    return MappingProxyType(specs)


@functools.cache
def _index() -> _Index:
    by_lsp_id: dict[str, str] = {}
    by_filename: dict[str, str] = {}
    by_extension: dict[str, str] = {}
    by_shebang: dict[str, str] = {}
    for spec in load_languages().values():
        # Its own id always works as a languageId ("csharp", "tsx", ...); explicit lsp_ids come first.
        for lsp_id in (*spec.lsp_ids, spec.id):
            by_lsp_id.setdefault(lsp_id.lower(), spec.id)
        for name in spec.filenames:
            by_filename.setdefault(name, spec.id)
        for ext in spec.extensions:
            by_extension.setdefault(ext.lower(), spec.id)
        for interpreter in spec.shebangs:
            by_shebang.setdefault(interpreter, spec.id)
    return _Index(
        MappingProxyType(by_lsp_id),
        MappingProxyType(by_filename),
        MappingProxyType(by_extension),
        MappingProxyType(by_shebang),
    )


def _basename(path: str) -> str:
    return re.split(r"[/\\]", path)[-1]


def _by_extension(name: str, index: _Index) -> str | None:
    """The longest known extension that ends the name: "x.d.ts" tries ".d.ts", then ".ts"."""
    lowered = name.lower()
    start = lowered.find(".", 1)  # a leading dot names a hidden file, not an extension
    while start != -1:
        found = index.by_extension.get(lowered[start:])
        if found:
            return found
        start = lowered.find(".", start + 1)
    return None


_VERSION_SUFFIX = re.compile(r"[\d.]+$")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shebang_interpreter(first_line: str) -> str | None:
    """The interpreter a ``#!`` line runs, seen through ``env`` and its options (``env -S python3 -u``)."""
    if not first_line.startswith("#!"):
        return None
    try:
        words = shlex.split(first_line[2:])
    except ValueError:
        words = first_line[2:].split()
    if not words:
        return None
    program = _basename(words[0])
    if program != "env":
        return program
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if word in ("-S", "--split-string"):
            continue
        if word.startswith("-S"):  # the interpreter glued to the option: "-Spython3 -u"
            rest = word[2:].split() + rest
            continue
        if word.startswith("--split-string="):
            rest = word.split("=", 1)[1].split() + rest
            continue
        if word in ("-u", "--unset", "-C", "--chdir"):
            if rest:
                rest.pop(0)
            continue
        if word.startswith("-") or _ENV_ASSIGNMENT.match(word):
            continue
        return _basename(word)
    return None


def _by_shebang(text: str, index: _Index) -> str | None:
    first_line = text[:1024].split("\n", 1)[0]
    interpreter = shebang_interpreter(first_line.rstrip("\r"))
    if not interpreter:
        return None
    return index.by_shebang.get(interpreter) or index.by_shebang.get(_VERSION_SUFFIX.sub("", interpreter))


def detect_language(
    path: str | None = None, language_id: str | None = None, text: str | None = None
) -> str | None:
    """The language id of a document, or None when no known language fits.

    Priority: the LSP languageId (when it maps to a known language), then the exact file name, then the
    extension, then the shebang in the first line of ``text``. ``path`` may be a file path or a URI path.
    """
    index = _index()
    if language_id:
        found = index.by_lsp_id.get(language_id.lower())
        if found:
            return found
    if path:
        name = _basename(path)
        found = index.by_filename.get(name) or _by_extension(name, index)
        if found:
            return found
    if text and text.startswith("#!"):
        return _by_shebang(text, index)
    return None
