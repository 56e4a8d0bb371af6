"""Building a proposal for a 5,000-line Python file with 20 hunks, and rebasing it onto the user's newer text.

Timed per run (median and p99 over ``--runs``; the proposal, its baseline and their parts one after the
other in each run, so that the noise of a busy machine hits them alike):
- proposal: ``build_proposal`` (the line diff into hunks) + ``introduced_errors(base, after, "python")``, what
  the workflow does before the user sees the proposal, with the base's tree kept from the start of the
  session (``validate.prepare``): the new text is reparsed incrementally from it. Target: median <= 20 ms.
- baselines, measured in the same run on the same texts: the same with a fresh parse of the new text (what
  ``introduced_errors`` cost before, and costs still when no tree of the base is kept); a bare
  ``difflib.unified_diff`` of the lines, and ``difflib.SequenceMatcher(autojunk=False)`` on the lines (what
  ``diff_hunks`` would cost without its anchors).
- the parts on their own: the byte edits the base's tree is told of, parsing the base (once per session),
  and ``rebase`` of the 20 hunks onto the text with a user edit at the top of the file (the usual case), at
  the top and the bottom (the diff then covers the whole file), and with no edit.

The file is Django's source (from the corpus cache, see ``_corpus.py``) cut to 5,000 lines, or generated code
when the cache cannot be filled (much more repetitive than real code: tree-sitter reuses less of its tree).

    python bench/proposals.py [--runs 50] [--lines 5000] [--hunks 20]
"""

from __future__ import annotations

import argparse
import difflib
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agentls.edits import apply_hunks, build_proposal, rebase
from agentls.syntax import bases
from agentls.syntax.byte_diff import byte_edits
from agentls.syntax.parser import encode
from agentls.syntax.validate import errors, introduced_errors, prepare
from syntax import generated_python, python_source, timed
from syntax import row as syntax_row

TARGET_MS = 20.0


def python_file(lines: int) -> tuple[str, str]:
    """``lines`` lines of real Python (or generated when offline), cut where the code is still valid.

    The source is whole files joined and cut at a top-level statement, and made up to ``lines`` with
    generated code.
    """
    text, origin = python_source(lines)
    kept = text.splitlines(keepends=True)
    for cut in range(len(kept) - 1, 0, -1):
        if kept[cut][:1].isalpha() and not kept[cut - 1].strip():
            head = "".join(kept[:cut])
            if errors(head, "python") == []:
                return head + generated_python(lines - cut), origin
    return generated_python(lines), "generated code"


def agent_edits(text: str, count: int) -> str:
    """``count`` separate edits spread over the file, cycling through the kinds an agent makes.

    A line changed (a comment appended), a comment line inserted, a blank line deleted, three lines changed.
    """
    lines = text.splitlines(keepends=True)
    step = len(lines) // (count + 1)
    chosen: list[int] = []
    for number in range(count):
        index = max(step * (number + 1), chosen[-1] + 8 if chosen else 0)
        while not lines[index].strip() or lines[index].rstrip().endswith("\\"):
            index += 1
        chosen.append(index)
    out = list(lines)
    # Edit from the bottom up so the indexes above stay valid.
    for number, index in reversed(list(enumerate(chosen))):
        kind = number % 4
        if kind == 0:
            out[index] = out[index].rstrip("\n") + "  # edited by the agent\n"
        elif kind == 1:
            indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
            out.insert(index, f"{indent}# the agent's note {number}\n")
        elif kind == 2:
            blank = next(i for i in range(index, len(lines)) if not lines[i].strip())
            del out[blank]
        else:
            for offset in range(3):
                line = out[index + offset]
                if line.strip() and not line.rstrip().endswith("\\"):
                    out[index + offset] = line.rstrip("\n") + "  # tidied\n"
    return "".join(out)


def row(label: str, samples: list[float]) -> str:
    return syntax_row(label, samples, width=58, digits=2)


def in_turn(functions: list[Callable[[], object]], runs: int) -> list[list[float]]:
    """Samples of each function, timed one after the other in each run (so that noise hits them alike)."""
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, times in zip(functions, samples, strict=True):
            began = time.perf_counter()
            function()
            times.append(time.perf_counter() - began)
    return samples


