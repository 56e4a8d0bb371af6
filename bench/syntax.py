"""One-line edits in a 20,000-line Python file: SyntaxDocument.edit + errors() beside a bare reparse.

Baselines, measured in the same run on the same edits:
- bare: py-tree-sitter's own incremental reparse, ``tree.edit(...)`` + ``parser.parse(new_bytes, old_tree)``,
  with the new bytes and the row/column points computed outside the timed region;
- full: a fresh ``parser.parse(new_bytes)`` of the whole file.
Also: the cost of finding the errors of a broken tree by a full walk against the ``has_error`` descent.

The file is Django's source (from the corpus cache, see ``_corpus.py``) cut to 20,000 lines, or generated code
when the cache cannot be filled. Target: ours <= 1.2x bare (median).

    python bench/syntax.py [--edits 200] [--lines 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tree_sitter

from agentls.syntax.document import SyntaxDocument
from agentls.syntax.issues import scan
from agentls.syntax.parser import get_language

TARGET = 1.2


def python_source(lines: int) -> tuple[str, str]:
    """About ``lines`` lines of real Python (Django), or generated code when offline; and its origin."""
    from _corpus import python_files

    collected: list[str] = []
    for path in python_files():
        collected.extend(path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True))
        if len(collected) >= lines:
            return "".join(collected[:lines]), "django 5.2.19 sources"
    return generated_python(lines), "generated code"


def generated_python(lines: int) -> str:
    """Plausible Python: classes with methods, loops, comprehensions, strings and comments."""
    out: list[str] = []
    i = 0
    while len(out) < lines:
        out += [
            f"class Model{i}(Base):",
            f'    """Model number {i}."""',
            "",
            f"    def __init__(self, name: str, size: int = {i}) -> None:",
            "        self.name = name",
            f"        self.items = [x * {i % 7 + 1} for x in range(size) if x % 3]",
            "",
            "    def total(self) -> int:",
            "        total = 0",
            "        for item in self.items:  # sum them",
            "            if item > 10:",
            "                total += item",
            "            else:",
            '                total -= len(f"{self.name}-{item}")',
            "        return total",
            "",
            "",
        ]
        i += 1
    return "\n".join(out[:lines]) + "\n"


def line_edits(text: str, count: int, rng: random.Random) -> list[tuple[int, int, str]]:
    """``count`` edits, each changing one line (a comment appended), then undone by the next edit."""
    starts = [0, *[i + 1 for i, c in enumerate(text) if c == "\n"][:-1]]
    edits: list[tuple[int, int, str]] = []
    while len(edits) < count:
        start = rng.choice(starts)
        end = text.index("\n", start)
        line = text[start:end]
        if not line.strip() or line.rstrip().endswith("\\"):
            continue
        edits.append((start, end, line + "  # edited"))
        edits.append((start, end + len("  # edited"), line))
    return edits[:count]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bare_reparse(text: str, edits: list[tuple[int, int, str]]) -> list[float]:
    """tree.edit + parser.parse(new, old_tree) per edit; bytes and points prepared outside the timer."""
    language = get_language("python")
    assert language is not None
    parser = tree_sitter.Parser(language)
    data = text.encode()
    tree = parser.parse(data)
    samples = []
    for start, end, new_text in edits:  # ASCII text: code point offsets are byte offsets
        inserted = new_text.encode()
        new_data = data[:start] + inserted + data[end:]
        row = data.count(b"\n", 0, start)
        column = start - (data.rfind(b"\n", 0, start) + 1)
        point = (row, column)
        old_end = (row, column + end - start)
        new_end = (row, column + len(inserted))
        began = time.perf_counter()
        tree.edit(start, end, start + len(inserted), point, old_end, new_end)
        tree = parser.parse(new_data, tree)
        samples.append(time.perf_counter() - began)
        data = new_data
    return samples


def ours(text: str, edits: list[tuple[int, int, str]]) -> list[float]:
    doc = SyntaxDocument(text, "python")
    samples = []
    for start, end, new_text in edits:
        began = time.perf_counter()
        doc.edit(start, end, new_text)
        doc.errors()
        samples.append(time.perf_counter() - began)
    return samples


def timed(function: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return samples


def full_walk_errors(tree: tree_sitter.Tree) -> int:
    """Every node visited: the cost the has_error descent avoids."""
    found = 0
    cursor = tree.walk()
    while True:
        node = cursor.node
        if node is not None and (node.is_error or node.is_missing):
            found += 1
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found


def row(label: str, samples: list[float], width: int = 44, digits: int = 3) -> str:
    median, p99 = statistics.median(samples) * 1e3, percentile(samples, 0.99) * 1e3
    return f"  {label:<{width}} median {median:{digits + 5}.{digits}f} ms   p99 {p99:{digits + 5}.{digits}f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    text, origin = python_source(args.lines)
    if not text.isascii():  # compare on the ASCII fast path; the non-ASCII path is measured below
        text = text.encode("ascii", "replace").decode("ascii")
    edits = line_edits(text, args.edits, random.Random(args.seed))
    size = f"{text.count(chr(10))} lines, {len(text) / 1e6:.2f} MB of Python"
    print(f"file: {size} ({origin}); {len(edits)} edits")

    gc.disable()
    try:
        ours(text, edits[:20])  # warm up (grammar load, allocator)
        bare_samples = bare_reparse(text, edits)
        our_samples = ours(text, edits)
        language = get_language("python")
        assert language is not None
        parser_ = tree_sitter.Parser(language)
        data = text.encode()
        full_samples = timed(lambda: parser_.parse(data), 20)

        non_ascii = "# café ☕\n" + text
        shifted = [(s + len("# café ☕\n"), e + len("# café ☕\n"), t) for s, e, t in edits]
        non_ascii_samples = ours(non_ascii, shifted)

        # One error in the middle of the file: finding it by a full walk vs the has_error descent.
        middle = text.index("\n", len(text) // 2) + 1
        broken = text[:middle] + "x = (1 +\n" + text[middle:]
        broken_data = broken.encode()
        tree = parser_.parse(broken_data)
        walk_samples = timed(lambda: full_walk_errors(tree), 20)
        descent_samples = timed(lambda: scan(tree, broken_data, ascii=True), 20)
        issues = scan(tree, broken_data, ascii=True)
    finally:
        gc.enable()

    print("\nper edit (one line changed):")
    print(row("bare: tree.edit + parser.parse(new, old)", bare_samples))
    print(row("ours: SyntaxDocument.edit + errors()", our_samples))
    print(row("ours, non-ASCII text (slow path)", non_ascii_samples))
    print(row("full parse of the same file", full_samples))
    ratio = statistics.median(our_samples) / statistics.median(bare_samples)
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"\nours / bare (median): {ratio:.2f}x   target <= {TARGET}x: {verdict}")
    speedup = statistics.median(full_samples) / statistics.median(our_samples)
    print(f"full parse / ours (median): {speedup:.0f}x")

    print(f"\nfinding errors in the broken file ({len(issues)} issue(s)):")
    print(row("full tree walk", walk_samples))
    print(row("has_error descent (ours, incl. messages)", descent_samples))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
