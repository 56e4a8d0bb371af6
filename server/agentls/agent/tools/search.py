"""``search``: a regular expression over the workspace's files, line by line.

ripgrep (``rg --json --sort path``) when it is on PATH, else a pure-Python walk; both give the same
result: ``path:line:text`` lines in walk order (component by component), at most ``max_results``,
then a note of how many more matched. Both honour ``.gitignore`` and the deny-list (ripgrep's
results are filtered through the workspace's own rules, which are the reference), skip symlinks,
``.git`` and binary files, and search the overlay's text for files the agent changed (and its new
files) instead of the disk's.

Known differences, on unusual files only: ripgrep searches a file that is not valid UTF-8 (lossily)
and the fallback skips it; a NUL byte after the first 8 KiB stops ripgrep mid-file. A pattern that
Python accepts but ripgrep's regex engine does not (look-around, backreferences) is searched by the
fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar

from pydantic import Field

from agentls.agent.tools.base import BaseTool, ToolContext, ToolInput, ToolResult
from agentls.agent.workspace import Workspace, glob_matches, path_key
from agentls.errors import AgentlsError

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 300
#: Matches read from ripgrep before it is stopped; the count beyond is reported as "at least".
MAX_COUNTED = 10_000
#: Longest JSON line read from ripgrep; a match on a longer line is skipped.
RG_LINE_LIMIT = 4 * 1024 * 1024


class SearchInput(ToolInput):
    pattern: str = Field(min_length=1, description="Regular expression, matched against each line.")
    path: str = Field(".", description="Directory or file to search, relative to the workspace root.")
    glob: str | None = Field(
        None,
        description="Only files matching this gitignore-style glob, relative to `path` "
        "(e.g. '*.py' at any depth, 'src/**/*.ts').",
    )
    case_sensitive: bool = Field(True, description="False to ignore case.")
    max_results: int = Field(100, ge=1, le=1000, description="Maximum matching lines returned.")


@dataclass(order=True, frozen=True)
class Hit:
    key: tuple[str, ...]
    line: int
    path: str = field(compare=False)
    text: str = field(compare=False)

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.text}"


def _hit(path: str, line: int, text: str) -> Hit:
    text = text.rstrip("\n").removesuffix("\r")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + "…"
    return Hit(path_key(path), line, path, text)


def search_text(path: str, text: str, regex: re.Pattern[str]) -> list[Hit]:
    """Matching lines of one file's text (lines end at ``\\n``, as ripgrep's do; a ``\\r`` before
    it is not part of the line, as with ripgrep's ``--crlf``)."""
    if "\r" not in text and not _could_match(regex, text):
        return []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [
        _hit(path, number, line)
        for number, line in enumerate(lines, 1)
        if regex.search(line.removesuffix("\r"))
    ]


