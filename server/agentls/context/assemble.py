"""The context of one edit, part by part, each part within its own token budget.

Parts, in the order the model reads them:
- ``scope``: the function/class/module headers enclosing the selection, and the innermost scope's
  text when it fits;
- ``imports``: the file's import statements (what the names in the selection can refer to);
- ``definitions``: where the names the selection uses are defined in *other* files (and far away in
  this one), resolved through the symbol index, best-ranked first, each with its first lines;
- ``diagnostics``: problems the editor reports in the range;
- ``repo_map``: the repository's most relevant definitions for this file (ranked graph);
- ``memory``: project memory files (these travel in the system prompt; listed for inspection).

The selection and the lines around it are part of the edit prompt itself (``workflows/inline_edit``).
Everything here works on the buffer's text as the editor has it, not the file on disk.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agentls.agent.memory import MemoryFile
from agentls.config import ContextSettings
from agentls.context.graph import RepoGraph
from agentls.context.index_db import Definition, IndexDB
from agentls.context.repomap import fit
from agentls.context.tags import enclosing_scopes, extract_tags, tags_supported
from agentls.syntax.languages import detect_language
from agentls.syntax.parser import encode, get_parser
from agentls.tokens import TokenCounter

#: Lines of a definition shown from another file before "... N more lines".
DEFINITION_LINES = 12
#: Names defined in more files than this are shown only where the ranking prefers them.
MAX_DEFINITIONS_PER_NAME = 3
#: Lines around the selection the edit prompt already shows (definitions there are not repeated).
NEARBY_LINES = 30

IMPORT_NODES: Mapping[str, frozenset[str]] = {
    "python": frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
    "javascript": frozenset({"import_statement"}),
    "typescript": frozenset({"import_statement", "import_alias"}),
    "tsx": frozenset({"import_statement", "import_alias"}),
    "go": frozenset({"import_declaration", "package_clause"}),
    "rust": frozenset({"use_declaration", "extern_crate_declaration", "mod_item"}),
    "java": frozenset({"import_declaration", "package_declaration"}),
    "c": frozenset({"preproc_include"}),
    "cpp": frozenset({"preproc_include", "using_declaration"}),
    "csharp": frozenset({"using_directive"}),
    "php": frozenset({"namespace_use_declaration", "namespace_definition"}),
}
#: Top-level statements that import by calling a function (Ruby's require, Lua's require).
IMPORT_CALL_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "ruby": ("require", "require_relative", "load "),
    "lua": ("local ", "require"),
}


#: Names the language itself defines: a project definition that happens to share one is not what is meant.
BUILTINS: Mapping[str, frozenset[str]] = {
    "python": frozenset(n for n in dir(builtins) if not n.startswith("_")) | {"self", "cls"},
}


@dataclass(frozen=True)
class ContextPart:
    name: str
    title: str
    text: str
    tokens: int
    budget: int | None  # None: not budgeted here


@dataclass
class EditContext:
    path: str
    language: str | None
    parts: list[ContextPart] = field(default_factory=list)
    #: Names the selection uses, in order of first use.
    names: list[str] = field(default_factory=list)

    def part(self, name: str) -> ContextPart | None:
        return next((p for p in self.parts if p.name == name), None)

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.parts if p.name != "memory")

    def for_prompt(self) -> str:
        """The parts that belong in the edit's first message (memory is in the system prompt)."""
        sections = []
        for part in self.parts:
            if part.name == "memory" or not part.text.strip():
                continue
            sections.append(f"<{part.name} description=\"{part.title}\">\n{part.text.rstrip()}\n</{part.name}>")
        return "\n\n".join(sections)

    def report(self) -> str:
        """A human-readable listing with token counts (``agentls context``)."""
        lines = [f"Context for {self.path} ({self.language or 'unknown language'}): "
                 f"{self.tokens:,} tokens in the first message"]
        for part in self.parts:
            budget = f" of {part.budget:,}" if part.budget is not None else ""
            lines.append(f"\n── {part.name}: {part.title} — {part.tokens:,}{budget} tokens ──")
            lines.append(part.text.rstrip() or "(empty)")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class EditRequest:
    path: str  # workspace-relative
    text: str  # the buffer
    start: int  # selection, code point offsets into text
    end: int
    instruction: str = ""
    diagnostics: Sequence[str] = ()
    #: Other files in play (open, recently edited), most recent first.
    recent: Sequence[str] = ()


