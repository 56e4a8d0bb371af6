"""diff_hunks, apply_hunks and line_range: minimal whole-line hunks, line endings kept, any subset applies."""

from __future__ import annotations

import random
import re
from itertools import pairwise
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentls.edits import lines as edit_lines
from agentls.edits.hunks import Hunk, apply_hunks, diff_hunks, line_range

BASE = "one\ntwo\nthree\nfour\nfive\n"


def _h(number: int, start: int, end: int, old: str, new: str) -> Hunk:
    return Hunk(f"h{number}", start, end, old, new)


@pytest.mark.parametrize(
    ("base", "after", "expected"),
    [
        pytest.param(BASE, "one\n2\nthree\nfour\nfive\n", [_h(1, 4, 8, "two\n", "2\n")], id="one line changed"),
        pytest.param(BASE, "zero\n" + BASE, [_h(1, 0, 0, "", "zero\n")], id="insert at top"),
        pytest.param(BASE, "one\ntwo\nnew\nthree\nfour\nfive\n", [_h(1, 8, 8, "", "new\n")], id="insert in the middle"),
        pytest.param(BASE, BASE + "six\n", [_h(1, 24, 24, "", "six\n")], id="insert at end"),
        pytest.param(BASE, "one\nfour\nfive\n", [_h(1, 4, 14, "two\nthree\n", "")], id="delete two lines"),
        pytest.param(
            BASE,
            "ONE\ntwo\nthree\nFOUR\nfive\n",
            [_h(1, 0, 4, "one\n", "ONE\n"), _h(2, 14, 19, "four\n", "FOUR\n")],
            id="two separated hunks",
        ),
        pytest.param(
            BASE,
            "one\nTWO\nTHREE\nfour\nfive\n",
            [_h(1, 4, 14, "two\nthree\n", "TWO\nTHREE\n")],
            id="adjacent lines form one hunk",
        ),
        pytest.param(
            BASE,
            "one\nTWO\nnew\nthree\nfour\n",
            [_h(1, 4, 8, "two\n", "TWO\nnew\n"), _h(2, 19, 24, "five\n", "")],
            id="replace then insert is one hunk; deletion at end",
        ),
        pytest.param("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", [_h(1, 3, 6, "b\r\n", "B\r\n")], id="CRLF kept"),
        pytest.param("a\r\nb\r\n", "a\r\nb\r\nc\r\n", [_h(1, 6, 6, "", "c\r\n")], id="CRLF insertion at end"),
        pytest.param("a\nb", "a\nb\n", [_h(1, 2, 3, "b", "b\n")], id="final newline added"),
        pytest.param("a\nb\n", "a\nb", [_h(1, 2, 4, "b\n", "b")], id="final newline removed"),
        pytest.param("a\nb", "a\nB", [_h(1, 2, 3, "b", "B")], id="no final newline kept"),
        pytest.param("a\nb", "a\nb\nc", [_h(1, 2, 3, "b", "b\nc")], id="line added after a last line"),
        pytest.param("a\nb", "x\na\nb", [_h(1, 0, 0, "", "x\n")], id="no final newline, insert at top"),
        pytest.param("", "a\nb\n", [_h(1, 0, 0, "", "a\nb\n")], id="empty base"),
        pytest.param("a\nb\n", "", [_h(1, 0, 4, "a\nb\n", "")], id="empty after"),
        pytest.param("a\nb\n", "a\r\nb\n", [_h(1, 0, 2, "a\n", "a\r\n")], id="line ending changed"),
        pytest.param("a\rb\r", "a\rB\r", [_h(1, 2, 4, "b\r", "B\r")], id="lone CR line endings"),
        pytest.param(
            "x = 'é'\ny = '😀'\n", "x = 'é'\ny = '😀!'\n", [_h(1, 8, 16, "y = '😀'\n", "y = '😀!'\n")], id="unicode"
        ),
    ],
)
def test_diff_hunks(base: str, after: str, expected: list[Hunk]) -> None:
    hunks = diff_hunks(base, after)
    assert hunks == expected
    assert apply_hunks(base, hunks) == after


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\r\nb", BASE])
def test_identical_texts_have_no_hunks(text: str) -> None:
    assert diff_hunks(text, text) == []
    assert apply_hunks(text, []) == text


