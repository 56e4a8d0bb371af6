"""Grammars, loaded lazily from the per-language wheels named in ``languages.toml``, and one-shot parsing."""

from __future__ import annotations

import functools
import importlib
import logging
import threading

import tree_sitter

from agentls.syntax.languages import load_languages

log = logging.getLogger(__name__)

# Text is handed to tree-sitter as UTF-8. "surrogatepass" keeps lone surrogates (which an LSP client can
# send) one code point each, so byte <-> code point conversion stays exact.
ENCODING = "utf-8"
ENCODING_ERRORS = "surrogatepass"


@functools.cache
def get_language(language: str) -> tree_sitter.Language | None:
    """The tree-sitter Language for a language id; None (logged at debug) if unknown or it cannot load."""
    spec = load_languages().get(language)
    if spec is None:
        log.debug("no grammar for unknown language %r", language)
        return None
    module_name, _, function_name = spec.grammar.partition(":")
    try:
        module = importlib.import_module(module_name)
        return tree_sitter.Language(getattr(module, function_name)())
    except (ImportError, AttributeError, TypeError, ValueError, OSError):  # ValueError: an ABI it refuses
        log.debug("cannot load grammar %s for %s", spec.grammar, language, exc_info=True)
        return None


_local = threading.local()


def get_parser(language: str) -> tree_sitter.Parser | None:
    """A parser for the language, one per thread (a tree_sitter.Parser must not be shared across threads)."""
    parsers: dict[str, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        grammar = get_language(language)
        if grammar is None:
            return None
        parser = parsers[language] = tree_sitter.Parser(grammar)
    return parser


def encode(text: str) -> bytes:
    """The bytes tree-sitter sees for a text."""
    return text.encode(ENCODING, ENCODING_ERRORS)


def parse(text: str, language: str) -> tree_sitter.Tree | None:
    """A fresh parse of the text; None when the language has no grammar."""
    parser = get_parser(language)
    if parser is None:
        return None
    return parser.parse(encode(text))
