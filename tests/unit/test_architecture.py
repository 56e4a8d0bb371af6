"""The shape of the code (shared/ARCHITECTURE.md): layers that import only downward, no import cycle, and
each third-party boundary crossed in one place. Read from the source with ``ast``: every import that runs,
at module level or inside a function, counts; imports under ``if TYPE_CHECKING:`` do not."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "server"
PACKAGE = SERVER / "agentls"

#: Lowest first; a module may import its own layer and the ones below (within a layer: no cycle).
LAYERS: list[set[str]] = [
    {"errors", "choices", "paths", "atomic", "tokens", "questions", "trust", "secrets", "write_transaction",
     "write_journal", "__init__"},
    {"config", "logs"},
    {"edits", "syntax", "checkpoints", "store", "providers", "grammars"},
    {"agent", "context", "plans", "mcp"},
    {"runtime", "workflows"},
    {"acp", "dashboard"},
    {"lsp", "cli", "headless", "plan_cli", "context_cli", "trust_cli", "mcp_cli", "doctor", "agent_host", "terminal",
     "__main__"},
]
#: Third-party packages only one part of the code may import.
BOUNDARIES = {"pygls": ("lsp",), "lsprotocol": ("lsp",), "anthropic": ("providers.anthropic",),
              "git": ("checkpoints",), "httpx2": ("providers.anthropic",), "mcp": ("mcp.client",),
              "mcp_types": ("mcp.client",), "acp": ("acp",),
              "starlette": ("dashboard",), "uvicorn": ("dashboard",), "sse_starlette": ("dashboard",)}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SERVER).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


class Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
                (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            self.names.add(node.module)
            self.names.update(f"{node.module}.{alias.name}" for alias in node.names)


def imports_of(path: Path) -> set[str]:
    visitor = Imports()
    visitor.visit(ast.parse(path.read_text()))
    return visitor.names


def graph() -> dict[str, set[str]]:
    known = modules()

    def resolve(name: str) -> str | None:
        parts = name.split(".")
        while parts:
            if ".".join(parts) in known:
                return ".".join(parts)
            parts.pop()
        return None

    return {name: {target for imported in imports_of(path) if imported.startswith("agentls")
                   if (target := resolve(imported)) is not None and target != name}
            for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                yield from visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                yield sorted(component)

    for node in sorted(edges):
        if node not in index:
            yield from visit(node)


def part(module: str) -> str:
    """The top-level part of ``agentls`` a module belongs to (``agentls.lsp.server`` -> ``lsp``)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def layer(module: str) -> int:
    top = part(module)
    return next(n for n, names in enumerate(LAYERS) if top in names)


def test_every_part_of_the_package_has_a_layer() -> None:
    unplaced = sorted({part(m) for m in modules()} - set().union(*LAYERS))
    assert unplaced == []


def test_no_import_cycle_between_modules() -> None:
    assert list(cycles(graph())) == []


def test_no_import_cycle_between_parts() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(part(module), set()).update(part(t) for t in targets if part(t) != part(module))
    assert list(cycles(edges)) == []


def test_layers_import_only_downward() -> None:
    upward = sorted(f"{module} -> {target}" for module, targets in graph().items() for target in targets
                    if layer(target) > layer(module))
    assert upward == []


@pytest.mark.parametrize("package", sorted(BOUNDARIES))
def test_each_third_party_boundary_is_crossed_in_one_place(package: str) -> None:
    allowed = BOUNDARIES[package]
    crossing = sorted(name for name, path in modules().items()
                      if any(i == package or i.startswith(f"{package}.") for i in imports_of(path))
                      and not name.removeprefix("agentls.").startswith(allowed))
    assert crossing == []


#: A module longer than this is doing more than one thing (shared/ARCHITECTURE.md: "no module over ~400 lines").
MAX_MODULE_LINES = 400


def test_no_module_is_over_the_size_limit() -> None:
    long = sorted(f"{name}: {lines} lines" for name, path in modules().items()
                  if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES)
    assert long == []


def test_the_language_servers_start_up_imports_no_heavy_library() -> None:
    """``agentls serve`` answers ``initialize`` before pydantic, the SDKs or git load (they load in a thread or
    in the agent host): a CLI subcommand's parser that imports its settings at module level would undo that."""
    import subprocess
    import sys

    code = ("import sys\nimport agentls.cli\nagentls.cli.build_parser()\nimport agentls.lsp.app\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'anthropic', 'mcp', 'git', 'numpy', "
            "'tree_sitter', 'httpx2'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=SERVER.parent, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout
