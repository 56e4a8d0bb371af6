"""rebase: hunks made against a base carried onto the user's newer text, and the conflict rules' boundaries."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentls.edits import lines as edit_lines
from agentls.edits.hunks import Hunk, apply_hunks, diff_hunks
from agentls.edits.rebase import Rebased, rebase

LINES = [f"line {i}\n" for i in range(10)]
BASE = "".join(LINES)


def _text(*replacements: tuple[int, str]) -> str:
    """BASE with some lines replaced (a replacement may hold several lines, or none)."""
    lines = list(LINES)
    for index, text in replacements:
        lines[index] = text
    return "".join(lines)


# The agent rewrites lines 4-5, and (for the two-hunk cases) line 8.
AGENT = _text((4, "LINE 4\n"), (5, "LINE 5\n"))
(HUNK,) = diff_hunks(BASE, AGENT)


def _merged(current: str, rebased: Rebased) -> str:
    return apply_hunks(current, rebased.applied)


def test_no_user_change_applies_every_hunk_unchanged() -> None:
    hunks = diff_hunks(BASE, _text((1, ""), (4, "x\n"), (9, "y\nz\n")))
    rebased = rebase(BASE, BASE, hunks)
    assert rebased == Rebased(hunks, [])


def test_hunks_must_match_the_base() -> None:
    with pytest.raises(ValueError, match="h1 does not match"):
        rebase(BASE, BASE, [Hunk("h1", 0, 7, "line 9\n", "")])


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        pytest.param(
            _text((1, "line one, typed\n")),
            _text((1, "line one, typed\n"), (4, "LINE 4\n"), (5, "LINE 5\n")),
            id="line above changed",
        ),
        pytest.param("new first line\n" + BASE, "new first line\n" + AGENT, id="lines added at the top"),
        pytest.param(
            _text((0, ""), (1, "")), _text((0, ""), (1, ""), (4, "LINE 4\n"), (5, "LINE 5\n")), id="lines deleted above"
        ),
        pytest.param(
            _text((8, "line 8!\n")), _text((4, "LINE 4\n"), (5, "LINE 5\n"), (8, "line 8!\n")), id="line below changed"
        ),
        pytest.param(BASE + "end\n", AGENT + "end\n", id="line added at the end"),
        # The boundary: lines right next to the hunk's own lines.
        pytest.param(
            _text((3, "line 3 edited\n")),
            _text((3, "line 3 edited\n"), (4, "LINE 4\n"), (5, "LINE 5\n")),
            id="the line just above changed",
        ),
        pytest.param(
            _text((6, "line 6 edited\n")),
            _text((4, "LINE 4\n"), (5, "LINE 5\n"), (6, "line 6 edited\n")),
            id="the line just below changed",
        ),
        pytest.param(
            _text((3, "line 3\nabove\n")),
            _text((3, "line 3\nabove\n"), (4, "LINE 4\n"), (5, "LINE 5\n")),
            id="a line added directly above",
        ),
        pytest.param(
            _text((5, "line 5\nbelow\n")),
            _text((4, "LINE 4\n"), (5, "LINE 5\nbelow\n")),
            id="a line added directly below",
        ),
        pytest.param(
            _text((3, "")), _text((3, ""), (4, "LINE 4\n"), (5, "LINE 5\n")), id="the line just above deleted"
        ),
        pytest.param(
            _text((6, "")), _text((4, "LINE 4\n"), (5, "LINE 5\n"), (6, "")), id="the line just below deleted"
        ),
    ],
)
def test_user_change_outside_the_hunk_moves_it(current: str, expected: str) -> None:
    rebased = rebase(BASE, current, [HUNK])
    assert rebased.conflicts == []
    (moved,) = rebased.applied
    assert moved.id == HUNK.id
    assert current[moved.start : moved.end] == moved.old_text == HUNK.old_text
    assert _merged(current, rebased) == expected


def test_offsets_shift_by_what_the_user_added_above() -> None:
    current = _text((1, "line 1 and more\n"), (2, ""))
    (moved,) = rebase(BASE, current, [HUNK]).applied
    assert moved.start - HUNK.start == len(current) - len(BASE)
    assert (moved.old_text, moved.new_text) == (HUNK.old_text, HUNK.new_text)


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(_text((4, "line 4.\n")), id="one character in the first line"),
        pytest.param(_text((5, "Line 5\n")), id="one character in the last line"),
        pytest.param(_text((4, "line 4\ninside\n")), id="a line added between the hunk's lines"),
        pytest.param(_text((4, ""), (5, "")), id="the whole region deleted"),
        pytest.param(_text((5, "")), id="one of its lines deleted"),
        pytest.param(_text((3, "line 3"), (4, "line 4\n")), id="line above joined with the first line"),
        pytest.param(
            _text(
                (5, "line 5"),
            ),
            id="last line joined with the line below",
        ),
        pytest.param("", id="everything deleted"),
        pytest.param(_text((4, "line 4\r\n")), id="line ending changed"),
    ],
)
def test_user_change_to_the_hunks_lines_is_a_conflict(current: str) -> None:
    rebased = rebase(BASE, current, [HUNK])
    assert rebased == Rebased([], [HUNK])


def test_two_hunks_one_conflicting() -> None:
    h1, h2 = diff_hunks(BASE, _text((2, "LINE 2\n"), (7, "LINE 7\n")))
    current = "top\n" + _text((7, "line 7, mine\n"))
    rebased = rebase(BASE, current, [h1, h2])
    assert rebased.conflicts == [h2]
    assert [hunk.id for hunk in rebased.applied] == ["h1"]
    assert _merged(current, rebased) == "top\n" + _text((2, "LINE 2\n"), (7, "line 7, mine\n"))


def test_the_same_change_as_the_agents_applies_as_a_no_op() -> None:
    rebased = rebase(BASE, AGENT, [HUNK])
    assert rebased.conflicts == []
    (same,) = rebased.applied
    assert same.old_text == same.new_text == "LINE 4\nLINE 5\n"
    assert _merged(AGENT, rebased) == AGENT


def test_the_same_change_plus_more_is_a_conflict() -> None:
    current = _text((4, "LINE 4\n"), (5, "LINE 5\n"), (6, "line 6 too\n"))
    assert rebase(BASE, current, [HUNK]).conflicts == [HUNK]


def test_part_of_the_agents_change_is_a_conflict() -> None:
    assert rebase(BASE, _text((4, "LINE 4\n")), [HUNK]).conflicts == [HUNK]


# --- pure insertions: the line above and the line below the insertion point are its anchors ------------------

INSERTED = _text((4, "line 4\nnew\n"))  # the agent inserts "new" between lines 4 and 5
(INSERTION,) = diff_hunks(BASE, INSERTED)


def test_insertion_hunk_shape() -> None:
    assert INSERTION.start == INSERTION.end == BASE.index("line 5")


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(_text((4, "line 4!\n")), id="line above changed"),
        pytest.param(_text((5, "line 5!\n")), id="line below changed"),
        pytest.param(_text((4, "")), id="line above deleted"),
        pytest.param(_text((5, "")), id="line below deleted"),
        pytest.param(_text((4, "line 4\nmine\n")), id="user lines at the same point"),
    ],
)
def test_insertion_conflicts_when_its_anchors_change(current: str) -> None:
    assert rebase(BASE, current, [INSERTION]).conflicts == [INSERTION]


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        pytest.param(_text((3, "line 3!\n")), _text((3, "line 3!\n"), (4, "line 4\nnew\n")), id="two lines above"),
        pytest.param(_text((6, "line 6!\n")), _text((4, "line 4\nnew\n"), (6, "line 6!\n")), id="two lines below"),
        pytest.param(
            _text((3, "line 3\nmine\n")),
            _text((3, "line 3\nmine\n"), (4, "line 4\nnew\n")),
            id="a line added above the line above",
        ),
        pytest.param(
            _text((5, "line 5\nmine\n")),
            _text((4, "line 4\nnew\n"), (5, "line 5\nmine\n")),
            id="a line added below the line below",
        ),
    ],
)
def test_insertion_moves_when_its_anchors_are_untouched(current: str, expected: str) -> None:
    rebased = rebase(BASE, current, [INSERTION])
    assert rebased.conflicts == []
    assert _merged(current, rebased) == expected


def test_insertion_at_the_top_conflicts_with_user_lines_at_the_top() -> None:
    (hunk,) = diff_hunks(BASE, "import os\n" + BASE)
    assert rebase(BASE, "import sys\n" + BASE, [hunk]).conflicts == [hunk]
    assert rebase(BASE, _text((0, "line 0 edited\n")), [hunk]).conflicts == [hunk]
    rebased = rebase(BASE, _text((1, "line 1 edited\n")), [hunk])
    assert _merged(_text((1, "line 1 edited\n")), rebased) == "import os\n" + _text((1, "line 1 edited\n"))


def test_insertion_at_the_end_conflicts_with_user_lines_at_the_end() -> None:
    (hunk,) = diff_hunks(BASE, BASE + "agent\n")
    assert rebase(BASE, BASE + "user\n", [hunk]).conflicts == [hunk]
    assert rebase(BASE, BASE + "agent\n", [hunk]).applied[0].new_text == "agent\n"  # the same lines: a no-op
    assert rebase(BASE, _text((8, "line 8!\n")), [hunk]).conflicts == []


def test_insertion_into_an_empty_file() -> None:
    (hunk,) = diff_hunks("", "agent\n")
    assert rebase("", "user\n", [hunk]).conflicts == [hunk]


# --- line endings and the end of the file --------------------------------------------------------------------


def test_crlf_file() -> None:
    base = BASE.replace("\n", "\r\n")
    agent = AGENT.replace("\n", "\r\n")
    (hunk,) = diff_hunks(base, agent)
    current = "top\r\n" + base.replace("line 8", "line eight")
    rebased = rebase(base, current, [hunk])
    assert _merged(current, rebased) == "top\r\n" + agent.replace("line 8", "line eight")
    assert rebase(base, base.replace("line 4\r\n", "line 4\n"), [hunk]).conflicts == [hunk]


def test_last_line_without_newline() -> None:
    base = "a\nb\nc"
    (hunk,) = diff_hunks(base, "a\nb\nC")
    assert _merged("A\nb\nc", rebase(base, "A\nb\nc", [hunk])) == "A\nb\nC"
    # Adding a line after it changes that last line (it gains a newline): a conflict, as in git.
    assert rebase(base, "a\nb\nc\nd", [hunk]).conflicts == [hunk]


def test_accepting_hunks_one_at_a_time() -> None:
    after = _text((1, "LINE 1\n"), (3, "line 3\nnew\n"), (6, ""), (9, "LINE 9\n"))
    hunks = diff_hunks(BASE, after)
    assert len(hunks) == 4
    current = BASE
    for hunk in (hunks[2], hunks[0], hunks[3], hunks[1]):
        rebased = rebase(BASE, current, [hunk])
        assert rebased.conflicts == []
        current = _merged(current, rebased)
    assert current == after


# --- large files ---------------------------------------------------------------------------------------------


def test_large_file_diffs_only_the_changed_region(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "".join(f"line {i}\n" for i in range(6000))
    after = base.replace("line 3000\n", "LINE 3000\n").replace("line 5000\n", "")
    hunks = diff_hunks(base, after)
    seen: list[int] = []
    split = edit_lines.split_lines

    def spy(text: str) -> list[str]:
        seen.append(len(text))
        return split(text)

    monkeypatch.setattr(edit_lines, "split_lines", spy)
    current = "# top\n" + base
    rebased = rebase(base, current, hunks)
    assert max(seen) < 20
    assert _merged(current, rebased) == "# top\n" + after


# --- properties ----------------------------------------------------------------------------------------------

Op = tuple[str, int]  # ("change" | "delete" | "insert", base line index; "insert" goes before that line)


def _apply_ops(lines: list[str], eol: str, agent: list[Op], user: list[Op]) -> str:
    """Both sides' line edits applied to the base lines (they touch different lines)."""
    out: list[str] = []
    for index in range(len(lines) + 1):
        for side, ops in (("user", user), ("agent", agent)):
            if ("insert", index) in ops:
                out.append(f"{side} inserted {index}{eol}")
        if index == len(lines):
            break
        if ("delete", index) in agent or ("delete", index) in user:
            continue
        if ("change", index) in agent:
            out.append(f"agent changed {index}{eol}")
        elif ("change", index) in user:
            out.append(f"user changed {index}{eol}")
        else:
            out.append(lines[index])
    return "".join(out)


