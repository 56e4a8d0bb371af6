"""``edits.unified``: the unified diff over the code base's line diff, as difflib and git number it, and fast
where difflib is not."""

from __future__ import annotations

import difflib
import random

import pytest

from agentls.edits.lines import split_lines
from agentls.edits.unified import unified_diff


def apply(text: str, diff: str) -> str:
    """Apply a unified diff (a test's own reader: context must match, as patch checks)."""
    old = split_lines(text)
    out: list[str] = []
    at = 0
    lines = diff.splitlines(keepends=True)[2:]
    k = 0
    while k < len(lines):
        header = lines[k]
        assert header.startswith("@@ -"), header
        start_text = header[4:].split(" ")[0].split(",")
        start = int(start_text[0]) - (1 if len(start_text) == 1 or start_text[1] != "0" else 0)
        out.extend(old[at:start])
        at = start
        k += 1
        while k < len(lines) and not lines[k].startswith("@@"):
            mark, body = lines[k][0], lines[k][1:]
            if k + 1 < len(lines) and lines[k + 1] == "\\ No newline at end of file\n":
                body = body[:-1]
                k += 1
            if mark in " -":
                assert old[at] == body, (old[at], body)
                at += 1
            if mark in " +":
                out.append(body)
            k += 1
    return "".join(out + old[at:])


CASES = [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("", "new\n"),
    ("gone\n", ""),
    ("x\ny", "x\ny\n"),  # the final newline added
    ("x\ny\n", "x\nz"),  # removed, and the line changed
    ("".join(f"{i}\n" for i in range(40)), "".join(f"{i}\n" for i in range(40) if i not in (3, 20, 21, 36))),
    ("a\r\nb\r\n", "a\r\nc\r\n"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_same_as_difflib_where_the_alignment_is_the_same(before: str, after: str) -> None:
    ours = unified_diff(before, after, "f.py")
    theirs = "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                     for line in difflib.unified_diff(split_lines(before), split_lines(after), "a/f.py", "b/f.py"))
    assert ours.text == theirs
    assert apply(before, ours.text) == after


def test_new_and_deleted_files_name_dev_null() -> None:
    assert unified_diff(None, "a\n", "f.py").text == "--- /dev/null\n+++ b/f.py\n@@ -0,0 +1 @@\n+a\n"
    assert unified_diff("a\n", None, "f.py").text == "--- a/f.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"
    assert unified_diff("same\n", "same\n", "f.py").text == ""


def test_random_edits_apply_and_count() -> None:
    rng = random.Random(5)
    for _ in range(200):
        pieces = ["x\n", "y\n", "}\n", "\n", f"{rng.random()}\n"]
        before = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        lines = split_lines(before)
        for _ in range(rng.randint(1, 6)):
            at = rng.randint(0, len(lines))
            lines[at:at + rng.randint(0, 3)] = [rng.choice(["x\n", "new\n", "}\n"]) for _ in range(rng.randint(0, 3))]
        after = "".join(lines)
        diff = unified_diff(before, after, "f.py")
        assert apply(before, diff.text) == after
        body = diff.text.splitlines()[2:]
        assert diff.added == sum(1 for line in body if line.startswith("+"))
        assert diff.removed == sum(1 for line in body if line.startswith("-"))


def test_a_large_file_with_every_other_line_changed() -> None:
    """difflib takes tens of seconds on this (the dashboard used to, for such a change); this takes ~0.1 s."""
    before = "".join(f"line {i} = {i * 7}\n" for i in range(20_000))
    after = "".join(f"line {i} = {i * 7}\n" if i % 2 else f"line {i} = changed\n" for i in range(20_000))
    diff = unified_diff(before, after, "big.py")
    assert (diff.added, diff.removed) == (10_000, 10_000)
    assert apply(before, diff.text) == after