def parse_base(base: str, runs: int) -> list[float]:
    """``prepare`` of the base, from nothing kept (the old tree is dropped outside the timed region)."""
    samples = []
    for _ in range(runs):
        bases.clear()
        began = time.perf_counter()
        prepare(base, "python")
        samples.append(time.perf_counter() - began)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--hunks", type=int, default=20)
    args = parser.parse_args()

    base, origin = python_file(args.lines)
    after = agent_edits(base, args.hunks)
    proposal = build_proposal(path="big.py", uri="file:///big.py", version=1, base=base, after=after, summary="")
    assert proposal is not None
    assert apply_hunks(base, proposal.hunks) == after
    print(f"file: {base.count(chr(10))} lines, {len(base) / 1e3:.0f} kB ({origin}); {len(proposal.hunks)} hunks")
    print(f"syntax errors: {len(errors(base, 'python') or [])} in the base, {len(errors(after, 'python') or [])} after")

    def build() -> None:
        built = build_proposal(path="big.py", uri="file:///big.py", version=1, base=base, after=after, summary="")
        assert built is not None
        assert introduced_errors(base, after, "python") == []

    def build_with_a_fresh_parse() -> None:
        """As before: a fresh parse of the new text (the base is parsed too only when that finds errors)."""
        built = build_proposal(path="big.py", uri="file:///big.py", version=1, base=base, after=after, summary="")
        assert built is not None
        assert errors(after, "python") == []

    def bare_diff() -> None:
        "".join(difflib.unified_diff(base.splitlines(keepends=True), after.splitlines(keepends=True)))

    def bare_matcher() -> None:
        difflib.SequenceMatcher(
            None, base.splitlines(keepends=True), after.splitlines(keepends=True), autojunk=False
        ).get_opcodes()

    first_line_end = base.index("\n") + 1
    top = "# the user's new first line\n" + base
    top_and_bottom = base[:first_line_end] + "# the user typed here\n" + base[first_line_end:] + "# and here\n"
    hunks = proposal.hunks
    merged_top = "# the user's new first line\n" + after
    merged_both = after[:first_line_end] + "# the user typed here\n" + after[first_line_end:] + "# and here\n"
    for current, merged in ((top, merged_top), (top_and_bottom, merged_both)):
        rebased = rebase(base, current, hunks)
        assert not rebased.conflicts
        assert apply_hunks(current, rebased.applied) == merged

    base_data, after_data = encode(base), encode(after)
    edits = byte_edits(base_data, after_data)
    print(f"byte edits the base's tree is told of: {len(edits)}, "
          f"{sum(e.old_end - e.old_start + e.new_end - e.new_start for e in edits)} bytes in all")

    gc.disable()
    try:
        parsing = parse_base(base, max(3, args.runs // 5))  # leaves the base kept, as at a session's start
        assert bases.recall(base, "python") is not None  # else "from the base's tree" would time a fresh parse
        build()  # warm up: grammar load, allocator
        build_with_a_fresh_parse()
        fresh, ours, alone, validation, edit_finding, fresh_parse = in_turn(
            [
                build_with_a_fresh_parse,
                build,
                lambda: build_proposal(path="p", uri="u", version=1, base=base, after=after, summary=""),
                lambda: introduced_errors(base, after, "python"),
                lambda: byte_edits(base_data, after_data),
                lambda: errors(after, "python"),
            ],
            args.runs,
        )
        results = [
            ("difflib.unified_diff (baseline)", timed(bare_diff, args.runs)),
            ("difflib.SequenceMatcher, autojunk off (baseline)", timed(bare_matcher, max(3, args.runs // 5))),
            ("build_proposal + validation by a fresh parse (baseline)", fresh),
            ("build_proposal + introduced_errors from the base's tree", ours),
            ("  build_proposal alone", alone),
            ("  introduced_errors from the base's tree alone", validation),
            ("    of which the byte edits", edit_finding),
            ("  a fresh parse of the new text alone (baseline)", fresh_parse),
            ("parsing the base (once per session, at its start)", parsing),
            ("rebase, user edit at the top", timed(lambda: rebase(base, top, hunks), args.runs)),
            (
                "rebase, user edits at the top and the bottom",
                timed(lambda: rebase(base, top_and_bottom, hunks), args.runs),
            ),
            ("rebase, no user edit", timed(lambda: rebase(base, base, hunks), args.runs)),
        ]
    finally:
        gc.enable()
    for label, samples in results:
        print(row(label, samples))
    median = statistics.median(ours) * 1e3
    before = statistics.median(fresh) * 1e3
    diff = statistics.median(alone) * 1e3
    verdict = "PASS" if median <= TARGET_MS else "FAIL"
    print(f"{verdict}: proposal median {median:.2f} ms (target <= {TARGET_MS:.0f} ms; {before:.2f} ms with a fresh "
          f"parse in the same run), of which the diff {diff:.2f} ms")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
