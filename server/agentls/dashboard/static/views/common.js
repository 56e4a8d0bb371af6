// Pieces shared by the views.
import { h, badge } from "../lib/dom.js";
import { relTime, dateTime, shortPath } from "../lib/format.js";

export function pageHeader(title, ...right) {
  return h("div", { class: "page-header" }, h("h1", null, title), h("div", { class: "page-actions" }, right));
}

export function statusBadge(status, live) {
  const st = status || "unknown";
  return h("span", { class: "status-cell" },
    live ? h("span", { class: "spinner", "data-testid": "live-spinner", title: "Running now", "aria-label": "running" }) : null,
    badge(st, st, { title: live ? `${st} (live)` : st }));
}

/** A relative time that the shell keeps fresh; the exact time on hover. */
export function timeAgo(t, now) {
  if (!t) return h("span", { class: "muted" }, "–");
  return h("time", { "data-rel": String(t), title: dateTime(t), datetime: new Date(t * 1000).toISOString() }, relTime(t, now));
}

export function workspaceLabel(path) {
  return h("span", { class: "ws", title: path || "" }, shortPath(path) || "–");
}

/** A select of the workspaces for views that work on one; `onPick(path)`. */
export function workspacePicker(ctx, selected, onPick) {
  const known = ctx.meta.workspaces.includes(selected) || !selected ? ctx.meta.workspaces : [selected, ...ctx.meta.workspaces];
  const sel = h("select", { "data-testid": "workspace-select", "aria-label": "Workspace", onChange: (e) => onPick(e.target.value) },
    known.map((w) => h("option", { value: w, title: w, selected: w === selected }, shortPath(w))));
  sel.value = selected || "";
  return h("label", { class: "field" }, h("span", { class: "field-label" }, "Workspace"), sel);
}

/** The workspace a per-workspace view shows: the one in the hash, the header filter's, or the first. */
export function chosenWorkspace(ctx) {
  const ws = ctx.meta.workspaces;
  if (ctx.route.query.workspace) return ctx.route.query.workspace;
  if (ctx.workspace && ws.includes(ctx.workspace)) return ctx.workspace;
  return ws[0] || "";
}

export function loading(text = "Loading…") {
  return h("div", { class: "loading" }, text);
}

export function errorLine(text, retry) {
  return h("div", { class: "inline-error" }, text,
    retry ? h("button", { type: "button", class: "link-button", "data-testid": "retry", onClick: retry }, "Try again") : null);
}

export function kv(rows) {
  return h("dl", { class: "kv" }, rows.filter(Boolean).map(([k, v, testid]) =>
    h("div", { class: "kv-row", "data-testid": testid || null }, h("dt", null, k), h("dd", null, v))));
}
