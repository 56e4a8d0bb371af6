"""False alarms of the syntax check on real, valid code: ``errors()`` over a corpus of published packages.

Every file in the corpus is published, working code, so every error reported is a false alarm. Prints, per
language: files checked, files with errors (the false alarm rate), and a few examples. The corpus is fetched
once from PyPI, npm and Debian (see ``_corpus.py``) into ``.bench-cache/syntax-corpus/``.

    python bench/syntax_corpus.py [--lang LANG ...] [--examples N] [--all-failures]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus
from agentls.syntax.languages import detect_language, load_languages
from agentls.syntax.validate import errors


@dataclass
class Tally:
    files: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    sources: set[str] = field(default_factory=set)
    by_source: dict[str, list[int]] = field(default_factory=dict)  # spec -> [files, failed]
    examples: list[str] = field(default_factory=list)


def _location(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", action="append", help="only these language ids")
    parser.add_argument("--examples", type=int, default=3, help="failing files to show per language")
    parser.add_argument("--all-failures", action="store_true", help="list every failing file")
    parser.add_argument("--by-source", action="store_true", help="break the counts down by package")
    args = parser.parse_args()

    tallies: dict[str, Tally] = defaultdict(Tally)
    seen: set[bytes] = set()
    for source in _corpus.SOURCES:
        root = _corpus.fetch(source)
        if root is None:
            continue
        for path, forced in _corpus.files(source, root):
            raw = path.read_bytes()
            digest = hashlib.blake2b(raw, digest_size=16).digest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            language = forced or detect_language(str(path), text=text[:200])
            if language is None or (args.lang and language not in args.lang):
                continue
            started = time.perf_counter()
            issues = errors(text, language)
            tally = tallies[language]
            tally.seconds += time.perf_counter() - started
            if issues is None:
                continue
            tally.files += 1
            tally.bytes += len(raw)
            tally.sources.add(source.spec)
            counts = tally.by_source.setdefault(source.spec, [0, 0])
            counts[0] += 1
            if issues:
                tally.failed += 1
                counts[1] += 1
                if args.all_failures or len(tally.examples) < args.examples:
                    first = issues[0]
                    snippet = text[first.start : first.end][:40].replace("\n", "\\n")
                    where = f"{path.relative_to(_corpus.CACHE)}:{_location(text, first.start)}"
                    tally.examples.append(f"{where} {first.message} [{snippet}] ({len(issues)} issues)")

    specs = load_languages()
    print(f"{'language':<11} {'files':>6} {'w/errors':>8} {'rate':>7} {'MB':>6} {'s':>6}  publish  sources")
    total_files = total_failed = 0
    for language in sorted(tallies):
        tally = tallies[language]
        if not tally.files:
            continue
        total_files += tally.files
        total_failed += tally.failed
        rate = tally.failed / tally.files
        publish = "yes" if specs[language].publish_diagnostics else "no"
        print(
            f"{language:<11} {tally.files:>6} {tally.failed:>8} {rate:>7.2%} {tally.bytes / 1e6:>6.1f} "
            f"{tally.seconds:>6.2f}  {publish:<7}  {', '.join(sorted(tally.sources))}"
        )
    print(f"{'total':<11} {total_files:>6} {total_failed:>8}")
    if args.by_source:
        print()
        for language in sorted(tallies):
            for spec, (files, failed) in sorted(tallies[language].by_source.items()):
                print(f"{language:<11} {files:>6} {failed:>8}  {spec}")
    for language in sorted(tallies):
        if tallies[language].examples:
            print(f"\n{language}:")
            for example in tallies[language].examples:
                print(f"  {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
