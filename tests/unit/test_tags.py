"""Tag extraction: golden tags per language, targeted definitions/references, enclosing scopes, and invariants.

The golden files are written by the code under test, so they are only as good as the eye that reviewed them:
regenerate with ``AGENTLS_UPDATE_GOLDEN=1 pytest tests/unit/test_tags.py`` and read the diff before committing.
The targeted asserts below pin the answers that matter most, so a wrong regeneration still fails.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentls.context import tags as tags_module
from agentls.context.tags import MAX_NAME_BYTES, Scope, Tag, enclosing_scopes, extract_tags, tags_supported
from agentls.syntax.parser import get_parser

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tags"
LANGUAGES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())
UPDATE = os.environ.get("AGENTLS_UPDATE_GOLDEN") == "1"


def _sample(language: str) -> bytes:
    (path,) = (FIXTURES / language).glob("sample.*")
    return path.read_bytes()


def _rows(tags: list[Tag]) -> list[list[object]]:
    return [[tag.kind, tag.name, tag.is_definition, tag.line] for tag in tags]


def _dump(rows: list[list[object]]) -> str:
    """One tag a line, so a golden diff reads tag by tag."""
    return "[\n" + ",\n".join("  " + json.dumps(row) for row in rows) + "\n]\n"


def _has(tags: list[Tag], kind: str, name: str, is_definition: bool, line: int | None = None) -> bool:
    return any(
        t.kind == kind and t.name == name and t.is_definition == is_definition and (line is None or t.line == line)
        for t in tags
    )


def test_every_language_has_a_fixture() -> None:
    expected = ["python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp", "ruby", "php"]
    assert sorted(LANGUAGES) == sorted([*expected, "lua"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_golden(language: str) -> None:
    assert tags_supported(language)
    rows = _rows(extract_tags(language, _sample(language)))
    expected_path = FIXTURES / language / "expected.json"
    if UPDATE:
        expected_path.write_text(_dump(rows), encoding="utf-8")
    assert rows == json.loads(expected_path.read_text(encoding="utf-8"))


# (kind, name, is_definition, 0-based line): answers a reviewer checked against the sample by hand.
MUST_HAVE: dict[str, list[tuple[str, str, bool, int]]] = {
    "python": [
        ("class", "Item", True, 18),
        ("method", "total", True, 26),
        ("method", "label", True, 30),  # decorated
        ("function", "make_inventory", True, 58),
        ("function", "line", True, 52),  # nested in a method: a function
        ("constant", "DEFAULT_LIMIT", True, 13),
        ("field", "quantity", True, 22),
        ("call", "upper", False, 31),  # self.name.upper()
        ("call", "Event", False, 44),
        ("class", "Backend", False, 34),  # base class
        ("import", "OrderedDict", False, 4),
        ("import", "defaultdict", False, 4),  # the original name, not the alias
        ("module", ".storage", False, 8),
        ("type", "Item", False, 14),  # a quoted annotation
    ],
    "javascript": [
        ("class", "TaskQueue", True, 10),
        ("method", "push", True, 24),
        ("function", "runTask", True, 38),
        ("function", "createQueue", True, 54),  # const f = () => ...
        ("function", "toString", True, 50),  # X.prototype.toString = function ...
        ("constant", "MAX_ATTEMPTS", True, 7),
        ("call", "emit", False, 26),
        ("call", "runTask", False, 33),
        ("class", "TaskResult", False, 42),  # new TaskResult(...)
        ("class", "EventEmitter", False, 10),  # extends
        ("import", "retry", False, 2),
        ("module", "./util.js", False, 2),
        ("module", "path", False, 5),  # require("path")
    ],
    "typescript": [
        ("interface", "Storage", True, 7),
        ("type", "Entry", True, 13),
        ("class", "Policy", True, 15),  # enum
        ("class", "BaseCache", True, 20),  # abstract
        ("class", "Cache", True, 24),
        ("method", "evict", True, 21),  # abstract method signature
        ("method", "get", True, 36),
        ("module", "Caches", True, 58),
        ("function", "memoize", True, 64),
        ("call", "now", False, 38),
        ("implementation", "Storage", False, 24),
        ("class", "BaseCache", False, 24),
        ("class", "Cache", False, 60),  # new Cache<V>()
        ("type", "Clock", False, 28),
        ("import", "systemClock", False, 3),
    ],
    "tsx": [
        ("interface", "Todo", True, 7),
        ("function", "reducer", True, 15),
        ("function", "TodoItem", True, 35),
        ("function", "TodoList", True, 41),
        ("method", "render", True, 64),
        ("call", "useReducer", False, 42),
        ("call", "TodoItem", False, 54),  # <TodoItem ... />
        ("call", "Panel", False, 51),  # <Layout.Panel>
        ("call", "Button", False, 58),
        ("import", "useState", False, 1),
    ],
    "go": [
        ("module", "store", True, 1),
        ("class", "Store", True, 23),
        ("interface", "Counter", True, 18),
        ("type", "Key", True, 16),
        ("function", "New", True, 29),
        ("method", "Incr", True, 36),
        ("constant", "MaxKeys", True, 12),
        ("field", "limiter", True, 26),
        ("call", "Errorf", False, 38),
        ("call", "Incr", False, 59),
        ("class", "Store", False, 30),  # &Store{...}
        ("module", "golang.org/x/time/rate", False, 8),
    ],
    "rust": [
        ("class", "Job", True, 12),
        ("class", "State", True, 17),  # enum
        ("interface", "Runner", True, 22),
        ("method", "run", True, 23),  # in the trait
        ("method", "push", True, 39),  # in the impl
        ("function", "drain", True, 65),  # in a mod: a function
        ("macro", "job", True, 56),
        ("module", "tests", True, 62),
        ("constant", "MAX_JOBS", True, 6),
        ("call", "push_back", False, 44),
        ("call", "job", False, 66),  # job!(...)
        ("class", "Queue", False, 36),  # Queue { ... }
        ("implementation", "Runner", False, 49),
        ("import", "Mutex", False, 2),
        ("import", "Result", False, 4),
    ],
    "java": [
        ("class", "OrderService", True, 10),
        ("interface", "Listener", True, 39),
        ("class", "Status", True, 43),  # enum
        ("class", "OrderPlaced", True, 52),  # record
        ("method", "place", True, 26),
        ("field", "orders", True, 13),
        ("constant", "SHIPPED", True, 45),
        ("call", "publish", False, 31),
        ("class", "OrderException", False, 28),  # new OrderException(...)
        ("class", "BaseService", False, 10),
        ("implementation", "AutoCloseable", False, 10),
        ("import", "EventBus", False, 7),
        ("import", "requireNonNull", False, 5),
        ("module", "java.util.function", False, 4),
    ],
    "c": [
        ("function", "ring_push", True, 40),
        ("function", "ring_new", True, 32),  # returns a pointer
        ("function", "copy_message", True, 30),  # prototype
        ("class", "record", True, 11),
        ("type", "ring_t", True, 20),
        ("macro", "RING_NEXT", True, 7),
        ("constant", "LEVEL_INFO", True, 9),
        ("constant", "ring_dropped", True, 28),
        ("field", "message", True, 13),
        ("call", "copy_message", False, 49),
        ("call", "fprintf", False, 60),
        ("type", "level_t", False, 40),
        ("module", "ring.h", False, 4),
    ],
    "cpp": [
        ("module", "shapes", True, 6),
        ("class", "Shape", True, 14),
        ("class", "Circle", True, 25),
        ("method", "area", True, 18),  # pure virtual declaration
        ("method", "name", True, 19),  # returns a reference
        ("method", "area", True, 44),  # Square::area, out of class
        ("function", "make", True, 49),  # template
        ("function", "total_area", True, 53),
        ("type", "ShapeList", True, 12),
        ("call", "area", False, 56),
        ("call", "make_unique", False, 50),
        ("call", "total_area", False, 67),
        ("class", "Square", False, 66),  # new shapes::Square(...)
        ("class", "Shape", False, 33),  # base class
        ("module", "geometry/point.h", False, 4),
    ],
    "csharp": [
        ("module", "Shop.Billing", True, 5),
        ("interface", "IInvoiceStore", True, 7),
        ("class", "Invoice", True, 30),
        ("class", "Money", True, 22),  # struct
        ("class", "LineItem", True, 20),  # record
        ("method", "MarkPaid", True, 51),
        ("field", "State", True, 36),  # property
        ("constant", "Paid", True, 17),  # enum member
        ("call", "WriteLine", False, 55),
        ("call", "Invoke", False, 54),  # Paid?.Invoke(this)
        ("class", "InvalidOperationException", False, 46),
        ("class", "IComparable", False, 30),
        ("type", "Guid", False, 9),
        ("module", "System.Linq", False, 2),
    ],
    "ruby": [
        ("module", "Billing", True, 5),
        ("class", "Invoice", True, 16),
        ("method", "add", True, 31),
        ("method", "money", True, 11),  # def self.money
        ("method", "parse", True, 51),  # in class << self
        ("constant", "DEFAULT_CURRENCY", True, 23),
        ("call", "generate", False, 47),
        ("call", "add", False, 54),
        ("class", "Line", False, 34),  # Line.new(...)
        ("class", "StandardError", False, 8),
        ("implementation", "Comparable", False, 17),
        ("module", "support/clock", False, 3),
    ],
    "php": [
        ("module", "App\\Billing", True, 4),
        ("interface", "Payable", True, 15),
        ("class", "Invoice", True, 38),
        ("class", "Status", True, 30),  # enum
        ("method", "pay", True, 50),
        ("function", "total", True, 73),
        ("field", "lines", True, 44),
        ("field", "logger", True, 46),  # promoted constructor parameter
        ("constant", "MAX_LINES", True, 42),
        ("call", "save", False, 56),
        ("call", "money_format", False, 57),
        ("class", "InvoicePaid", False, 58),  # new InvoicePaid(...)
        ("implementation", "HasTimestamps", False, 40),  # use HasTimestamps;
        ("import", "InvoiceVoided", False, 7),
    ],
    "lua": [
        ("method", "on", True, 19),  # function Bus:on
        ("function", "new", True, 12),  # function Bus.new
        ("function", "encode", True, 37),  # local function
        ("function", "encode", True, 41),  # M.encode = function
        ("function", "print", True, 46),  # table field
        ("constant", "MAX_HANDLERS", True, 7),
        ("call", "insert", False, 24),
        ("call", "log_error", False, 32),
        ("module", "dkjson", False, 1),
        ("module", "bus.util", False, 2),
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_targeted_tags(language: str) -> None:
    tags = extract_tags(language, _sample(language))
    missing = [row for row in MUST_HAVE[language] if not _has(tags, *row)]
    assert missing == []
    kinds = {(t.kind, t.is_definition) for t in tags}
    assert ("call", False) in kinds
    assert any(is_definition for _, is_definition in kinds)


# (needle, the scopes around its first byte innermost first as (kind, name)).
SCOPES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "python": ("text.lower", [("function", ""), ("function", "report"), ("class", "Inventory")]),
    "javascript": ("this.emit(", [("function", "push"), ("class", "TaskQueue")]),
    "typescript": ("new Cache<V>()", [("function", "create"), ("module", "Caches")]),
    "tsx": ("this.props", [("function", "render"), ("class", "ErrorBoundary")]),
    "go": ("s.mu.Lock()", [("function", "Incr")]),
    "rust": ("jobs.push_back", [("function", "push"), ("class", "Queue")]),
    "java": ("return this == SHIPPED", [("function", "isFinal"), ("class", "Status"), ("class", "OrderService")]),
    "c": ("ring_dropped++", [("function", "ring_push")]),
    "cpp": ("return kPi", [("function", "area"), ("class", "Circle"), ("module", "shapes")]),
    "csharp": (
        "_items.Add(item)",
        [("function", "Add"), ("class", "Invoice"), ("module", "Shop.Billing")],
    ),
    "ruby": (
        "invoice.add(",
        [
            ("function", ""),
            ("function", ""),
            ("function", "parse"),
            ("class", ""),
            ("class", "Invoice"),
            ("module", "Billing"),
        ],
    ),
    "php": ("$this->touch()", [("function", "pay"), ("class", "Invoice")]),
    "lua": ("table.insert", [("function", "Bus:on")]),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_enclosing_scopes(language: str) -> None:
    source = _sample(language)
    needle, expected = SCOPES[language]
    offset = source.index(needle.encode())
    scopes = enclosing_scopes(language, source, offset)
    assert [(s.kind, s.name) for s in scopes] == expected
    for scope in scopes:
        assert scope.start <= offset <= scope.end
        assert source.count(b"\n", 0, scope.start) == scope.start_line
        assert source.count(b"\n", 0, scope.end) == scope.end_line
    assert [s.end - s.start for s in scopes] == sorted(s.end - s.start for s in scopes)


@pytest.mark.parametrize("language", LANGUAGES)
def test_tags_are_ordered_deduplicated_and_located(language: str) -> None:
    source = _sample(language)
    tags = extract_tags(language, source)
    assert tags == sorted(tags, key=lambda t: (t.start, not t.is_definition))
    assert len({(t.name, t.kind, t.is_definition, t.start, t.end) for t in tags}) == len(tags)
    for tag in tags:
        assert tag.name.encode() in source[tag.start : tag.end]
        assert tag.name.encode() in source.split(b"\n")[tag.line]
        assert "\n" not in tag.name
        assert len(tag.name.encode()) <= MAX_NAME_BYTES


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_given_tree_gives_the_same_tags(language: str) -> None:
    source = _sample(language)
    parser = get_parser(language)
    assert parser is not None
    tree = parser.parse(source)
    assert extract_tags(language, source, tree) == extract_tags(language, source)
    offset = len(source) // 2
    assert enclosing_scopes(language, source, offset, tree) == enclosing_scopes(language, source, offset)


def test_threads_share_the_compiled_queries() -> None:
    languages = LANGUAGES * 3
    serial = [extract_tags(language, _sample(language)) for language in languages]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda language: extract_tags(language, _sample(language)), languages))
    assert threaded == serial


def test_python_basics() -> None:
    source = b"from x import y\nimport a.b as c\n\nclass Foo(Base):\n    def run(self):\n        foo.bar()\n"
    tags = extract_tags("python", source)
    assert _has(tags, "class", "Foo", True, 3)
    assert _has(tags, "method", "run", True, 4)
    assert _has(tags, "call", "bar", False, 5)
    assert _has(tags, "import", "y", False, 0)
    assert _has(tags, "module", "x", False, 0)
    assert _has(tags, "module", "a.b", False, 1)
    assert _has(tags, "class", "Base", False, 3)
    foo = next(t for t in tags if t.name == "Foo" and t.is_definition)
    assert source[foo.start : foo.end].startswith(b"class Foo(Base):")
    assert foo.end == len(source) - 1  # the class node ends before the final newline


def test_a_decorated_definition_spans_its_decorators() -> None:
    source = b"@cache\ndef f():\n    pass\n"
    (definition,) = [t for t in extract_tags("python", source) if t.is_definition]
    assert (definition.name, definition.kind, definition.line, definition.start) == ("f", "function", 1, 0)


def test_offsets_are_utf8_bytes() -> None:
    source = 'TITLE = "héllo wörld"\ndef greet():\n    return TITLE\n'.encode()
    greet = next(t for t in extract_tags("python", source) if t.name == "greet")
    assert greet.start == source.index(b"def greet")
    assert greet.line == 1
    (scope,) = enclosing_scopes("python", source, source.index(b"return"))
    assert (scope.name, scope.start) == ("greet", source.index(b"def greet"))


def test_long_and_multiline_names_are_skipped() -> None:
    long_name = "f" * (MAX_NAME_BYTES + 1)
    source = f"def {long_name}():\n    pass\n\ndef ok():\n    {long_name}()\n".encode()
    assert [(t.name, t.kind) for t in extract_tags("python", source)] == [("ok", "function")]


def test_a_defined_name_is_not_also_a_reference() -> None:
    # type_identifier is both a Go type's name and a type reference pattern; only the definition remains.
    tags = extract_tags("go", b"package p\ntype Key string\n")
    assert [(t.name, t.kind, t.is_definition) for t in tags if t.name == "Key"] == [("Key", "type", True)]


def test_unsupported_languages() -> None:
    for language in ("markdown", "json", "no-such-language", "ecma", "jsx"):
        assert not tags_supported(language)
        assert extract_tags(language, b"anything") == []
        assert enclosing_scopes(language, b"anything", 3) == []


def test_scopes_at_the_edges() -> None:
    source = b"def f():\n    return 1\n\nx = 2\n"
    end_of_f = source.index(b"1") + 1
    assert [s.name for s in enclosing_scopes("python", source, 0)] == ["f"]
    assert [s.name for s in enclosing_scopes("python", source, end_of_f)] == ["f"]  # just after its last character
    assert enclosing_scopes("python", source, source.index(b"x = 2")) == []
    assert enclosing_scopes("python", source, len(source) + 10) == []
    assert isinstance(enclosing_scopes("python", source, 0)[0], Scope)


def test_each_pattern_needs_one_role() -> None:
    grammar = tags_module.get_language("python")
    assert grammar is not None
    text = "(class_definition name: (identifier) @name)"
    query = tags_module.tree_sitter.Query(grammar, text)
    with pytest.raises(tags_module.QueryFileError):
        tags_module._roles(query, text, tags_module._TAG_CAPTURE, "test.scm")


def test_names_that_are_not_symbols_are_left_out() -> None:
    # #not-eq? / #not-match? predicates: a JS constructor is not a method, "_" is not a Go variable, PHP's
    # static/self/parent name no class (#not-any-of? is broken in py-tree-sitter 0.26.1 for several values).
    js = extract_tags("javascript", b"class A { constructor() {} run() {} }\n")
    assert [(t.name, t.kind) for t in js if t.is_definition] == [("A", "class"), ("run", "method")]
    go = extract_tags("go", b"package p\nvar _ I = nil\nvar x = 1\n")
    assert [t.name for t in go if t.kind == "constant"] == ["x"]
    php = extract_tags("php", _sample("php"))
    assert not [t for t in php if t.name in ("static", "self", "parent")]
