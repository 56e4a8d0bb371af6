// #/checkpoints?workspace=W[&id=C]: a workspace's checkpoints, one's diff against now, restore and undo.
import { h, clear, debounce, emptyState, collapsible, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { bytes, dateTime, shortId, shortPath, oneLine } from "../lib/format.js";
import { renderDiff } from "../lib/diff.js";
import { pageHeader, timeAgo, workspacePicker, chosenWorkspace, errorLine, loading } from "./common.js";

/** A modal confirmation; resolves true on "yes". */
export function confirmDialog({ title, body, yes, danger = true }) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "dialog", "data-testid": "confirm-dialog", "aria-label": title });
    const done = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    add(dlg, 
      h("h2", null, title),
      h("div", { class: "dialog-body" }, body),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "button", "data-testid": "confirm-no", onClick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: ["button", danger ? "danger" : "primary"], "data-testid": "confirm-yes", onClick: () => done(true) }, yes)));
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
    add(document.body, dlg);
    dlg.showModal();
    dlg.querySelector("[data-testid=confirm-no]").focus();
  });
}

function fileCount(files) {
  if (Array.isArray(files)) return String(files.length);
  return files === null || files === undefined ? "–" : String(files);
}

export function renderCheckpoints(ctx) {
  const { main, signal } = ctx;
  const workspace = chosenWorkspace(ctx);
  let selected = ctx.route.query.id || null;
  let checkpoints = [];

  const disk = h("span", { class: "muted", "data-testid": "checkpoints-disk" });
  if (!workspace) {
    add(main, pageHeader("Checkpoints"), emptyState("No workspace is known yet: checkpoints appear once a session ran in one."));
    return;
  }
  const tbody = h("tbody");
  const listMessage = h("div", null, loading("Loading checkpoints…"));
  const side = h("section", { class: "panel checkpoint-side", "data-testid": "checkpoint-detail" }, emptyState("Select a checkpoint to see what changed since."));
  add(main, 
    pageHeader("Checkpoints", disk),
    h("div", { class: "toolbar" }, workspacePicker(ctx, workspace, (w) => ctx.navigate(ctx.routeHash("checkpoints", null, { workspace: w })))),
    h("div", { class: "split" },
      h("section", { class: "panel list-panel" },
        h("div", { class: "table-wrap" }, h("table", { class: "table checkpoints-table", "data-testid": "checkpoints-table" },
          h("thead", null, h("tr", null, ["Time", "Trigger", "Summary", "Files", "Session"].map((c, i) => h("th", { class: i === 3 ? "num" : "" }, c)))),
          tbody)),
        listMessage),
      side));

  function setHash() {
    history.replaceState(null, "", ctx.routeHash("checkpoints", null, { workspace, id: selected }));
  }

  function renderList() {
    clear(tbody);
    for (const c of checkpoints) {
      const pick = () => { selected = c.id; setHash(); renderList(); showCheckpoint(c); };
      add(tbody, h("tr", {
        class: ["checkpoint-row", c.id === selected ? "selected" : ""], tabindex: "0",
        "data-testid": "checkpoint-row", "data-checkpoint-id": c.id,
        onClick: (e) => { if (!e.target.closest("a")) pick(); }, onKeydown: (e) => { if (e.key === "Enter") pick(); },
      },
      h("td", { class: "nowrap" }, timeAgo(c.time, ctx.now())),
      h("td", null, h("span", { class: "tag" }, c.trigger || "–")),
      h("td", { class: "col-instr" }, h("span", { class: "ellipsis", title: c.summary || "" }, oneLine(c.summary, 200) || h("span", { class: "muted" }, "(no summary)"))),
      h("td", { class: "num", title: Array.isArray(c.files) ? c.files.join("\n") : null }, fileCount(c.files)),
      h("td", null, c.session_id ? h("a", { href: ctx.routeHash("sessions", c.session_id), class: "mono", title: c.session_id }, shortId(c.session_id)) : h("span", { class: "muted" }, "–"))));
    }
    put(listMessage, checkpoints.length ? "" : emptyState("No checkpoints in this workspace.", "checkpoints-empty"));
  }

  async function loadList() {
    try {
      const data = await api.get("/api/checkpoints", { workspace, limit: 100 }, { signal, what: "Could not load checkpoints" });
      checkpoints = Array.isArray(data.checkpoints) ? data.checkpoints : [];
      disk.textContent = data.disk_bytes !== null && data.disk_bytes !== undefined ? `${checkpoints.length} checkpoint(s) · ${bytes(data.disk_bytes)} on disk` : `${checkpoints.length} checkpoint(s)`;
      renderList();
      const c = checkpoints.find((x) => x.id === selected);
      if (c && !side.dataset.shown) showCheckpoint(c);
    } catch (e) {
      if (!isAbort(e)) put(listMessage, errorLine(e.message, loadList));
    }
  }

  let diffSeq = 0;
  async function showCheckpoint(c, result) {
    const mine = ++diffSeq;
    side.dataset.shown = c.id;
    clear(side);
    const diffBox = h("div", { class: "checkpoint-diff-box" }, loading("Loading the diff…"));
    const resultBox = h("div");
    if (result) add(resultBox, result);
    add(side, 
      h("div", { class: "panel-title-row" },
        h("h2", null, "Checkpoint ", h("span", { class: "mono", title: c.id }, shortId(c.id))),
        h("button", { type: "button", class: "button danger", "data-testid": "restore-button", onClick: () => restore(c, resultBox) }, "Restore…")),
      h("div", { class: "muted small" }, `${dateTime(c.time)} · ${c.trigger || ""} · ${fileCount(c.files)} file(s)`, c.step ? ` · step ${c.step}` : ""),
      c.summary ? h("p", { class: "cp-summary" }, c.summary) : null,
      Array.isArray(c.files) && c.files.length ? collapsible(h("span", { class: "tl-sub" }, "Files in this checkpoint"), h("ul", { class: "mono small file-ul" }, c.files.map((f) => h("li", null, f)))) : null,
      resultBox,
      h("h3", null, "Changes since then (checkpoint → now)"),
      diffBox);
    try {
      const data = await api.get(`/api/checkpoints/${encodeURIComponent(c.id)}/diff`, { workspace }, { signal, what: "Could not load the checkpoint's diff" });
      if (mine !== diffSeq) return;
      put(diffBox, String(data.diff || "").trim() ? renderDiff(data.diff, { testid: "checkpoint-diff", showFileHeaders: true }) : h("div", { class: "empty", "data-testid": "checkpoint-diff" }, "No difference: the files are as they were at this checkpoint."));
    } catch (e) {
      if (!isAbort(e) && mine === diffSeq) put(diffBox, errorLine(e.message));
    }
  }

  async function restore(c, resultBox) {
    const ok = await confirmDialog({
      title: `Restore checkpoint ${shortId(c.id)}?`,
      yes: "Restore",
      body: [
        h("p", null, "In ", h("span", { class: "mono", title: workspace }, shortPath(workspace)), `, as of ${dateTime(c.time)}:`),
        h("ul", null,
          h("li", null, "Files will be brought back to this checkpoint: the changes listed below are undone."),
          h("li", null, "Files created since then are deleted; files deleted since then come back."),
          h("li", null, "A safety checkpoint is taken first so you can undo.")),
      ],
    });
    if (!ok) return;
    await doRestore(c.id, resultBox, false);
  }

  async function doRestore(cid, resultBox, isUndo) {
    put(resultBox, loading(isUndo ? "Undoing…" : "Restoring…"));
    try {
      const r = await api.post(`/api/checkpoints/${encodeURIComponent(cid)}/restore`, { workspace }, { signal, quiet: true, what: isUndo ? "Undo failed" : "Restore failed" });
      const list = (label, items) => h("div", { class: "result-list" }, h("strong", null, `${label} (${(items || []).length})`),
        (items || []).length ? h("ul", { class: "mono small" }, items.map((p) => h("li", null, p))) : h("span", { class: "muted small" }, " none"));
      const panel = h("div", { class: "restore-result", "data-testid": "restore-result", "data-safety-checkpoint": r.safety_checkpoint || "" },
        h("div", { class: "result-title" }, isUndo ? "✓ Undone." : "✓ Restored.", r.safety_checkpoint ? h("span", { class: "muted small" }, ` Safety checkpoint ${shortId(r.safety_checkpoint)}.`) : null),
        list("Restored", r.restored), list("Deleted", r.deleted), list("Created", r.created),
        (r.skipped || []).length ? list("Skipped", r.skipped) : null,
        r.safety_checkpoint ? h("button", { type: "button", class: "button", "data-testid": "undo-button", onClick: () => doRestore(r.safety_checkpoint, resultBox, true) }, isUndo ? "Redo (restore the safety checkpoint)" : "Undo") : null);
      put(resultBox, panel);
      await loadList();
      const c = checkpoints.find((x) => x.id === selected);
      if (c) { const keep = panel; await showCheckpoint(c, keep); }
    } catch (e) {
      if (!isAbort(e)) put(resultBox, h("div", { class: "inline-error", "data-testid": "restore-result", "data-error": "true" }, e.message));
    }
  }

  const reload = debounce(loadList, 400);
  signal.addEventListener("abort", () => reload.cancel());
  ctx.on("checkpoint", (c) => { if (!c || !c.workspace || c.workspace === workspace) reload(); });
  ctx.on("resync", reload);
  loadList();
}
