"""LSP positions (UTF-16 / UTF-8 / UTF-32) <-> code point offsets, and the incremental line index."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentls.lsp.convert import UTF8, UTF16, UTF32, LineIndex

TEXT = "a😀b\r\nc中d\re\n\nlast"


def test_line_starts_follow_lsp_line_breaks() -> None:
    index = LineIndex(TEXT)
    assert index.line_count == 5
    assert [index.offset(line, 0) for line in range(5)] == [0, 5, 9, 11, 12]


def test_utf16_counts_surrogate_pairs() -> None:
    index = LineIndex(TEXT)
    assert index.offset(0, 3) == 2  # 'a' (1 unit) + '😀' (2 units) -> before 'b'
    assert index.position(2) == (0, 3)
    assert index.offset(0, 2) == 1  # inside the surrogate pair: rounds down to the emoji's start


def test_utf8_and_utf32() -> None:
    index = LineIndex(TEXT)
    assert index.offset(1, 4, UTF8) == 7  # 'c' (1 byte) + '中' (3 bytes)
    assert index.position(7, UTF8) == (1, 4)
    assert index.offset(1, 2, UTF32) == 7
    assert index.position(7, UTF32) == (1, 2)


def test_positions_past_the_end_clamp() -> None:
    index = LineIndex(TEXT)
    assert index.offset(0, 99) == 3  # end of line 0's content, before "\r\n"
    assert index.offset(99, 0) == len(TEXT)
    assert index.position(10_000) == index.position(len(TEXT))


ALPHABET = st.sampled_from([*"ab \n\r\t😀中é", "\r\n", "\u2028"])
texts = st.lists(ALPHABET, max_size=40).map("".join)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    text = draw(texts)
    steps = []
    length = len(text)
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(0, length))
        end = draw(st.integers(start, length))
        new = draw(texts)
        steps.append((start, end, new))
        length += len(new) - (end - start)
    return text, steps


@settings(max_examples=300, deadline=None)
@given(edits())
def test_incremental_replace_matches_a_fresh_index(case: tuple[str, list[tuple[int, int, str]]]) -> None:
    text, steps = case
    index = LineIndex(text)
    for start, end, new in steps:
        index.replace(start, end, new)
        text = text[:start] + new + text[end:]
        fresh = LineIndex(text)
        assert index.text == text
        assert index._starts == fresh._starts


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from([UTF8, UTF16, UTF32]))
def test_offset_and_position_round_trip(text: str, encoding: str) -> None:
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        line, character = index.position(offset, encoding)
        back = index.offset(line, character, encoding)
        # Offsets inside a "\r\n" pair are not addressable in LSP; everything else round-trips.
        if not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"):
            assert back == offset, (text, offset, line, character)
