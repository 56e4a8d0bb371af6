"""Definitions and references of symbols in a file, and the scopes enclosing a position, from tree-sitter queries.

The queries are data, two per language: ``grammars/<lang>/tags.scm`` captures each definition or reference as
``@definition.<kind>`` / ``@reference.<kind>`` on the whole node plus ``@name`` on its identifier (the tree-sitter
tags convention); ``grammars/<lang>/scopes.scm`` captures enclosing scopes as ``@scope.<kind>``, with ``@name``
when they have one. A query file may start with ``; inherits: a, b`` to append other query files (TypeScript and
JavaScript share ``grammars/ecma``, C++ builds on C); its own patterns come first, and the first pattern to tag
a name wins, which is how a method beats the function pattern that also matches it.

Each query is compiled once per process and language. Tagging a file costs its parse and one ``matches()`` call;
Tag objects are built only for the matches that survive deduplication, as they dominate the Python-side cost.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import operator
import re
from dataclasses import dataclass

import tree_sitter

from agentls.syntax.parser import get_language, get_parser

log = logging.getLogger(__name__)

# A longer "name" is generated code or a pattern matching what it should not: useless as a symbol either way.
MAX_NAME_BYTES = 200

_INHERITS = re.compile(r";+\s*inherits\s*:\s*([\w, ]+)")
_TAG_CAPTURE = re.compile(r"@(?P<capture>(?P<role>definition|reference)\.(?P<kind>\w+))")
_SCOPE_CAPTURE = re.compile(r"@(?P<capture>scope\.(?P<kind>\w+))")


@dataclass(frozen=True, slots=True)
class Tag:
    """One definition or reference of a symbol."""

    name: str  # identifier text
    kind: str  # "function", "class", "method", "call", ... (the suffix after definition./reference.)
    is_definition: bool
    line: int  # 0-based line of the name
    start: int  # byte offset of the whole captured definition/reference node in the UTF-8 source
    end: int  # byte end of that node


@dataclass(frozen=True, slots=True)
class Scope:
    """A node that encloses a position: a function (method, lambda, block), a class-like type, a module."""

    kind: str  # "function" | "class" | "module"
    name: str  # "" when anonymous
    start: int  # byte offsets of the scope node
    end: int
    start_line: int  # 0-based
    end_line: int  # 0-based, inclusive


class QueryFileError(ValueError):
    """A packaged query file is malformed: a bug in agentls, which its tests catch."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A compiled query and, per pattern index, what its role capture is called and means."""

    query: tree_sitter.Query
    captures: tuple[str, ...]  # "definition.function", "scope.class", ...
    kinds: tuple[str, ...]  # "function", "class", ...
    is_reference: tuple[bool, ...]


def _read_query(language: str, filename: str, seen: tuple[str, ...] = ()) -> str | None:
    """A language's query text followed by the text it inherits; None when the language has no such file."""
    if language in seen:
        raise QueryFileError(f"grammars/{language}/{filename}: inheritance cycle {' -> '.join((*seen, language))}")
    resource = importlib.resources.files("agentls").joinpath("grammars", language, filename)
    if not resource.is_file():
        return None
    text = resource.read_text(encoding="utf-8")
    inherits = _INHERITS.match(text)
    if inherits is None:
        return text
    parts = [text]
    for parent in (name.strip() for name in inherits.group(1).split(",")):
        parent_text = _read_query(parent, filename, (*seen, language))
        if parent_text is None:
            raise QueryFileError(f"grammars/{language}/{filename}: inherits {parent!r}, which has no {filename}")
        parts.append(parent_text)
    return "\n".join(parts)


def _roles(query: tree_sitter.Query, text: str, capture: re.Pattern[str], filename: str) -> _Compiled:
    """Read each pattern's role capture from the pattern's own source: the binding cannot list its captures."""
    source = text.encode("utf-8")
    captures: list[str] = []
    kinds: list[str] = []
    is_reference: list[bool] = []
    for index in range(query.pattern_count):
        body = source[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)].decode("utf-8")
        found = {match["capture"]: match for match in capture.finditer(body)}
        if len(found) != 1 or (capture is _TAG_CAPTURE and "@name" not in body):
            raise QueryFileError(f"{filename}: pattern {index} needs one role capture (and @name for a tag): {body}")
        (match,) = found.values()
        captures.append(match["capture"])
        kinds.append(match["kind"])
        is_reference.append(match.groupdict().get("role") == "reference")
    return _Compiled(query, tuple(captures), tuple(kinds), tuple(is_reference))


def _compile(language: str, filename: str, capture: re.Pattern[str]) -> _Compiled | None:
    grammar = get_language(language)
    if grammar is None:
        return None
    try:
        text = _read_query(language, filename)
        if text is None:
            return None
        return _roles(tree_sitter.Query(grammar, text), text, capture, f"grammars/{language}/{filename}")
    except (tree_sitter.QueryError, QueryFileError):
        # Our bug, not the user's: say so loudly, once, and carry on without tags for the language.
        log.exception("cannot compile %s for %s", filename, language)
        return None


