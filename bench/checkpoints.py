"""Checkpoints: ours beside the naive shadow repository, measured in the same run.

    python bench/checkpoints.py [--files 50000] [--runs 5] [--first-runs 3] [--no-real]

Two trees, built in a temporary directory: a synthetic one of ``--files`` small files, and a real one,
Django's source distribution (``pip download --no-binary :all: --no-deps django==5.2.19`` into
``.bench-cache/checkpoints/``; when that is not reachable, a few thousand generated source files
stand in and the report says so).

Naive (what Cline does): a separate git directory with the workspace as its work tree, and every
checkpoint is ``git add -A`` + ``git commit``; a restore is ``git reset --hard <commit>``. Ours:
``agentls.checkpoints.Checkpoints``. Measured on each tree:

* first checkpoint of a session before a 5-file edit: naive, the first ``add -A`` + ``commit`` of a
  fresh shadow repository; ours, ``checkpoint(5 paths)`` right after ``start_baseline()`` on a fresh
  data directory (the baseline runs meanwhile, in the same process). Also ours in a new process on an
  existing shadow repository (a new session);
* the background baseline (ours, a whole-tree scan from nothing) beside the naive first checkpoint;
* a repeated checkpoint with no change, and with 5 changed files;
* a restore of 5 changed files.

Targets (ours): checkpoint before a 5-file edit <= 50 ms, the first one of a session included;
background baseline no slower than the naive first checkpoint; restore of 5 files <= 100 ms.
Figures: median and min-max over the runs. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from agentls.checkpoints import Checkpoints
from agentls.checkpoints.gitcmd import isolated_env

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench-cache" / "checkpoints"
DJANGO = "django==5.2.19"


def progress(message: str) -> None:
    print(f"[checkpoints bench] {message}", file=sys.stderr, flush=True)


# -- trees ----------------------------------------------------------------------------------------


def synthetic_tree(root: Path, files: int) -> list[str]:
    """``files`` small Python-like files, 50 per directory, two levels deep."""
    rng = random.Random(7)
    paths = []
    for n in range(files):
        rel = f"pkg{n // 1000:03d}/mod{(n // 50) % 20:02d}/file{n % 50:02d}.py"
        path = root / rel
        if n % 50 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"value_{i} = {rng.randrange(10**9)}\n" for i in range(rng.randrange(3, 12)))
        path.write_text(f'"""Module {n}."""\n\n{body}')
        paths.append(rel)
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\n")
    return paths


def django_tree(root: Path) -> tuple[list[str], str]:
    """Django's sdist unpacked at ``root``; ``(files, description)``. Generated files if unreachable."""
    CACHE.mkdir(parents=True, exist_ok=True)
    archives = sorted(CACHE.glob("[Dd]jango-5.2.19.tar.gz"))
    if not archives:
        progress(f"pip download {DJANGO} (sdist) into {CACHE}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
                        "--dest", str(CACHE), DJANGO], check=False, capture_output=True, timeout=300)
        archives = sorted(CACHE.glob("[Dd]jango-5.2.19.tar.gz"))
    if archives:
        with tarfile.open(archives[0]) as archive:
            archive.extractall(root.parent / "django-unpack", filter="data")
        top = next((root.parent / "django-unpack").iterdir())
        shutil.move(str(top), root)
        files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
        return sorted(files), f"Django 5.2.19 sdist, {len(files):,} files"
    progress("Django sdist not reachable: generating 4,000 source files instead")
    files = synthetic_tree(root, 4000)
    return files, "generated stand-in (Django sdist not reachable), 4,000 files"


# -- measuring ------------------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def figure(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    if len(ms) == 1:
        return f"{ms[0]:9.1f} ms (1 run)"
    return f"{statistics.median(ms):9.1f} ms (min {min(ms):.1f}, max {max(ms):.1f}, {len(ms)} runs)"