@st.composite
def far_apart_edits(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """base, the agent's text, the user's text, and the merge of both; the user's edits are >= 2 lines away."""
    size = draw(st.integers(3, 40))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [f"base {i} {draw(st.sampled_from(['', 'é', '😀']))}{eol}" for i in range(size)]
    kinds = st.sampled_from(["change", "delete", "insert"])
    agent = draw(st.lists(st.tuples(kinds, st.integers(0, size - 1)), min_size=1, max_size=6, unique=True))
    # Lines an agent edit touches: its line; an insertion touches the lines on both sides of it.
    touched = set()
    for kind, index in agent:
        touched.update({index - 1, index} if kind == "insert" else {index})
    blocked = {near for line in touched for near in range(line - 2, line + 3)}
    free = [i for i in range(size) if i not in blocked and (i - 1) not in blocked]
    user: list[Op] = []
    if free:
        user = draw(st.lists(st.tuples(kinds, st.sampled_from(free)), max_size=6, unique=True))
    if size - 1 not in blocked and size - 2 not in blocked and draw(st.booleans()):
        user.append(("insert", size))  # lines added at the end of the file
    base = "".join(lines)
    return (
        base,
        _apply_ops(lines, eol, agent, []),
        _apply_ops(lines, eol, [], user),
        _apply_ops(lines, eol, agent, user),
    )


@settings(max_examples=200)
@given(far_apart_edits())
def test_far_user_edits_never_conflict(case: tuple[str, str, str, str]) -> None:
    base, after, current, merged = case
    hunks = diff_hunks(base, after)
    rebased = rebase(base, current, hunks)
    assert rebased.conflicts == []
    assert [hunk.id for hunk in rebased.applied] == [hunk.id for hunk in hunks]
    assert apply_hunks(current, rebased.applied) == merged


_WORDS = ["", "a", "b", "c", "é", "😀"]
_texts = st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(["\n", "\n", "\r\n", "\r"])), max_size=12).map(
    lambda lines: "".join(word + eol for word, eol in lines)
)


