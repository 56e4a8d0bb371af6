"""The repo map: the best-ranked definitions, as the lines that define them, within a token budget.

Files come in order of their best definition's rank; within a file, definitions in line order, each as
``  <line>│ <signature line>``. The number of definitions shown is the largest whose rendering fits
the budget (found by bisection; the count is monotonic in it), so the budget holds exactly for the
counter in use.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from agentls.context.graph import RankedDefinition, RepoGraph
from agentls.tokens import TokenCounter

#: Definitions whose header is shown above the chosen definitions they contain.
CONTAINER_KINDS = frozenset({"class", "interface", "module", "implementation"})


@dataclass(frozen=True)
class RepoMap:
    text: str
    tokens: int
    definitions: int  # definitions shown
    files: int  # files shown


def render(graph: RepoGraph, ranked: Sequence[RankedDefinition]) -> str:
    order: list[str] = []
    chosen: dict[str, set[str]] = {}
    for item in ranked:
        if item.path not in chosen:
            order.append(item.path)
            chosen[item.path] = set()
        chosen[item.path].add(item.name)
    out: list[str] = []
    for path in order:
        names = chosen[path]
        every = graph.sites_of(path)
        sites = [s for s in every if s.name in names]
        # A method reads better under its class: show the headers of the containers too.
        containers = [c for c in every if c.kind in CONTAINER_KINDS and c.name not in names
                      and any(c.start <= s.start and s.end <= c.end and c is not s for s in sites)]
        out.append(f"{path}:\n")
        shown = sorted({(s.line, s.sig) for s in [*sites, *containers]})
        previous = -2
        for line, sig in shown:
            if line > previous + 1 and previous >= 0:
                out.append(f"{'':>6}⋮\n")
            out.append(f"{line + 1:>6}│ {sig}\n")
            previous = line
    return "".join(out)


def fit(graph: RepoGraph, ranked: Sequence[RankedDefinition], budget: int, counter: TokenCounter) -> RepoMap:
    """The map of the top-ranked definitions whose rendering fits ``budget`` tokens."""
    if budget <= 0 or not ranked:
        return RepoMap("", 0, 0, 0)
    lo, hi = 0, min(len(ranked), budget)  # every shown definition costs at least one token
    best = ""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        text = render(graph, ranked[:mid])
        if counter.count(text) <= budget:
            lo, best = mid, text
        else:
            hi = mid - 1
    if lo == 0:
        return RepoMap("", 0, 0, 0)
    return RepoMap(best, counter.count(best), lo, len({r.path for r in ranked[:lo]}))


def repo_map(graph: RepoGraph, *, focus: Mapping[str, float], mentioned: Collection[str] = (),
             exclude: Collection[str] = (), budget: int, counter: TokenCounter) -> RepoMap:
    return fit(graph, graph.rank(focus, mentioned, exclude), budget, counter)