class Naive:
    """A shadow git directory with the workspace as work tree; ``add -A`` + ``commit`` per checkpoint."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        home = git_dir.parent / "naive-home"
        home.mkdir(exist_ok=True)
        self.env = isolated_env(git_dir, root, home)
        # No detached `gc --auto` after a commit: it would run under the next measurements (and race
        # the clean-up); the naive figures are the better for it.
        count = int(self.env["GIT_CONFIG_COUNT"])
        self.env.update({"GIT_CONFIG_COUNT": str(count + 2), f"GIT_CONFIG_KEY_{count}": "gc.auto",
                         f"GIT_CONFIG_VALUE_{count}": "0", f"GIT_CONFIG_KEY_{count + 1}": "maintenance.auto",
                         f"GIT_CONFIG_VALUE_{count + 1}": "false"})
        self.root = root
        self.count = 0
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, env=self.env, check=True, capture_output=True,
                              text=True).stdout

    def checkpoint(self) -> str:
        self.count += 1
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "--no-verify", "-m", f"checkpoint {self.count}")
        return self.git("rev-parse", "HEAD").strip()

    def restore(self, commit: str) -> None:
        self.git("reset", "-q", "--hard", commit)


def edit(root: Path, paths: list[str], round_: int) -> None:
    for rel in paths:
        with open(root / rel, "a") as handle:
            handle.write(f"# edit {round_}\n")


def bench_tree(name: str, root: Path, files: list[str], work: Path, runs: int,
               first_runs: int) -> dict[str, list[float]]:
    rng = random.Random(11)
    five = sorted(rng.sample([f for f in files if f.endswith((".py", ".txt", ".html", ".js"))] or files, 5))
    results: dict[str, list[float]] = {}
    edits = 0

    def bump() -> None:
        nonlocal edits
        edits += 1
        edit(root, five, edits)

    progress(f"{name}: naive first checkpoint x{first_runs}")
    naive_first = []
    naive: Naive | None = None
    for run in range(first_runs):
        git_dir = work / f"naive-{name}-{run}.git"
        naive = Naive(root, git_dir)
        naive_first.append(timed(naive.checkpoint))
        if run < first_runs - 1:
            shutil.rmtree(git_dir)
    assert naive is not None
    results["naive: first checkpoint"] = naive_first
    progress(f"{name}: naive repeated checkpoints x{runs}")
    results["naive: repeated, no change"] = [timed(naive.checkpoint) for _ in range(runs)]
    changed = []
    for _ in range(runs):
        bump()
        changed.append(timed(naive.checkpoint))
    results["naive: repeated, 5 files changed"] = changed
    restores = []
    for _ in range(runs):
        target = naive.checkpoint()
        bump()
        restores.append(timed(lambda target=target: naive.restore(target)))
    results["naive: restore (5 files changed)"] = restores

    progress(f"{name}: ours, first checkpoint of a session with the baseline running x{first_runs}")
    first, baseline = [], []
    for run in range(first_runs):
        data = work / f"ours-{name}-{run}"
        cps = Checkpoints(root, data_dir=data)
        cps.start_baseline()
        bump()
        first.append(timed(lambda cps=cps: cps.checkpoint(five, trigger="edit", session_id="bench", step=1)))
        if not cps.wait_baseline(600):
            raise SystemExit(f"baseline failed: {cps.last_scan_error}")
        assert cps.last_scan_seconds is not None
        baseline.append(cps.last_scan_seconds)
        cps.close()
        if run < first_runs - 1:
            shutil.rmtree(data)
    results["ours: first checkpoint, fresh shadow repo"] = first
    results["ours: background baseline (whole tree)"] = baseline

    progress(f"{name}: ours, first checkpoint of a new session on an existing shadow repo x{runs}")
    reopened = []
    for _ in range(runs):
        bump()
        cps = Checkpoints(root, data_dir=data)
        reopened.append(timed(lambda cps=cps: cps.checkpoint(five, trigger="edit", session_id="bench", step=1)))
        cps.close()
    results["ours: first checkpoint, new session"] = reopened

    progress(f"{name}: ours, repeated checkpoints and restores x{runs}")
    cps = Checkpoints(root, data_dir=data)
    cps.start_baseline()
    cps.wait_baseline(600)
    results["ours: repeated, no change"] = [timed(lambda: cps.checkpoint(five, trigger="edit")) for _ in range(runs)]
    changed = []
    for _ in range(runs):
        bump()
        changed.append(timed(lambda: cps.checkpoint(five, trigger="edit")))
    results["ours: repeated, 5 files changed"] = changed
    restores = []
    for _ in range(runs):
        target = cps.checkpoint(five, trigger="edit")
        bump()
        restores.append(timed(lambda target=target: cps.restore(target.id, five)))
    results["ours: restore of 5 files"] = restores
    results["ours: whole-tree checkpoint (after a command), no change"] = [
        timed(lambda: cps.checkpoint(None, trigger="command")) for _ in range(max(1, runs // 2))]
    cps.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=50_000, help="files in the synthetic tree (default 50,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each repeated measurement (default 5)")
    parser.add_argument("--first-runs", type=int, default=3, help="runs of first checkpoints/baselines (default 3)")
    parser.add_argument("--no-real", action="store_true", help="skip the Django tree")
    args = parser.parse_args()
    if shutil.which("git") is None:
        raise SystemExit("git is needed")
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    started = time.perf_counter()
    report: list[str] = [f"# checkpoints benchmark ({git_version}, Python {sys.version.split()[0]}, "
                         f"{os.cpu_count()} CPUs)"]
    verdicts: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="agentls-bench-checkpoints-") as tmp:
        work = Path(tmp)
        trees: list[tuple[str, Path, list[str], str]] = []
        progress(f"building the synthetic tree ({args.files:,} files)")
        synthetic = work / "synthetic"
        synthetic.mkdir()
        files = synthetic_tree(synthetic, args.files)
        trees.append(("synthetic", synthetic, files, f"synthetic, {len(files):,} small files"))
        if not args.no_real:
            real = work / "django"
            files, description = django_tree(real)
            trees.append(("django", real, files, description))
        for name, root, files, description in trees:
            results = bench_tree(name, root, files, work, args.runs, args.first_runs)
            report.append(f"\n## {description}")
            width = max(len(label) for label in results)
            report.extend(f"  {label:{width}}  {figure(samples)}" for label, samples in results.items())
            med = {label: statistics.median(samples) for label, samples in results.items()}
            kinds = ("ours: first checkpoint, fresh shadow repo", "ours: first checkpoint, new session",
                     "ours: repeated, no change", "ours: repeated, 5 files changed")
            worst_median = max(med[kind] for kind in kinds)
            slowest = max(max(results[kind]) for kind in kinds)
            checks = [
                (f"{name}: checkpoint before a 5-file edit <= 50 ms, first of a session included (worst median "
                 f"{1000 * worst_median:.1f} ms; slowest single run {1000 * slowest:.1f} ms)",
                 worst_median <= 0.050),
                (f"{name}: background baseline no slower than the naive first checkpoint "
                 f"({med['ours: background baseline (whole tree)']:.2f} s vs {med['naive: first checkpoint']:.2f} s)",
                 med["ours: background baseline (whole tree)"] <= med["naive: first checkpoint"]),
                (f"{name}: restore of 5 files <= 100 ms ({1000 * med['ours: restore of 5 files']:.1f} ms)",
                 med["ours: restore of 5 files"] <= 0.100),
            ]
            speedup = med["naive: first checkpoint"] / med["ours: first checkpoint, fresh shadow repo"]
            report.append(f"  first checkpoint of a session: ours is {speedup:,.0f}x faster than naive")
            verdicts.extend(checks)
    report.append("\n## targets")
    report.extend(f"  {'PASS' if ok else 'FAIL'}  {text}" for text, ok in verdicts)
    report.append(f"\n(total {time.perf_counter() - started:.0f} s)")
    print("\n".join(report))
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
