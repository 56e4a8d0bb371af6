"""The reference graph between files, and ranking its definitions towards what is in play.

Aider's repo map design, vectorised: an edge goes from each file that references a name to each file
that defines it, weighted by how telling the name is (long, specific names count more; private and
widely defined ones less) and by the square root of the number of references. A personalised
PageRank over the files, started from the files in play, then spreads each file's rank over its
outgoing edges: a definition's score is the rank flowing into it through its name.

Loading builds flat numpy arrays once per index generation; a query only reweights them and runs
the power iteration (milliseconds on tens of thousands of files). Everything is ordered by path and
name, never by row id or hash order, so the same index and query give the same ranking.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentls.context.index_db import IndexDB

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: A name defined in more files than this tells nothing about which one a reference means.
MAX_DEFINERS = 40
DAMPING = 0.85
MAX_ITERATIONS = 60
TOLERANCE = 1e-8
#: Weight factors (Aider's, which its users have tuned for two years).
MENTIONED = 10.0
SPECIFIC = 10.0
PRIVATE = 0.1
COMMON = 0.1
FROM_FOCUS = 50.0
#: Share of the restart probability spread over all files when there is a focus.
BACKGROUND = 0.05
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Z][a-z]")


def name_weight(name: str, definers: int) -> float:
    """How much a reference to ``name`` says about the files that define it."""
    weight = 1.0
    if len(name) >= 8 and ("_" in name.strip("_") or "-" in name or _CAMEL.search(name)):
        weight *= SPECIFIC
    if name.startswith("_"):
        weight *= PRIVATE
    if definers > 5:
        weight *= COMMON
    return weight


@dataclass(frozen=True, slots=True)
class RankedDefinition:
    path: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class DefinitionSite:
    name: str
    kind: str
    line: int
    sig: str


class RepoGraph:
    """The reference graph of one index generation (immutable once loaded)."""

    def __init__(self, paths: list[str], edges: dict[tuple[int, int, int], float], names: list[str],
                 sites: dict[int, list[DefinitionSite]], generation: int) -> None:
        import numpy as np

        self.paths = paths
        self.names = names
        self.generation = generation
        self.sites = sites
        self._path_index = {path: i for i, path in enumerate(paths)}
        self._name_index = {name: i for i, name in enumerate(names)}
        keys = sorted(edges)
        self.src: NDArray[np.int64] = np.array([k[0] for k in keys], dtype=np.int64)
        self.dst: NDArray[np.int64] = np.array([k[1] for k in keys], dtype=np.int64)
        self.name_id: NDArray[np.int64] = np.array([k[2] for k in keys], dtype=np.int64)
        self.base: NDArray[np.float64] = np.array([edges[k] for k in keys], dtype=np.float64)
        # Each edge feeds one (definer, name) pair; the pairs are what the map ranks.
        pairs = sorted({(int(d), int(n)) for d, n in zip(self.dst, self.name_id, strict=True)},
                       key=lambda p: (paths[p[0]], names[p[1]]))
        self.pairs = pairs
        pair_index = {pair: i for i, pair in enumerate(pairs)}
        self.pair_of_edge: NDArray[np.int64] = np.array(
            [pair_index[(int(d), int(n))] for d, n in zip(self.dst, self.name_id, strict=True)], dtype=np.int64)

    @property
    def file_count(self) -> int:
        return len(self.paths)

    @property
    def edge_count(self) -> int:
        return len(self.base)

    def index_of(self, path: str) -> int | None:
        return self._path_index.get(path)

    @classmethod
    def load(cls, db: IndexDB) -> RepoGraph:
        generation = db.generation()
        by_id = db.paths_by_id()
        paths = sorted(by_id.values())
        index = {path: i for i, path in enumerate(paths)}
        file_of = {file_id: index[path] for file_id, path in by_id.items()}
        definers: dict[str, set[int]] = defaultdict(set)
        for file_id, name in db.definitions_by_file():
            if file_id in file_of:
                definers[name].add(file_of[file_id])
        names = sorted(definers)
        name_id = {name: i for i, name in enumerate(names)}
        weights = {name: name_weight(name, len(files)) for name, files in definers.items()}
        edges: dict[tuple[int, int, int], float] = {}
        for file_id, name, count in db.reference_counts():
            files = definers.get(name)
            src = file_of.get(file_id)
            if not files or src is None or len(files) > MAX_DEFINERS:
                continue
            weight = weights[name] * math.sqrt(count)
            nid = name_id[name]
            for dst in files:
                if dst != src:
                    edges[(src, dst, nid)] = weight
        sites: dict[int, list[DefinitionSite]] = defaultdict(list)
        for d in db.all_definitions():
            sites[index[d.path]].append(DefinitionSite(d.name, d.kind, d.line, d.sig))
        for found in sites.values():
            found.sort(key=lambda s: (s.line, s.name))
        return cls(paths, edges, names, dict(sites), generation)

    def rank(
        self,
        focus: Mapping[str, float],
        mentioned: Collection[str] = (),
        exclude: Collection[str] = (),
    ) -> list[RankedDefinition]:
        """Definitions, best first: PageRank personalised on ``focus`` (path -> weight; empty: uniform),
        names in ``mentioned`` weighted up, definitions in ``exclude`` (paths) left out."""
        import numpy as np

        n = len(self.paths)
        if n == 0 or len(self.base) == 0:
            return []
        focus_index = {self._path_index[p]: w for p, w in focus.items() if p in self._path_index and w > 0}
        weights = self.base.copy()
        mentioned_ids = [self._name_index[m] for m in mentioned if m in self._name_index]
        if mentioned_ids:
            weights[np.isin(self.name_id, np.array(mentioned_ids, dtype=np.int64))] *= MENTIONED
        if focus_index:
            weights[np.isin(self.src, np.array(sorted(focus_index), dtype=np.int64))] *= FROM_FOCUS
        personal = np.full(n, 1.0 / n)
        if focus_index:
            focused = np.zeros(n)
            for i, w in focus_index.items():
                focused[i] = w
            # Mostly the focus, plus a little of everywhere: files far from it still rank, lower.
            personal = (1 - BACKGROUND) * focused / focused.sum() + BACKGROUND * personal
        rank = self._pagerank(weights, personal)
        out_sum = np.bincount(self.src, weights=weights, minlength=n)
        flow = rank[self.src] * weights / out_sum[self.src]
        scores = np.bincount(self.pair_of_edge, weights=flow, minlength=len(self.pairs))
        excluded = {self._path_index[p] for p in exclude if p in self._path_index}
        # Best score first; equal scores in (path, name) order, which is the pairs' own order.
        order = np.lexsort((np.arange(len(self.pairs)), -np.round(scores, 12)))
        ranked = []
        for i in order:
            file, name = self.pairs[int(i)]
            if file in excluded or scores[i] <= 0:
                continue
            ranked.append(RankedDefinition(self.paths[file], self.names[name], float(scores[i])))
        return ranked

    def _pagerank(self, weights: NDArray[Any], personal: NDArray[Any]) -> NDArray[Any]:
        import numpy as np

        n = len(personal)
        out_sum = np.bincount(self.src, weights=weights, minlength=n)
        dangling = out_sum == 0
        norm = weights / out_sum[self.src]
        rank = personal.copy()
        for _ in range(MAX_ITERATIONS):
            spread = np.bincount(self.dst, weights=rank[self.src] * norm, minlength=n)
            new = DAMPING * (spread + rank[dangling].sum() * personal) + (1 - DAMPING) * personal
            converged = float(np.abs(new - rank).sum()) < TOLERANCE
            rank = new
            if converged:
                break
        return rank