@settings(max_examples=200)
@given(_texts, _texts, _texts)
def test_rebase_is_always_consistent(base: str, after: str, current: str) -> None:
    hunks = diff_hunks(base, after)
    rebased = rebase(base, current, hunks)
    assert sorted(h.id for h in rebased.applied + rebased.conflicts) == sorted(h.id for h in hunks)
    for hunk in rebased.applied:
        original = next(h for h in hunks if h.id == hunk.id)
        assert current[hunk.start : hunk.end] == hunk.old_text
        assert hunk.old_text == hunk.new_text or (hunk.old_text, hunk.new_text) == (
            original.old_text,
            original.new_text,
        )
    apply_hunks(current, rebased.applied)  # never overlapping


@settings(max_examples=200)
@given(_texts, _texts, st.randoms(use_true_random=False))
def test_accepting_hunks_one_by_one_in_any_order_gives_after(base: str, after: str, rng: random.Random) -> None:
    hunks = diff_hunks(base, after)
    order = list(hunks)
    rng.shuffle(order)
    current = base
    for number, hunk in enumerate(order):
        rebased = rebase(base, current, [hunk], accepted=order[:number])
        assert rebased.conflicts == []
        current = apply_hunks(current, rebased.applied)
    assert current == after


def test_accepted_hunks_are_not_taken_for_user_changes() -> None:
    # Repeated lines: the diff of base -> (base + h1, h2, h4) does not find h2 where it was made, and would
    # report h3 as a conflict; told which hunks were accepted, rebase knows.
    base, after = "\nb\n\nb\n\na\n", "a\n\n\n\n"
    h1, h2, h3, h4 = diff_hunks(base, after)
    current = apply_hunks(base, [h1, h2, h4])
    assert rebase(base, current, [h3]).conflicts == [h3]
    rebased = rebase(base, current, [h3], accepted=[h1, h2, h4])
    assert rebased.conflicts == []
    assert apply_hunks(current, rebased.applied) == after
    # The user's own changes still count.
    typed = "x\n" + current
    (moved,) = rebase(base, typed, [h3], accepted=[h1, h2, h4]).applied
    assert apply_hunks(typed, [moved]) == "x\n" + after
    assert rebase(base, current.replace("b", "B"), [h3], accepted=[h1, h2, h4]).conflicts == [h3]
    with pytest.raises(ValueError, match="overlaps the accepted hunk h2"):
        rebase(base, current, [h2], accepted=[h1, h2])
