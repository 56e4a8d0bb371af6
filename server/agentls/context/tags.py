"""Definitions and references of symbols in a file, and the scopes enclosing a position, from tree-sitter queries.

The queries are data, one pair per language: ``grammars/<lang>/tags.scm`` captures each definition or reference
as ``@definition.<kind>`` / ``@reference.<kind>`` on the whole node plus ``@name`` on its identifier (the
tree-sitter tags convention); ``grammars/<lang>/scopes.scm`` captures enclosing scopes as ``@scope.<kind>`` with an
optional ``@name``. A query file may start with ``; inherits: other[,more]`` to append another language's patterns
(TypeScript reuses JavaScript's); a file's own patterns come first and win when two patterns tag the same name.

Each query is compiled once per process and language, and a file costs one parse and one ``matches()`` call.
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

# Longer "names" are generated code or a pattern matching something it should not; either way useless as symbols.
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
    """A node that encloses a position: a function, a class, a module or namespace."""

    kind: str  # "function" | "class" | "module"
    name: str  # "" when anonymous
    start: int  # byte offsets of the scope node
    end: int
    start_line: int  # 0-based
    end_line: int  # 0-based, inclusive


@dataclass(frozen=True, slots=True)
class _Role:
    """What one pattern of a query captures: the capture holding the whole node, and what it means."""

    capture: str  # "definition.function", "scope.class", ...
    kind: str
    is_definition: bool


@dataclass(frozen=True, slots=True)
class _Compiled:
    query: tree_sitter.Query
    roles: tuple[_Role, ...]  # indexed by pattern index
    captures: tuple[str, ...]  # each role's capture, for the hot loop
    is_reference: tuple[bool, ...]

    @classmethod
    def of(cls, query: tree_sitter.Query, roles: tuple[_Role, ...]) -> _Compiled:
        return cls(query, roles, tuple(r.capture for r in roles), tuple(not r.is_definition for r in roles))


class QueryFileError(ValueError):
    """A packaged query file that is malformed: a bug in agentls, caught by its tests."""


def _read_query(language: str, filename: str, seen: tuple[str, ...] = ()) -> str | None:
    """The query text for a language with its inherited languages' text appended; None when it has none."""
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
    for parent in inherits.group(1).split(","):
        parent_text = _read_query(parent.strip(), filename, (*seen, language))
        if parent_text is None:
            raise QueryFileError(f"grammars/{language}/{filename}: inherits {parent.strip()!r}, which has none")
        parts.append(parent_text)
    return "\n".join(parts)


def _roles(query: tree_sitter.Query, text: str, pattern: re.Pattern[str], filename: str) -> tuple[_Role, ...]:
    """Each pattern's role, read from its own source text: the binding cannot list a pattern's captures."""
    source = text.encode("utf-8")
    roles: list[_Role] = []
    for index in range(query.pattern_count):
        body = source[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)].decode("utf-8")
        found = {match["capture"]: match for match in pattern.finditer(body)}
        if len(found) != 1 or (pattern is _TAG_CAPTURE and "@name" not in body):
            raise QueryFileError(f"{filename}: pattern {index} needs one role capture (and @name for a tag): {body}")
        match = next(iter(found.values()))
        roles.append(
            _Role(
                capture=match["capture"],
                kind=match["kind"],
                is_definition=match.groupdict().get("role") == "definition",
            )
        )
    return tuple(roles)


def _compile(language: str, filename: str, pattern: re.Pattern[str]) -> _Compiled | None:
    grammar = get_language(language)
    if grammar is None:
        return None
    try:
        text = _read_query(language, filename)
        if text is None:
            return None
        query = tree_sitter.Query(grammar, text)
        return _Compiled.of(query, _roles(query, text, pattern, f"grammars/{language}/{filename}"))
    except (tree_sitter.QueryError, QueryFileError):
        # A broken packaged query is our bug: say so loudly once, and carry on without tags for the language.
        log.exception("cannot compile %s for %s", filename, language)
        return None


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


