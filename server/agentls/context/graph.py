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

import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentls.context.index_db import IndexDB

if TYPE_CHECKING:
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
    start: int = 0  # byte span of the whole definition
    end: int = 0


class RepoGraph:
    """The reference graph of one index generation (immutable once loaded).

    Edges are flat arrays (source file, defining file, name, base weight), ordered by (name, definer,
    referrer) with files in path order and names in sorted order; the definitions ranked are the
    (defining file, name) pairs, in (path, name) order. Definition sites are read from the index when
    a map is rendered (a map shows a few dozen files; keeping every site in memory would not pay).
    """

    def __init__(self, db: IndexDB | None, paths: list[str], names: list[str], src: NDArray[Any],
                 dst: NDArray[Any], name_id: NDArray[Any], base: NDArray[Any], generation: int) -> None:
        import numpy as np

        self._db = db
        self.paths = paths
        self.names = names
        self.generation = generation
        self._path_index = {path: i for i, path in enumerate(paths)}
        self._name_index = {name: i for i, name in enumerate(names)}
        self.src, self.dst, self.name_id, self.base = src, dst, name_id, base
        keys = dst.astype(np.int64) * max(1, len(names)) + name_id
        unique, self.pair_of_edge = np.unique(keys, return_inverse=True)
        self.pair_file = unique // max(1, len(names))
        self.pair_name = unique % max(1, len(names))
        self._sites: dict[str, list[DefinitionSite]] = {}
        self._sites_lock = threading.Lock()

    @property
    def file_count(self) -> int:
        return len(self.paths)

    @property
    def edge_count(self) -> int:
        return len(self.base)

    @property
    def definition_count(self) -> int:
        return len(self.pair_file)

    def sites_of(self, path: str) -> list[DefinitionSite]:
        """The definitions of one file, in line order (from the index, cached per graph)."""
        with self._sites_lock:
            found = self._sites.get(path)
        if found is None:
            rows = self._db.definitions_in(path) if self._db is not None else []
            found = sorted((DefinitionSite(d.name, d.kind, d.line, d.sig, d.start, d.end) for d in rows),
                           key=lambda site: (site.line, site.name))
            with self._sites_lock:
                self._sites[path] = found
        return found

    @classmethod
    def load(cls, db: IndexDB) -> RepoGraph:
        import numpy as np

        generation, by_id, def_rows, ref_rows = db.graph_rows()
        paths = sorted(by_id.values())
        empty = np.zeros(0, dtype=np.int64)
        if not paths:
            return cls(db, [], [], empty, empty, empty, np.zeros(0), generation)
        position = {path: i for i, path in enumerate(paths)}
        lookup = np.full(max(by_id) + 1, -1, dtype=np.int64)
        for file_id, path in by_id.items():
            lookup[file_id] = position[path]
        names = sorted({name for _, name in def_rows})
        name_index = {name: i for i, name in enumerate(names)}
        d_file = lookup[np.fromiter((r[0] for r in def_rows), dtype=np.int64, count=len(def_rows))]
        d_name = np.fromiter((name_index[r[1]] for r in def_rows), dtype=np.int64, count=len(def_rows))
        definers = np.bincount(d_name, minlength=len(names))
        weight = np.fromiter((name_weight(name, int(definers[i])) for i, name in enumerate(names)),
                             dtype=np.float64, count=len(names))
        refs = [(file_id, name_index[name], count) for file_id, name, count in ref_rows if name in name_index]
        r_file = lookup[np.fromiter((r[0] for r in refs), dtype=np.int64, count=len(refs))]
        r_name = np.fromiter((r[1] for r in refs), dtype=np.int64, count=len(refs))
        r_count = np.fromiter((r[2] for r in refs), dtype=np.float64, count=len(refs))
        # A name defined too widely says nothing; a row of a file gone from the index is dropped.
        usable = (definers[r_name] <= MAX_DEFINERS) & (r_file >= 0)
        r_file, r_name, r_count = r_file[usable], r_name[usable], r_count[usable]
        # Join each reference with every definition of its name (defs sorted by name: a range each).
        order = np.lexsort((d_file, d_name))
        d_name, d_file = d_name[order], d_file[order]
        first = np.searchsorted(d_name, r_name, side="left")
        span = np.searchsorted(d_name, r_name, side="right") - first
        ref_of_edge = np.repeat(np.arange(len(r_name)), span)
        within = np.arange(len(ref_of_edge)) - np.repeat(np.cumsum(span) - span, span)
        definer = d_file[np.repeat(first, span) + within]
        src, name_id = r_file[ref_of_edge], r_name[ref_of_edge]
        base = weight[name_id] * np.sqrt(r_count[ref_of_edge])
        keep = (src != definer) & (definer >= 0)
        src, definer, name_id, base = src[keep], definer[keep], name_id[keep], base[keep]
        ordered = np.lexsort((src, definer, name_id))
        return cls(db, paths, names, src[ordered], definer[ordered], name_id[ordered], base[ordered], generation)

    def rank(
        self,
        focus: Mapping[str, float],
        mentioned: Collection[str] = (),
        exclude: Collection[str] = (),
        limit: int = 5_000,
    ) -> list[RankedDefinition]:
        """The ``limit`` best definitions: PageRank personalised on ``focus`` (path -> weight; empty:
        uniform), names in ``mentioned`` weighted up, definitions in ``exclude`` (paths) left out."""
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
        scores = np.bincount(self.pair_of_edge, weights=flow, minlength=len(self.pair_file))
        excluded = np.array(sorted(self._path_index[p] for p in exclude if p in self._path_index), dtype=np.int64)
        candidates = np.flatnonzero((scores > 0) & ~np.isin(self.pair_file, excluded))
        # Best score first; equal scores in (path, name) order, which is the pairs' own order.
        best = candidates[np.lexsort((candidates, -np.round(scores[candidates], 12)))][:limit]
        return [RankedDefinition(self.paths[int(self.pair_file[i])], self.names[int(self.pair_name[i])],
                                 float(scores[i])) for i in best]

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