# functools.cache is enough for threads: two threads compiling at once both get a valid query, one is kept.
@functools.cache
def _tags_query(language: str) -> _Compiled | None:
    return _compile(language, "tags.scm", _TAG_CAPTURE)


@functools.cache
def _scopes_query(language: str) -> _Compiled | None:
    return _compile(language, "scopes.scm", _SCOPE_CAPTURE)


def tags_supported(language: str) -> bool:
    """Whether tags can be extracted for a language id (its grammar loads and it has a tags query)."""
    return _tags_query(language) is not None


def _tree(language: str, source: bytes, tree: tree_sitter.Tree | None) -> tree_sitter.Tree | None:
    if tree is not None:
        return tree
    parser = get_parser(language)
    return None if parser is None else parser.parse(source)


_FIRST_THREE = operator.itemgetter(0, 1, 2)


def extract_tags(language: str, source: bytes, tree: tree_sitter.Tree | None = None) -> list[Tag]:
    """Definitions and references in document order (by start, then definitions first), deduplicated.

    Parses ``source`` when no tree is given. Unsupported language -> []. When several patterns tag the same
    name, the first pattern's tag is kept; a name that a definition tags is not also a reference.
    """
    compiled = _tags_query(language)
    if compiled is None:
        return []
    tree = _tree(language, source, tree)
    if tree is None:
        return []
    role_captures = compiled.captures
    is_reference = compiled.is_reference
    # A cheap row per match; sorted by (name start, is a reference, pattern index), each name's winner is first.
    rows: list[tuple[int, bool, int, tree_sitter.Node, tree_sitter.Node]] = []
    append = rows.append
    for index, captures in tree_sitter.QueryCursor(compiled.query).matches(tree.root_node):
        try:
            name_node = captures["name"][0]
            node = captures[role_captures[index]][0]
        except KeyError:  # an optional @name that matched nothing
            continue
        append((name_node.start_byte, is_reference[index], index, name_node, node))
    rows.sort(key=_FIRST_THREE)
    kinds = compiled.kinds
    tags: list[tuple[int, bool, int, Tag]] = []
    last_start = -1
    for name_start, reference, index, name_node, node in rows:
        if name_start == last_start:
            continue  # the same name again: a lower-priority pattern, or a reference to a name defined here
        last_start = name_start
        raw = source[name_start : name_node.end_byte]
        if not raw or len(raw) > MAX_NAME_BYTES or b"\n" in raw:
            continue
        start, line = node.start_byte, name_node.start_point[0]
        tag = Tag(raw.decode("utf-8", "replace"), kinds[index], not reference, line, start, node.end_byte)
        tags.append((start, reference, name_start, tag))
    tags.sort(key=_FIRST_THREE)
    return [row[3] for row in tags]


def enclosing_scopes(language: str, source: bytes, offset: int, tree: tree_sitter.Tree | None = None) -> list[Scope]:
    """Scopes containing the byte offset, innermost first.

    A scope contains the offsets from its first byte up to and including its end, so a cursor just after the
    last character of a function is still in it. When patterns capture the same node, a named capture beats an
    anonymous one. Unsupported language -> [].
    """
    compiled = _scopes_query(language)
    if compiled is None:
        return []
    tree = _tree(language, source, tree)
    if tree is None:
        return []
    cursor = tree_sitter.QueryCursor(compiled.query)
    cursor.set_byte_range(max(0, offset - 1), offset + 1)  # only matches around the offset: cheap on big files
    # (start, end, kind) -> (is anonymous, pattern index, scope): the lowest rank wins.
    found: dict[tuple[int, int, str], tuple[bool, int, Scope]] = {}
    for index, captures in cursor.matches(tree.root_node):
        nodes = captures.get(compiled.captures[index])
        if not nodes or not nodes[0].start_byte <= offset <= nodes[0].end_byte:
            continue
        node = nodes[0]
        names = captures.get("name")
        raw = source[names[0].start_byte : names[0].end_byte] if names else b""
        name = raw.decode("utf-8", "replace") if len(raw) <= MAX_NAME_BYTES and b"\n" not in raw else ""
        kind = compiled.kinds[index]
        key = (node.start_byte, node.end_byte, kind)
        previous = found.get(key)
        if previous is not None and previous[:2] <= (not name, index):
            continue
        scope = Scope(kind, name, node.start_byte, node.end_byte, node.start_point[0], node.end_point[0])
        found[key] = (not name, index, scope)
    ranked = sorted(found.values(), key=lambda item: (item[2].end - item[2].start, item[1]))
    return [scope for _, _, scope in ranked]
