"""Validation from a base's tree: byte edits that rebuild the new text, incremental reparses that agree with a
fresh parse, and ``introduced_errors`` that reports what it reports without a base."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentls.agent.overlay import FileChange
from agentls.syntax import bases
from agentls.syntax.byte_diff import ByteEdit, byte_edits
from agentls.syntax.parser import encode, parse
from agentls.syntax.validate import errors, introduced_errors, prepare
from agentls.workflows.validation import introduced, prepare_bases
from tests.unit.syntax_samples import PIECES, SOURCE, nodes

BASE_PIECES = [piece for piece in PIECES if piece != "\r\n"]  # bases hold text as the editor has it


@pytest.fixture(autouse=True)
def _no_bases() -> Iterator[None]:
    bases.clear()
    yield
    bases.clear()


def big_python(classes: int) -> str:
    """About 17 lines per class of valid Python, each class a little different."""
    return "".join(
        f"class Model{i}(Base):\n"
        f'    """Model number {i}, café."""\n\n'
        f"    def __init__(self, name: str, size: int = {i}) -> None:\n"
        "        self.name = name\n"
        f"        self.items = [x * {i % 7 + 1} for x in range(size) if x % 3]\n\n"
        "    def total(self) -> int:\n"
        "        total = 0\n"
        "        for item in self.items:  # sum them\n"
        "            if item > 10:\n"
        "                total += item\n"
        "            else:\n"
        '                total -= len(f"{self.name}-{item}")\n'
        "        return total\n\n\n"
        for i in range(classes)
    )


def spread_edits(text: str, count: int, new_line: str) -> str:
    """``new_line`` inserted after ``count`` statements spread over ``big_python`` text, indented like them."""
    lines = text.splitlines(keepends=True)
    step = len(lines) // (count + 1)
    for number in reversed(range(1, count + 1)):
        index = next(i for i in range(number * step, len(lines)) if lines[i].strip() == "self.name = name")
        lines.insert(index + 1, "        " + new_line)
    return "".join(lines)


def _apply(old: bytes, edits: list[ByteEdit], new: bytes) -> bytes:
    pieces, position = [], 0
    for edit in edits:
        assert position <= edit.old_start <= edit.old_end <= len(old)
        pieces += [old[position : edit.old_start], new[edit.new_start : edit.new_end]]
        position = edit.old_end
    pieces.append(old[position:])
    return b"".join(pieces)


def _assert_edits_rebuild(old: str, new: str) -> list[ByteEdit]:
    old_data, new_data = encode(old), encode(new)
    edits = byte_edits(old_data, new_data)
    assert _apply(old_data, edits, new_data) == new_data
    for edit in edits:  # whole characters replaced by whole characters
        old_data[edit.old_start : edit.old_end].decode("utf-8", "surrogatepass")
        new_data[edit.new_start : edit.new_end].decode("utf-8", "surrogatepass")
    return edits


# -- byte edits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("", "x = 1\n"),
        ("x = 1\n", ""),
        ("x = 1\n", "x = 1\n"),
        ("é", "è"),  # the same lead byte: the edit still covers the whole character
        ("a🎉b", "a🎊b"),
        ("naïve\n", "naive\n"),
    ],
)
def test_byte_edits_rebuild_the_new_text(old: str, new: str) -> None:
    edits = _assert_edits_rebuild(old, new)
    assert (edits == []) == (old == new)


def test_byte_edits_in_a_large_text_stay_small() -> None:
    old = big_python(300)
    new = spread_edits(old, 20, "# the agent's note\n")
    edits = _assert_edits_rebuild(old, new)
    assert len(edits) == 20
    assert all(edit.old_end - edit.old_start <= 8 for edit in edits)


def test_byte_edits_in_a_text_of_one_repeated_line() -> None:
    old = "pass\n" * 3000
    new = old[: len(old) // 3] + "x = 1\n" + old[len(old) // 3 : 2 * len(old) // 3] + old[2 * len(old) // 3 + 5 :]
    _assert_edits_rebuild(old, new)  # no anchor is unique: one wide edit, still right


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from([*BASE_PIECES, "return total\n", "        self.name = name\n"]), max_size=400),
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 0.1), st.lists(st.sampled_from(BASE_PIECES), max_size=3))),
)
def test_byte_edits_rebuild_any_edit(pieces: list[str], steps: list[tuple[float, float, list[str]]]) -> None:
    old = new = "".join(pieces)
    for start_fraction, size_fraction, inserted in steps:
        start = int(start_fraction * len(new))
        end = min(len(new), start + int(size_fraction * len(new)))
        new = new[:start] + "".join(inserted) + new[end:]
    _assert_edits_rebuild(old, new)


# -- reparsing from a base ----------------------------------------------------------------------------------


def _assert_reparse_matches_fresh_parse(before: str, after: str) -> None:
    """Valid text: the tree a fresh parse gives. Broken text: errors, as a fresh parse has (perhaps shaped
    differently: see test_syntax_document)."""
    base = bases.remember(before, "python")
    assert base is not None
    tree = base.reparse(after)
    fresh = parse(after, "python")
    assert fresh is not None
    assert tree.root_node.has_error == fresh.root_node.has_error
    if not fresh.root_node.has_error:
        assert nodes(tree) == nodes(fresh)
    fresh_base = parse(before, "python")
    assert fresh_base is not None
    assert nodes(base.tree) == nodes(fresh_base)  # the base's tree is left as it was


def _assert_same_as_without_a_base(before: str, after: str, language: str = "python") -> list[object] | None:
    bases.clear()
    cold = introduced_errors(before, after, language)
    assert prepare(before, language)
    warm = introduced_errors(before, after, language)
    assert warm == cold
    return list(warm) if warm is not None else None


BROKEN = SOURCE.replace("def greet(name):", "def greet(name:")


@pytest.mark.parametrize(
    ("before", "after", "introduces"),
    [
        (SOURCE, SOURCE.replace("price: float", "price: float, tax: float = 0.0"), False),
        (SOURCE, SOURCE.replace("self.items.values())", "self.items.values()"), True),  # introduces one
        (BROKEN, SOURCE, False),  # fixes one
        (BROKEN, "# moved down\n\n" + BROKEN, False),  # an old error that moved
        (BROKEN, BROKEN.replace("import math", "import math)"), True),  # a second one
        (SOURCE, SOURCE.replace("こんにちは", "👋").replace('"José")', '"José)'), True),  # non-ASCII, unclosed quote
        (SOURCE, SOURCE + "def tail(:\n", True),
        (SOURCE, "", False),
        ("", SOURCE, False),
    ],
)
def test_a_base_reports_the_introduced_errors_a_fresh_parse_reports(before: str, after: str, introduces: bool) -> None:
    _assert_reparse_matches_fresh_parse(before, after)
    assert bool(_assert_same_as_without_a_base(before, after)) == introduces


def test_many_hunks_over_a_large_file() -> None:
    before = big_python(300)
    valid = spread_edits(before, 20, "x = compute(1, 2)  # the agent's line\n")
    broken = spread_edits(before, 20, "x = compute(1, 2  # the agent's line\n")
    for after in (valid, broken):
        _assert_reparse_matches_fresh_parse(before, after)
    assert _assert_same_as_without_a_base(before, valid) == []
    assert _assert_same_as_without_a_base(before, broken)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.2]),
            st.lists(st.sampled_from(BASE_PIECES), max_size=4),
        ),
        min_size=1,
        max_size=6,
    )
)
@example([(0.515625, 0.0, ["'"]), (0.0, 0.2, []), (0.1875, 0.0, ["'"])])  # the unclosed quote
def test_random_edits_agree_with_a_fresh_parse(steps: list[tuple[float, float, list[str]]]) -> None:
    before, after = SOURCE, SOURCE
    for start_fraction, size_fraction, inserted in steps:
        start = int(start_fraction * len(after))
        end = min(len(after), start + int(size_fraction * len(after)))
        after = after[:start] + "".join(inserted) + after[end:]
    _assert_reparse_matches_fresh_parse(before, after)
    _assert_same_as_without_a_base(before, after)
    # And from a broken base.
    _assert_reparse_matches_fresh_parse(after, before)
    _assert_same_as_without_a_base(after, before)


# -- the cache and the workflow -----------------------------------------------------------------------------


def test_bases_are_kept_once_and_the_oldest_dropped() -> None:
    assert bases.recall(SOURCE, "python") is None
    first = bases.remember(SOURCE, "python")
    assert first is not None
    assert bases.remember(SOURCE, "python") is first
    assert bases.remember(SOURCE, "cobol") is None
    assert not prepare(SOURCE, "cobol")
    for number in range(bases.MAX_BASES):
        bases.remember(f"x = {number}\n", "python")
    assert bases.recall(SOURCE, "python") is None
    assert bases.recall(f"x = {bases.MAX_BASES - 1}\n", "python") is not None


def test_a_base_remembers_its_errors() -> None:
    base = bases.remember(BROKEN, "python")
    assert base is not None
    assert base.errors() == errors(BROKEN, "python")


def test_an_error_found_without_a_base_keeps_the_base_for_the_next_round() -> None:
    after = SOURCE.replace("self.items.values())", "self.items.values()")
    assert introduced_errors(SOURCE, after, "python")
    assert bases.recall(SOURCE, "python") is not None  # the repair round reparses from it


def test_the_workflow_prepares_the_session_buffers() -> None:
    prepare_bases({"cart.py": SOURCE, "notes.txt": "anything"})
    assert bases.recall(SOURCE, "python") is not None
    assert bases.recall("anything", "python") is None
    after = SOURCE.replace("self.items.values())", "self.items.values()")
    warm = introduced([FileChange("cart.py", SOURCE, after), FileChange("notes.txt", "anything", "else")])
    bases.clear()
    cold = introduced([FileChange("cart.py", SOURCE, after), FileChange("notes.txt", "anything", "else")])
    assert warm == cold
    assert list(warm) == ["cart.py"]


def test_the_repair_prompt_names_line_and_column_even_for_an_error_at_the_very_end() -> None:
    from agentls.syntax.validate import SyntaxIssue
    from agentls.workflows.validation import repair_prompt

    text = "def f():\n    return (1,\r\nx = 2\n"
    prompt = repair_prompt(
        {"a.py": [SyntaxIssue(22, 22, "missing ')'"), SyntaxIssue(len(text), len(text), "unexpected end")]},
        {"a.py": text},
    )
    assert "- a.py:2:14: missing ')'\n    return (1," in prompt  # \r\n is one line break, as the editor says
    assert "- a.py:4:1: unexpected end\n    " in prompt  # past the last line break: an empty line 4
