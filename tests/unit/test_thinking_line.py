"""The thinking summary as one status line: updated per complete sentence, cut at a word."""

from __future__ import annotations

from agentls.agent.events import ThinkingLine, shorten


def test_a_line_comes_only_when_a_sentence_is_complete() -> None:
    line = ThinkingLine(width=60)
    pieces = ["The loop ", "is off by", " one. I should ", "look at range", "(n + 1)", "\n"]
    shown = [line.feed(piece) for piece in pieces]
    assert shown == [None, None, "The loop is off by one.", None, None, "I should look at range(n + 1)"]
    line.reset()
    assert line.feed("half a sent") is None
    assert line.feed("ence.\n") == "half a sentence."  # reset drops only what came before it


def test_long_sentences_are_cut_at_a_word() -> None:
    text = "Reading the configuration loader to see how layers are merged before I change anything."
    assert shorten(text, 40) == "Reading the configuration loader to see…"
    assert len(shorten(text, 40)) <= 40
    assert shorten("short\n  and   flat", 40) == "short and flat"
