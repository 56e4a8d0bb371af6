"""``agentls context``: what the model would be shown for an edit at FILE:LINE, with token counts.

The index is brought up to date first (in this process, with progress on stderr); a second run on
an unchanged tree only checks file stamps.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

_LOCATION = re.compile(r"^(?P<path>.+?):(?P<start>\d+)(?:-(?P<end>\d+))?$")


def add_context_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    context = sub.add_parser("context", help="show the context assembled for an edit at FILE:LINE")
    context.add_argument("location", metavar="FILE:LINE[-END]",
                         help="the file and the selected line(s), 1-based (FILE alone: its first line)")
    context.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    context.add_argument("--instruction", default="", help="the edit instruction (its names steer the map)")
    context.add_argument("--map-tokens", type=int, help="repo map budget (default: context.repo_map_tokens)")
    context.add_argument("--json", action="store_true", help="machine-readable output")


def _say(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `agentls context ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_context(args: argparse.Namespace) -> int:
    from agentls.agent.memory import load_memory
    from agentls.config import load_settings
    from agentls.context.assemble import EditRequest
    from agentls.context.engine import ContextEngine
    from agentls.edits.lines import split_lines

    root = Path(os.path.realpath(args.workspace))
    if not root.is_dir():
        sys.stderr.write(f"agentls: workspace {args.workspace} is not a directory\n")
        return 2
    match = _LOCATION.match(args.location)
    raw_path, first, last = (match["path"], int(match["start"]), int(match["end"] or match["start"])) \
        if match else (args.location, 1, 1)
    full = Path(raw_path) if os.path.isabs(raw_path) else (Path.cwd() / raw_path)
    if not full.exists():
        full = root / raw_path
    full = Path(os.path.realpath(full))
    if not full.is_relative_to(root) or not full.is_file():
        sys.stderr.write(f"agentls: {raw_path} is not a file inside {root}\n")
        return 2
    rel = full.relative_to(root).as_posix()
    settings = load_settings(workspace=root).settings
    context_settings = settings.context
    if args.map_tokens is not None:
        context_settings = context_settings.model_copy(update={"repo_map_tokens": max(0, args.map_tokens)})
    engine = ContextEngine(root, context_settings, settings.tools.deny)
    try:
        def progress(done: int, total: int) -> None:
            if total and sys.stderr.isatty():
                sys.stderr.write(f"\rindexing {done}/{total} files")
                sys.stderr.flush()

        report = engine.refresh_sync(progress)
        if sys.stderr.isatty():
            sys.stderr.write("\r")
        sys.stderr.write(f"index: {report.files:,} files ({report.indexed:,} re-indexed) in {report.seconds:.2f} s\n")
        text = full.read_text(encoding="utf-8", errors="surrogateescape")
        lines = split_lines(text)  # numbered as the editor numbers them
        if first < 1 or last < first or first > max(1, len(lines)):
            sys.stderr.write(f"agentls: {rel} has {len(lines)} lines; {first}-{last} is outside it\n")
            return 2
        start = sum(len(line) for line in lines[:first - 1])
        end = sum(len(line) for line in lines[:min(last, len(lines))])
        request = EditRequest(rel, text, start, end, instruction=args.instruction)
        context = engine.edit_context(request, load_memory(root, [rel]))
    finally:
        engine.close()
    if args.json:
        _say(json.dumps({"path": context.path, "language": context.language, "tokens": context.tokens,
                         "bytes_per_token": engine.counter.bytes_per_token, "names": context.names,
                         "parts": [asdict(part) for part in context.parts]}, indent=2) + "\n")
    else:
        _say(context.report())
        _say(f"\n(token counts are estimates at {engine.counter.bytes_per_token:.2f} bytes per token)\n")
    return 0