def _byte_offset(text: str, offset: int) -> int:
    return len(encode(text[:offset]))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset)


def _scope_part(language: str, data: bytes, start: int, end: int, budget: int,
                counter: TokenCounter) -> str:
    scopes = enclosing_scopes(language, data, start)
    if not scopes:
        return ""
    lines = data.split(b"\n")
    headers = []
    for scope in reversed(scopes):  # outermost first
        first = lines[scope.start_line].decode("utf-8", "replace").rstrip() if scope.start_line < len(lines) else ""
        headers.append(f"{scope.start_line + 1:>6}│ {first}    [{scope.kind} {scope.name or '(anonymous)'}, "
                       f"lines {scope.start_line + 1}-{scope.end_line + 1}]")
    text = "Enclosing scopes, outermost first:\n" + "\n".join(headers) + "\n"
    inner = scopes[0]
    first_sel, last_sel = _line_of(data, start), _line_of(data, max(start, end - 1))
    visible = range(max(0, first_sel - NEARBY_LINES), last_sel + NEARBY_LINES + 1)
    if inner.start_line not in visible or inner.end_line not in visible:
        body = "".join(f"{n + 1:>6}│ {lines[n].decode('utf-8', 'replace')}\n"
                       for n in range(inner.start_line, min(inner.end_line + 1, len(lines))))
        whole = text + f"\nThe innermost scope in full:\n{body}"
        if counter.count(whole) <= budget:
            text = whole
    return counter.truncate(text, budget)


def _imports_part(language: str, data: bytes, budget: int, counter: TokenCounter) -> str:
    parser = get_parser(language)
    if parser is None:
        return ""
    root = parser.parse(data).root_node
    node_types = IMPORT_NODES.get(language, frozenset())
    prefixes = IMPORT_CALL_PREFIXES.get(language, ())
    found: list[str] = []
    for child in root.children:
        text = data[child.start_byte:child.end_byte].decode("utf-8", "replace")
        if child.type in node_types or (prefixes and "require" in text[:200] and text.startswith(prefixes)):
            first = child.start_point[0]
            found.extend(f"{first + n + 1:>6}│ {line}" for n, line in enumerate(text.rstrip().split("\n")))
    return counter.truncate("\n".join(found) + ("\n" if found else ""), budget)


def _snippet(root: str, definition: Definition, read: Callable[[str], bytes | None]) -> str | None:
    data = read(definition.path)
    if data is None:
        return None
    lines = data.split(b"\n")
    first = definition.line
    last = _line_of(data, max(definition.start, definition.end - 1))
    shown = range(first, min(last + 1, first + DEFINITION_LINES, len(lines)))
    body = "".join(f"{n + 1:>6}│ {lines[n].decode('utf-8', 'replace').rstrip()}\n" for n in shown)
    more = last + 1 - shown.stop
    if more > 0:
        body += f"{'':>6}│ ... ({more} more lines)\n"
    return f"{definition.path}:{definition.line + 1} ({definition.kind} {definition.name})\n{body}"


def _definitions_part(request: EditRequest, names: Sequence[str], db: IndexDB, graph: RepoGraph | None,
                      budget: int, counter: TokenCounter, read: Callable[[str], bytes | None],
                      root: str, selection_lines: range) -> str:
    if not names or budget <= 0:
        return ""
    found = db.definitions_of(list(names))
    scores: dict[tuple[str, str], float] = {}
    if graph is not None:
        ranked = graph.rank({request.path: 1.0, **{p: 0.5 for p in request.recent}}, mentioned=names)
        scores = {(r.path, r.name): r.score for r in ranked}
    by_name: dict[str, list[Definition]] = {}
    for definition in found:
        if definition.path == request.path and definition.line in selection_lines:
            continue  # visible in the prompt already
        by_name.setdefault(definition.name, []).append(definition)
    chosen: list[Definition] = []
    in_tests = is_test_path(request.path)
    for name in names:  # order of first use in the selection
        candidates = by_name.get(name, [])
        candidates.sort(key=lambda d: (not in_tests and is_test_path(d.path),
                                       -scores.get((d.path, d.name), 0.0), d.path != request.path,
                                       _distance(request.path, d.path), d.path, d.line))
        chosen.extend(candidates[:MAX_DEFINITIONS_PER_NAME])
    out: list[str] = []
    used = 0
    for definition in chosen:
        snippet = _snippet(root, definition, read)
        if snippet is None:
            continue
        cost = counter.count(snippet + "\n")
        if used + cost > budget:
            continue  # a smaller one later may still fit
        out.append(snippet)
        used += cost
    return "\n".join(out)