def test_a_line_changed_in_a_large_file_is_one_small_hunk() -> None:
    lines = [f"line {i}\n" for i in range(6000)]
    base = "".join(lines)
    lines[3000] = "changed\n"
    hunks = diff_hunks(base, "".join(lines))
    assert [(h.old_text, h.new_text) for h in hunks] == [("line 3000\n", "changed\n")]
    assert base[hunks[0].start : hunks[0].end] == "line 3000\n"


def test_repeated_lines_do_not_pull_unrelated_blocks_together() -> None:
    # A new function between two others: the hunk is the function, not scattered blank lines and returns.
    base = "def a():\n    return 1\n\n\ndef c():\n    return 3\n"
    after = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n"
    hunks = diff_hunks(base, after)
    assert len(hunks) == 1
    assert hunks[0].old_text == ""
    assert apply_hunks(base, hunks) == after


def test_diff_only_splits_the_changed_region(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    split = edit_lines.split_lines

    def spy(text: str) -> list[str]:
        seen.append(len(text))
        return split(text)

    monkeypatch.setattr(edit_lines, "split_lines", spy)
    base = "".join(f"line {i}\n" for i in range(5000))
    after = base.replace("line 2500\n", "line 2500 changed\n")
    assert len(diff_hunks(base, after)) == 1
    assert max(seen) < 40


# --- apply_hunks ---------------------------------------------------------------------------------------------


def test_apply_any_subset_of_the_hunks() -> None:
    after = "ONE\ntwo\nnew\nthree\nfour\n"  # line 1 changed, a line inserted after 2, line 5 deleted
    h1, h2, h3 = diff_hunks(BASE, after)
    assert apply_hunks(BASE, [h1]) == "ONE\ntwo\nthree\nfour\nfive\n"
    assert apply_hunks(BASE, [h2]) == "one\ntwo\nnew\nthree\nfour\nfive\n"
    assert apply_hunks(BASE, [h3]) == "one\ntwo\nthree\nfour\n"
    assert apply_hunks(BASE, [h3, h1]) == "ONE\ntwo\nthree\nfour\n"
    assert apply_hunks(BASE, [h3, h2, h1]) == after


def test_apply_rejects_a_hunk_that_does_not_match() -> None:
    with pytest.raises(ValueError, match="h1 does not match"):
        apply_hunks("one\n", [Hunk("h1", 0, 4, "two\n", "2\n")])
    with pytest.raises(ValueError, match="h1 does not match"):
        apply_hunks("one\n", [Hunk("h1", 4, 9, "", "x\n")])


def test_apply_rejects_overlapping_hunks() -> None:
    with pytest.raises(ValueError, match="h2 overlaps"):
        apply_hunks(BASE, [Hunk("h1", 0, 8, "one\ntwo\n", ""), Hunk("h2", 4, 8, "two\n", "")])


def test_apply_two_insertions_at_one_point_in_the_order_given() -> None:
    hunks = [Hunk("h1", 4, 4, "", "a\n"), Hunk("h2", 4, 4, "", "b\n"), Hunk("h3", 0, 4, "one\n", "1\n")]
    assert apply_hunks(BASE, hunks) == "1\na\nb\ntwo\nthree\nfour\nfive\n"


# --- line_range ----------------------------------------------------------------------------------------------


def test_line_range() -> None:
    (hunk,) = diff_hunks(BASE, "one\n2\n3\nfour\nfive\n")
    assert line_range(BASE, hunk.start, hunk.end) == (1, 3)
    assert line_range(BASE, 0, 0) == (0, 0)
    assert line_range(BASE, len(BASE), len(BASE)) == (5, 5)
    assert line_range("a\r\nb\rc\nd", 0, 8) == (0, 3)
    assert line_range("a\r\nb\rc\nd", 3, 5) == (1, 2)
    assert line_range("a\r\nb", 2, 2) == (0, 0)  # between "\r" and "\n": the line the "\r" ends
    assert line_range("a\u2028b\n", 0, 4) == (0, 1)  # not a line break for LSP
    with pytest.raises(ValueError, match="outside"):
        line_range("abc", 2, 4)


# --- properties ----------------------------------------------------------------------------------------------

_EOL = re.compile(r"\r\n|\r|\n")
_WORDS = ["", "a", "b", "c", "  d", "é", "😀x", "def f():", "    return 1"]


@st.composite
def line_texts(draw: st.DrawFn, endings: tuple[str, ...] = ("\n", "\r\n")) -> str:
    """Texts made of a few distinct lines (so that diffs find matches), with mixed endings."""
    lines = draw(st.lists(st.sampled_from(_WORDS), max_size=14))
    ending = st.sampled_from(endings)
    text = "".join(line + draw(ending) for line in lines)
    if draw(st.booleans()):
        text += draw(st.sampled_from(_WORDS))  # a last line without an ending (or nothing)
    return text


def _line_starts(text: str) -> set[int]:
    return {0, len(text), *(match.end() for match in _EOL.finditer(text))}


def _lines_of(text: str) -> list[str]:
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", text)


def _check_hunks(base: str, after: str, hunks: list[Hunk]) -> None:
    starts = _line_starts(base)
    assert [hunk.id for hunk in hunks] == [f"h{n}" for n in range(1, len(hunks) + 1)]
    for hunk in hunks:
        assert hunk.start in starts
        assert hunk.end in starts
        assert base[hunk.start : hunk.end] == hunk.old_text
        assert hunk.old_text != hunk.new_text
        old, new = _lines_of(hunk.old_text), _lines_of(hunk.new_text)
        if old and new:  # no context lines at either end of a replacement
            assert old[0] != new[0]
            assert old[-1] != new[-1]
    for first, second in pairwise(hunks):
        assert first.end < second.start  # separated by at least one unchanged line


@settings(max_examples=200)
@given(line_texts(), line_texts())
def test_apply_diff_gives_after(base: str, after: str) -> None:
    hunks = diff_hunks(base, after)
    _check_hunks(base, after, hunks)
    assert apply_hunks(base, hunks) == after


@settings(max_examples=200)
@given(line_texts(("\n", "\r\n", "\r")), line_texts(("\n", "\r\n", "\r")))
def test_apply_diff_gives_after_with_lone_cr(base: str, after: str) -> None:
    hunks = diff_hunks(base, after)
    _check_hunks(base, after, hunks)
    assert apply_hunks(base, hunks) == after


@settings(max_examples=200)
@given(st.text(alphabet="ab\r\n\x0c\u2028é😀"), st.text(alphabet="ab\r\n\x0c\u2028é😀"))
def test_apply_diff_gives_after_on_any_text(base: str, after: str) -> None:
    hunks = diff_hunks(base, after)
    _check_hunks(base, after, hunks)
    assert apply_hunks(base, hunks) == after


@settings(max_examples=200)
@given(line_texts(), line_texts(), st.data())
def test_any_subset_applies_independently(base: str, after: str, data: st.DataObject) -> None:
    hunks = diff_hunks(base, after)
    chosen = data.draw(st.lists(st.sampled_from(hunks), unique=True) if hunks else st.just([]))
    # The expected text, built line by line: each chosen hunk's lines replaced by its new lines.
    lines = _lines_of(base)
    for hunk in sorted(chosen, key=lambda h: h.start, reverse=True):
        first, last = line_range(base, hunk.start, hunk.end)
        if hunk.end == len(base):  # a last line without an ending: line_range puts the end on that line
            last = len(lines)
        lines[first:last] = [hunk.new_text]
    assert apply_hunks(base, chosen) == "".join(lines)


@settings(max_examples=200)
@given(line_texts(("\n", "\r\n", "\r")), line_texts(("\n", "\r\n", "\r")))
def test_patience_anchors_give_valid_hunks(base: str, after: str) -> None:
    # Large regions are cut by unique-line anchors first; force that path on small texts.
    with patch.object(edit_lines, "_SMALL", 0):
        hunks = diff_hunks(base, after)
    _check_hunks(base, after, hunks)
    assert apply_hunks(base, hunks) == after


def test_large_texts_with_moves_and_repeats() -> None:
    rng = random.Random(5)
    words = ["", "}", "    return x", "pass", *(f"unique {i}" for i in range(300))]
    for _ in range(40):
        base_lines = [rng.choice(words) + "\n" for _ in range(600)]
        after_lines = list(base_lines)
        for _ in range(rng.randint(1, 15)):
            index = rng.randrange(len(after_lines))
            match rng.randrange(4):
                case 0:
                    after_lines[index] = rng.choice(words) + "\n"
                case 1:
                    del after_lines[index]
                case 2:
                    after_lines.insert(index, rng.choice(words) + "\n")
                case _:  # move a block
                    block = after_lines[index : index + 5]
                    del after_lines[index : index + 5]
                    after_lines[rng.randrange(len(after_lines) + 1) : 0] = block
        base, after = "".join(base_lines), "".join(after_lines)
        hunks = diff_hunks(base, after)
        _check_hunks(base, after, hunks)
        assert apply_hunks(base, hunks) == after
