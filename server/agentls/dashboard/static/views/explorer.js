// #/explorer?workspace=W: symbol search, a symbol's definitions and references, a file's repo map.
import { h, clear, debounce, emptyState, badge, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { pageHeader, workspacePicker, chosenWorkspace, errorLine, loading } from "./common.js";

export function renderExplorer(ctx) {
  const { main, signal } = ctx;
  const workspace = chosenWorkspace(ctx);
  if (!workspace) { add(main, pageHeader("Explorer"), emptyState("No workspace is known yet.")); return; }

  const search = h("input", { type: "search", placeholder: "Symbol name (prefix)…", "data-testid": "symbol-search", "aria-label": "Search symbols", value: ctx.route.query.q || "", autocomplete: "off", spellcheck: "false" });
  const results = h("div", { class: "symbol-results", "data-testid": "symbol-results" }, emptyState("Type the start of a class, function or variable name."));
  const symbolBox = h("section", { class: "panel", "data-testid": "symbol-detail" }, h("h2", null, "Symbol"), emptyState("Pick a symbol to see where it is defined and used."));
  const pathInput = h("input", { type: "text", placeholder: "path/in/workspace.py", "data-testid": "repomap-path", "aria-label": "File path", spellcheck: "false" });
  const mapBox = h("div", { class: "repo-map-box" }, emptyState("Pick a file (or type its path) to see its repo map."));
  add(main, 
    pageHeader("Explorer"),
    h("div", { class: "toolbar" }, workspacePicker(ctx, workspace, (w) => ctx.navigate(ctx.routeHash("explorer", null, { workspace: w })))),
    h("div", { class: "split explorer" },
      h("section", { class: "panel" }, h("h2", null, "Symbols"), search, results),
      h("div", { class: "stack" },
        symbolBox,
        h("section", { class: "panel" },
          h("h2", null, "Repo map"),
          h("form", { class: "inline-form", onSubmit: (e) => { e.preventDefault(); if (pathInput.value.trim()) showMap(pathInput.value.trim()); } },
            pathInput, h("button", { type: "submit", class: "button" }, "Show")),
          mapBox))));

  let seq = 0;
  async function find() {
    const q = search.value.trim();
    const mine = ++seq;
    history.replaceState(null, "", ctx.routeHash("explorer", null, { workspace, q }));
    if (!q) { put(results, emptyState("Type the start of a class, function or variable name.")); return; }
    put(results, loading("Searching…"));
    try {
      const d = await api.get("/api/symbols", { workspace, q }, { signal, what: "Could not search symbols" });
      if (mine !== seq) return;
      const syms = Array.isArray(d.symbols) ? d.symbols : [];
      clear(results);
      if (d.indexed === false) add(results, h("div", { class: "notice-line" }, "The symbol index of this workspace is not built yet: results may be missing."));
      if (!syms.length) { add(results, emptyState(`No symbol starts with “${q}”.`)); return; }
      add(results, h("ul", { class: "symbol-list" }, syms.map((sy) => h("li", null,
        h("button", { type: "button", class: "symbol-result", "data-testid": "symbol-result", "data-name": sy.name, onClick: (e) => pick(sy.name, e.currentTarget) },
          badge(sy.kind || "?", `kind-${sy.kind || "other"}`), h("span", { class: "mono sym-name" }, sy.name),
          h("span", { class: "muted small mono sym-loc", title: `${sy.path}:${sy.line}` }, `${sy.path}:${sy.line}`))))));
      if (syms.length >= 100) add(results, h("div", { class: "muted small" }, "The first 100: type more to narrow."));
    } catch (e) {
      if (!isAbort(e) && mine === seq) put(results, errorLine(e.message));
    }
  }

  function fileLink(path, line) {
    return h("a", { href: "#", class: "mono", title: "Show this file's repo map", onClick: (e) => { e.preventDefault(); pathInput.value = path; showMap(path); } },
      line ? `${path}:${line}` : path);
  }

  async function pick(name, btn) {
    for (const b of results.querySelectorAll(".symbol-result")) b.classList.toggle("selected", b === btn);
    put(symbolBox, h("h2", { class: "mono" }, name), loading());
    try {
      const d = await api.get("/api/symbol", { workspace, name }, { signal, what: "Could not load the symbol" });
      const defs = Array.isArray(d.definitions) ? d.definitions : [];
      const refs = Array.isArray(d.references) ? d.references : [];
      put(symbolBox, 
        h("h2", { class: "mono" }, name),
        h("h3", null, `Definitions (${defs.length})`),
        defs.length ? h("ul", { class: "plain-list", "data-testid": "symbol-definitions" }, defs.map((x) => h("li", null, badge(x.kind || "?", `kind-${x.kind || "other"}`), " ", fileLink(x.path, x.line)))) : emptyState("None found."),
        h("h3", null, `References (${refs.length} file(s))`),
        refs.length ? h("ul", { class: "plain-list", "data-testid": "symbol-references" }, refs.map((r) => h("li", null, fileLink(r.path), h("span", { class: "muted small" }, ` ×${r.count ?? "?"}`)))) : emptyState("None found."));
    } catch (e) {
      if (!isAbort(e)) put(symbolBox, h("h2", { class: "mono" }, name), errorLine(e.message));
    }
  }

  let mapSeq = 0;
  async function showMap(path) {
    const mine = ++mapSeq;
    put(mapBox, loading());
    try {
      const d = await api.get("/api/repomap", { workspace, path }, { signal, what: "Could not load the repo map" });
      if (mine !== mapSeq) return;
      put(mapBox, String(d.text || "").trim() ? h("pre", { class: "code-block repo-map", "data-testid": "repo-map", "data-path": path }, d.text) : h("div", { class: "empty", "data-testid": "repo-map", "data-path": path }, "Nothing to show for this file."));
    } catch (e) {
      if (!isAbort(e) && mine === mapSeq) put(mapBox, errorLine(e.message));
    }
  }

  const findSoon = debounce(find, 250);
  signal.addEventListener("abort", () => findSoon.cancel());
  search.addEventListener("input", findSoon);
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") { findSoon.cancel(); find(); } });
  if (search.value) find();
  setTimeout(() => search.focus(), 0);
}