def is_test_path(path: str) -> bool:
    """Test code (a definition there rarely is what non-test code means by a name)."""
    parts = path.lower().split("/")
    name = parts[-1]
    return any(p in ("test", "tests", "spec", "specs", "__tests__", "testing") for p in parts[:-1]) \
        or name.startswith("test_") or ".test." in name or ".spec." in name or name.endswith(("_test.go", "_spec.rb"))


def _distance(a: str, b: str) -> int:
    """Directory steps between two files (nearer definitions first when the ranking ties)."""
    pa, pb = a.split("/")[:-1], b.split("/")[:-1]
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return (len(pa) - common) + (len(pb) - common)


def assemble(
    request: EditRequest,
    *,
    root: str,
    settings: ContextSettings,
    counter: TokenCounter,
    db: IndexDB | None,
    graph: RepoGraph | None,
    memory: Iterable[MemoryFile] = (),
    read: Callable[[str], bytes | None] | None = None,
) -> EditContext:
    """The edit's context. ``read`` gives a file's current bytes (an open buffer's, else the disk's)."""
    language = detect_language(request.path, text=request.text)
    context = EditContext(request.path, language)
    reader = read or _disk_reader(root)
    data = encode(request.text)
    start, end = _byte_offset(request.text, request.start), _byte_offset(request.text, request.end)
    first_sel, last_sel = _line_of(data, start), _line_of(data, max(start, end - 1))
    nearby = range(max(0, first_sel - NEARBY_LINES), last_sel + NEARBY_LINES + 1)
    names: list[str] = []
    if language is not None and tags_supported(language):
        tags = extract_tags(language, data)
        defined_here = {t.name for t in tags if t.is_definition and start <= t.start < max(end, start + 1)}
        builtin = BUILTINS.get(language, frozenset())
        for tag in tags:
            if not tag.is_definition and start <= tag.start < max(end, start + 1) \
                    and tag.name not in defined_here and tag.name not in names and tag.name not in builtin:
                names.append(tag.name)
        context.names = names
        scope = _scope_part(language, data, start, end, settings.scope_tokens, counter)
        context.parts.append(ContextPart("scope", "where the selection sits", scope, counter.count(scope),
                                         settings.scope_tokens))
        imports = _imports_part(language, data, settings.imports_tokens, counter)
        context.parts.append(ContextPart("imports", f"the imports of {request.path}", imports,
                                         counter.count(imports), settings.imports_tokens))
        if db is not None:
            definitions = _definitions_part(request, names, db, graph, settings.definitions_tokens, counter,
                                            reader, root, nearby)
            context.parts.append(ContextPart("definitions", "definitions of names the selection uses",
                                             definitions, counter.count(definitions),
                                             settings.definitions_tokens))
    if request.diagnostics:
        text = "".join(f"- {d}\n" for d in request.diagnostics)
        context.parts.append(ContextPart("diagnostics", "problems the editor reports here", text,
                                         counter.count(text), None))
    if graph is not None and settings.repo_map_tokens > 0:
        mentioned = set(names) | words(request.instruction)
        focus = {request.path: 1.0, **{p: 0.5 for p in request.recent if p != request.path}}
        ranked = graph.rank(focus, mentioned, exclude={request.path})
        repo = fit(graph, ranked, settings.repo_map_tokens, counter)
        context.parts.append(ContextPart("repo_map", "the repository's most relevant definitions", repo.text,
                                         repo.tokens, settings.repo_map_tokens))
    memory_text = "".join(f"{m.path}:\n{m.text.rstrip()}\n\n" for m in memory)
    context.parts.append(ContextPart("memory", "project memory files (sent in the system prompt)", memory_text,
                                     counter.count(memory_text), None))
    return context


def words(text: str) -> set[str]:
    """Identifier-like words of an instruction (names the user mentioned)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", text))


def _disk_reader(root: str) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        try:
            with open(os.path.join(root, path), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    return read
