// #/memory?workspace=W: the memory files in play at a workspace's root.
import { h, clear, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { pageHeader, workspacePicker, chosenWorkspace, errorLine, loading } from "./common.js";

export function renderMemory(ctx) {
  const { main, signal } = ctx;
  const workspace = chosenWorkspace(ctx);
  if (!workspace) { add(main, pageHeader("Memory"), emptyState("No workspace is known yet.")); return; }
  const body = h("div", { class: "memory-files" }, loading("Loading memory files…"));
  add(main, 
    pageHeader("Memory"),
    h("div", { class: "toolbar" }, workspacePicker(ctx, workspace, (w) => ctx.navigate(ctx.routeHash("memory", null, { workspace: w })))),
    body);
  (async () => {
    try {
      const d = await api.get("/api/memory", { workspace }, { signal, what: "Could not load memory files" });
      const files = Array.isArray(d.files) ? d.files : [];
      clear(body);
      if (!files.length) { add(body, emptyState("No memory files (AGENTS.md, CLAUDE.md, …) at this workspace's root.")); return; }
      for (const f of files) {
        const rel = String(f.path || "").startsWith(workspace + "/") ? f.path.slice(workspace.length + 1) : f.path;
        const lines = String(f.text || "").replace(/\n$/, "").split("\n").length;
        add(body, h("section", { class: "panel memory-file", "data-testid": "memory-file", "data-path": f.path },
          h("div", { class: "panel-title-row" }, h("h2", { class: "mono", title: f.path }, rel), h("span", { class: "muted small" }, `${lines} line(s)`)),
          h("pre", { class: "code-block memory-text" }, f.text || "")));
      }
    } catch (e) {
      if (!isAbort(e)) put(body, errorLine(e.message));
    }
  })();
}