@cache
def _whole_text(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """The pattern in MULTILINE mode, to skip in one pass a file where no line can match: a match
    in a line is a match in the text (``^``/``$`` at line ends). Not for ``\\A``/``\\Z`` anchors
    nor look-arounds, which could see a line break in the text where a line has none."""
    if re.search(r"\\[AZz]|\(\?<?[=!]", regex.pattern):
        return None
    return re.compile(regex.pattern, regex.flags | re.MULTILINE)


def _could_match(regex: re.Pattern[str], text: str) -> bool:
    whole = _whole_text(regex)
    return whole is None or whole.search(text) is not None


@dataclass
class _Collected:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    capped: bool = False


class SearchTool(BaseTool[SearchInput]):
    name: ClassVar[str] = "search"
    description: ClassVar[str] = (
        "Search the workspace's files for a regular expression, line by line (ripgrep-style). "
        "Returns `path:line:text` for each matching line, sorted by path. Files ignored by .gitignore, "
        "binary files and secrets are skipped. Use it to find definitions, usages and strings before "
        "viewing or editing files."
    )
    read_only: ClassVar[bool] = True
    input_model = SearchInput

    def __init__(self, use_ripgrep: bool = True) -> None:
        self.use_ripgrep = use_ripgrep

    async def execute(self, params: SearchInput, ctx: ToolContext) -> ToolResult:
        flags = 0 if params.case_sensitive else re.IGNORECASE
        try:
            regex = re.compile(params.pattern, flags)
        except re.error as exc:
            return ToolResult(f"Invalid regular expression {params.pattern!r}: {exc}", is_error=True)
        workspace, overlay = ctx.workspace, ctx.overlay
        base = overlay.key(params.path)
        touched = overlay.touched()
        limit = params.max_results

        if not overlay.is_dir(base):  # one file, asked for by name: always through the overlay
            text = overlay.read(base, max_bytes=workspace.max_partial_bytes)
            name = base.rsplit("/", 1)[-1]
            found = search_text(base, text, regex) if glob_matches(params.glob, name) else []
            return ToolResult(self._render(params, base, found[:limit], len(found), capped=False))

        rg = shutil.which("rg") if self.use_ripgrep else None
        collected: _Collected | None = None
        if rg is not None:
            collected = await self._ripgrep(rg, params, base, set(touched), limit, workspace)
        if collected is None:
            collected = await asyncio.to_thread(
                self._python, regex, params, base, set(touched), limit, workspace
            )

        # Files the agent touched: their overlay text replaces the disk's.
        extra: list[Hit] = []
        for path, content in sorted(touched.items()):
            if content is None or not workspace.shown_under(base, path):
                continue
            below = path if base == "." else path[len(base) + 1 :]
            if glob_matches(params.glob, below):
                extra.extend(search_text(path, content, regex))
        hits = sorted(collected.hits + extra)[:limit]
        return ToolResult(self._render(params, base, hits, collected.total + len(extra), collected.capped))

    @staticmethod
    def _render(params: SearchInput, base: str, hits: list[Hit], total: int, capped: bool) -> str:
        where = "the workspace" if base == "." else base
        if not hits:
            return f"No matches for /{params.pattern}/ in {where}."
        lines = [hit.render() for hit in hits]
        more = total - len(hits)
        if more > 0:
            prefix = "at least " if capped else ""
            lines.append(f"({prefix}{more} more matches not shown; narrow the pattern, path or glob)")
        return "\n".join(lines)

    # -- ripgrep ---------------------------------------------------------------------------

    async def _ripgrep(
        self, rg: str, params: SearchInput, base: str, touched: set[str], limit: int, workspace: Workspace
    ) -> _Collected | None:
        """Matches from ripgrep, filtered by our rules; None when ripgrep cannot run the search."""
        args = [
            rg, "--json", "--no-config", "--sort", "path", "--hidden", "--no-require-git", "--crlf",
            "--no-ignore-dot", "--no-ignore-global", "--no-ignore-parent",
            "--max-filesize", str(workspace.max_partial_bytes), "--glob", "!.git",
        ]  # fmt: skip
        if not params.case_sensitive:
            args.append("--ignore-case")
        if params.glob is not None and "/" not in params.glob.rstrip("/"):
            args += ["--glob", params.glob]  # a speed hint only: our own glob filter decides
        args += ["--regexp", params.pattern, "--", "./" if base == "." else base]
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                cwd=workspace.root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=RG_LINE_LIMIT,
            )
        except OSError as exc:
            log.warning("ripgrep could not start (%s); using the Python search", exc)
            return None
        assert proc.stdout is not None
        assert proc.stderr is not None
        stdout = proc.stdout
        stderr_task = asyncio.create_task(proc.stderr.read())
        collected = _Collected()
        finished = False
        try:
            while True:
                try:
                    raw = await stdout.readline()
                except ValueError:  # a line over the limit (a huge minified line): skipped
                    continue
                if not raw:
                    finished = True
                    break
                hit = self._parse(raw, base, touched, params.glob, workspace)
                if hit is None:
                    continue
                collected.total += 1
                if len(collected.hits) < limit:
                    collected.hits.append(hit)
                if collected.total >= MAX_COUNTED:
                    collected.capped = True
                    break
        finally:
            if not finished and proc.returncode is None:  # capped, failed or cancelled: never leave
                # ripgrep blocked on a full pipe
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            code = await proc.wait()
            stderr = (await stderr_task).decode("utf-8", "replace")
        if code == 2 and not collected.capped and "regex" in stderr.lower():
            log.info("ripgrep rejected the pattern (%s); using the Python search", stderr.strip()[:200])
            return None
        if code not in (0, 1) and not collected.capped:
            log.debug("ripgrep exited %s: %s", code, stderr.strip()[:500])
        return collected

    @staticmethod
    def _parse(
        raw: bytes, base: str, touched: set[str], glob: str | None, workspace: Workspace
    ) -> Hit | None:
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        if message.get("type") != "match":
            return None
        data = message["data"]
        path = data["path"].get("text")
        text = data["lines"].get("text")
        if path is None or text is None:  # not UTF-8: the fallback cannot read such files either
            return None
        path = path.removeprefix("./")
        if path in touched or not workspace.shown_under(base, path):
            return None
        below = path if base == "." else path[len(base) + 1 :]
        if not glob_matches(glob, below):
            return None
        return _hit(path, int(data["line_number"]), text)

    # -- pure Python -----------------------------------------------------------------------

    @staticmethod
    def _python(
        regex: re.Pattern[str],
        params: SearchInput,
        base: str,
        touched: set[str],
        limit: int,
        workspace: Workspace,
    ) -> _Collected:
        collected = _Collected()
        for path in workspace.iter_files(params.glob, base):
            if path in touched:
                continue
            try:
                text = workspace.read_walked(path, max_bytes=workspace.max_partial_bytes)
            except (AgentlsError, OSError):
                continue
            for hit in search_text(path, text, regex):
                collected.total += 1
                if len(collected.hits) < limit:
                    collected.hits.append(hit)
                if collected.total >= MAX_COUNTED:
                    collected.capped = True
                    return collected
        return collected