def extract_tags(language: str, source: bytes, tree: tree_sitter.Tree | None = None) -> list[Tag]:
    """Definitions and references in document order (by start, then definitions first), deduplicated.

    Parses ``source`` when no tree is given. Unsupported language -> []. Two patterns tagging the same name
    node keep the first pattern's tag, and a name that is defined is not also reported as a reference.
    """
    compiled = _tags_query(language)
    if compiled is None:
        return []
    tree = _tree(language, source, tree)
    if tree is None:
        return []
    roles = compiled.roles
    role_captures = compiled.captures
    is_reference = compiled.is_reference
    # Per match only a cheap row; Tag objects only for the survivors. Sorting rows by (name start, is a
    # reference, pattern index) puts the tag that wins each name first.
    rows: list[tuple[int, bool, int, tree_sitter.Node, tree_sitter.Node]] = []
    append = rows.append
    for index, captures in tree_sitter.QueryCursor(compiled.query).matches(tree.root_node):
        try:
            name_node = captures["name"][0]
            node = captures[role_captures[index]][0]
        except KeyError:  # an optional @name that did not match
            continue
        append((name_node.start_byte, is_reference[index], index, name_node, node))
    rows.sort(key=_row_order)
    tags: list[tuple[int, bool, int, Tag]] = []
    last_start = -1
    last_is_reference = False
    for name_start, reference, index, name_node, node in rows:
        if name_start == last_start and (reference or not last_is_reference):
            continue  # a second tag of the same name, or a reference to a name defined right here
        last_start, last_is_reference = name_start, reference
        raw = source[name_start : name_node.end_byte]
        if not raw or len(raw) > MAX_NAME_BYTES or b"\n" in raw:
            continue
        start = node.start_byte
        name = raw.decode("utf-8", "replace")
        tag = Tag(name, roles[index].kind, not reference, name_node.start_point[0], start, node.end_byte)
        tags.append((start, reference, name_start, tag))
    tags.sort(key=_row_order)
    return [item[3] for item in tags]


_row_order = operator.itemgetter(0, 1, 2)


def enclosing_scopes(language: str, source: bytes, offset: int, tree: tree_sitter.Tree | None = None) -> list[Scope]:
    """Scopes containing the byte offset, innermost first.

    A scope contains the offsets from its first byte to its end inclusive, so a cursor just after the last
    character of a function is still in it. Unsupported language -> [].
    """
    compiled = _scopes_query(language)
    if compiled is None:
        return []
    tree = _tree(language, source, tree)
    if tree is None:
        return []
    cursor = tree_sitter.QueryCursor(compiled.query)
    cursor.set_byte_range(max(0, offset - 1), offset + 1)
    # (start, end, kind) -> (has no name, pattern index, scope): a named match beats an anonymous one.
    found: dict[tuple[int, int, str], tuple[bool, int, Scope]] = {}
    for index, captures in cursor.matches(tree.root_node):
        role = compiled.roles[index]
        nodes = captures.get(role.capture)
        if not nodes:
            continue
        node = nodes[0]
        if not node.start_byte <= offset <= node.end_byte:
            continue
        names = captures.get("name")
        name = ""
        if names:
            raw = source[names[0].start_byte : names[0].end_byte]
            if len(raw) <= MAX_NAME_BYTES and b"\n" not in raw:
                name = raw.decode("utf-8", "replace")
        key = (node.start_byte, node.end_byte, role.kind)
        rank = (not name, index)
        previous = found.get(key)
        if previous is not None and previous[:2] <= rank:
            continue
        scope = Scope(
            kind=role.kind,
            name=name,
            start=node.start_byte,
            end=node.end_byte,
            start_line=node.start_point[0],
            end_line=node.end_point[0],
        )
        found[key] = (*rank, scope)
    ranked = sorted(found.values(), key=lambda item: (item[2].end - item[2].start, item[1]))
    return [scope for _, _, scope in ranked]
