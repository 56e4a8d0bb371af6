"""Throughput of ``errors()`` over every .py file of a real project (Django's sdist, from the corpus cache).

Baseline, measured in the same run: a bare ``parser.parse(text.encode())`` of the same files, so the figure
shows what the error scan and the wrapper add on top of tree-sitter. Also ``introduced_errors`` on a
one-line change of each of the 20 largest files (two parses and a diff). Falls back to generated files when
the cache cannot be filled (offline).

    python bench/validate_throughput.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tree_sitter

from _corpus import python_files
from agentls.syntax.parser import get_language
from agentls.syntax.validate import errors, introduced_errors
from syntax import generated_python


def corpus() -> tuple[list[str], str]:
    paths = python_files()
    if paths:
        return [p.read_text(encoding="utf-8", errors="replace") for p in paths], "django 5.2.19 sdist"
    return [generated_python(200 + 37 * (i % 40)) for i in range(2000)], "generated files (offline)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the corpus (the best is shown)")
    args = parser.parse_args()

    texts, origin = corpus()
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(f"corpus: {len(texts)} .py files, {megabytes:.1f} MB ({origin})")

    language = get_language("python")
    assert language is not None
    bare = tree_sitter.Parser(language)

    def run_bare() -> None:
        for text in texts:
            bare.parse(text.encode())

    failing = 0

    def run_ours() -> None:
        nonlocal failing
        failing = sum(1 for text in texts if errors(text, "python"))

    for label, function in (("bare parse (baseline)", run_bare), ("errors()", run_ours)):
        best = min(_timed(function) for _ in range(args.repeat))
        print(f"  {label:<24} {len(texts) / best:8.0f} files/s  {megabytes / best:6.2f} MB/s  ({best:.2f} s)")
    print(f"  files with errors: {failing}")

    largest = sorted(texts, key=len, reverse=True)[:20]
    samples = []
    for text in largest:
        middle = text.index("\n", len(text) // 2) + 1
        after = text[:middle] + "value = compute(1, 2)\n" + text[middle:]
        began = time.perf_counter()
        introduced_errors(text, after, "python")
        samples.append(time.perf_counter() - began)
    lines = statistics.median(t.count("\n") for t in largest)
    print(f"introduced_errors, one line added, 20 largest files (median {lines:.0f} lines):")
    print(f"  median {statistics.median(samples) * 1e3:.1f} ms, max {max(samples) * 1e3:.1f} ms")
    return 0


def _timed(function: Callable[[], object]) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


if __name__ == "__main__":
    sys.exit(main())
