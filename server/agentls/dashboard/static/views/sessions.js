// #/sessions: the sessions table, paged, filtered, live.
import { h, clear, debounce, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { money, tokens, duration, oneLine, sessionTokens, tokenBreakdown } from "../lib/format.js";
import { pageHeader, statusBadge, timeAgo, workspaceLabel, errorLine } from "./common.js";

const STATUSES = ["", "running", "interrupted", "completed", "failed", "cancelled", "budget", "max_turns", "error"];
const PAGE = 50;
// Kept while the page is open, so coming back from a session keeps the filters.
const filters = { status: "", q: "" };

function frontendLabel(f) {
  return String(f || "–");
}

export function sessionRow(s, ctx) {
  const now = ctx.now();
  const dur = s.ended ? duration(s.ended - s.started) : null;
  const open = () => ctx.navigate(ctx.routeHash("sessions", s.id));
  return h("tr", {
    class: ["session-row", s.live ? "is-live" : ""],
    "data-testid": "session-row", "data-session-id": s.id, "data-status": s.status || "",
    tabindex: "0",
    onClick: (e) => { if (!e.target.closest("a")) open(); },
    onKeydown: (e) => { if (e.key === "Enter") open(); },
  },
    h("td", { class: "col-status" }, statusBadge(s.status, s.live)),
    h("td", { class: "col-kind" }, s.kind || "–"),
    h("td", { class: "col-frontend" }, frontendLabel(s.frontend)),
    h("td", { class: "col-ws" }, workspaceLabel(s.workspace)),
    h("td", { class: "col-instr" }, h("a", { href: ctx.routeHash("sessions", s.id), class: "instr", title: oneLine(s.instruction, 2000) }, oneLine(s.instruction) || h("span", { class: "muted" }, "(no instruction)"))),
    h("td", { class: "col-model" }, h("span", { title: s.model || "" }, s.model || "–")),
    h("td", { class: "col-started" }, timeAgo(s.started, now)),
    h("td", { class: "col-dur num" }, s.ended ? dur : s.live ? h("span", { "data-since": String(s.started) }, duration(now - s.started)) : "–"),
    h("td", { class: "col-turns num" }, String(s.turns ?? 0)),
    h("td", { class: "col-tokens num", title: tokenBreakdown(s) }, tokens(sessionTokens(s))),
    h("td", { class: "col-cost num" }, money(s.cost_usd)));
}

export function renderSessions(ctx) {
  const { main, signal } = ctx;
  let next = null;
  let total = 0;
  let loaded = [];
  let seq = 0;
  let ready = false; // a page has loaded: live rows can go in

  const countEl = h("span", { class: "muted count", "data-testid": "sessions-count" });
  const search = h("input", { type: "search", placeholder: "Search instructions…  (/)", value: filters.q, "data-testid": "sessions-search", "aria-label": "Search instructions" });
  const status = h("select", { "data-testid": "status-filter", "aria-label": "Status" },
    STATUSES.map((st) => h("option", { value: st }, st || "Any status")));
  status.value = filters.status;

  const tbody = h("tbody");
  const table = h("table", { class: "table sessions-table", "data-testid": "sessions-table" },
    h("thead", null, h("tr", null,
      ["Status", "Kind", "Front end", "Workspace", "Instruction", "Model", "Started", "Duration", "Turns", "Tokens", "Cost"].map((c, i) =>
        h("th", { class: i >= 7 ? "num" : "" }, c)))),
    tbody);
  const more = h("button", { type: "button", class: "button", "data-testid": "load-more", hidden: true, onClick: () => load(false) }, "Load more");
  const message = h("div");
  add(main, 
    pageHeader("Sessions", countEl),
    h("div", { class: "toolbar" }, search, status),
    h("div", { class: "table-wrap" }, table),
    message,
    h("div", { class: "pager" }, more));

  function matches(s) {
    if (ctx.workspace && s.workspace !== ctx.workspace) return false;
    if (filters.status && s.status !== filters.status) return false;
    if (filters.q && !String(s.instruction || "").toLowerCase().includes(filters.q.toLowerCase())) return false;
    return true;
  }

  function updateCount() {
    countEl.textContent = total ? `${loaded.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}` : "";
  }

  async function load(reset) {
    const mine = ++seq;
    if (reset) { next = null; }
    more.disabled = true;
    more.textContent = "Loading…";
    if (reset && !loaded.length) put(message, h("div", { class: "loading" }, "Loading sessions…"));
    try {
      const data = await api.get("/api/sessions", {
        limit: PAGE, cursor: reset ? null : next, workspace: ctx.workspace, status: filters.status, q: filters.q,
      }, { signal, what: "Could not load sessions" });
      if (mine !== seq) return;
      const rows = Array.isArray(data.sessions) ? data.sessions : [];
      if (reset) { clear(tbody); loaded = []; }
      for (const s of rows) {
        if (loaded.some((x) => x.id === s.id)) continue;
        loaded.push(s);
        tbody.appendChild(sessionRow(s, ctx));
      }
      next = data.next ?? null;
      ready = true;
      total = Number(data.total ?? loaded.length);
      put(message, loaded.length ? "" : emptyState(filters.q || filters.status ? "No session matches these filters." : "No sessions yet. Start one from your editor, the CLI or an ACP client.", "sessions-empty"));
    } catch (e) {
      if (isAbort(e) || mine !== seq) return;
      if (reset) { ready = false; clear(tbody); loaded = []; total = 0; next = null; }
      put(message, errorLine(e.message, () => load(true)));
    } finally {
      if (mine === seq) {
        more.hidden = !next;
        more.disabled = false;
        more.textContent = "Load more";
        updateCount();
      }
    }
  }

  const reload = debounce(() => load(true), 250);
  search.addEventListener("input", () => { filters.q = search.value.trim(); reload(); });
  status.addEventListener("change", () => { filters.status = status.value; load(true); });
  signal.addEventListener("abort", () => reload.cancel());

  ctx.on("session", (s) => {
    if (!s || !s.id || !ready) return;
    const idx = loaded.findIndex((x) => x.id === s.id);
    const row = tbody.querySelector(`tr[data-session-id="${CSS.escape(s.id)}"]`);
    if (idx >= 0 && row) {
      loaded[idx] = s;
      if (!matches(s)) { row.remove(); loaded.splice(idx, 1); total = Math.max(0, total - 1); }
      else row.replaceWith(sessionRow(s, ctx));
      updateCount();
      return;
    }
    if (!matches(s)) return;
    // New: insert where it belongs (newest first) if that is inside what is loaded.
    const pos = loaded.findIndex((x) => (x.started || 0) < (s.started || 0));
    if (pos < 0 && next) return; // older than the loaded page: "Load more" will bring it
    const el = sessionRow(s, ctx);
    el.classList.add("flash");
    if (pos < 0) { tbody.appendChild(el); loaded.push(s); }
    else { tbody.insertBefore(el, tbody.children[pos]); loaded.splice(pos, 0, s); }
    total += 1;
    put(message, "");
    updateCount();
  });
  ctx.on("resync", () => load(true));

  load(true);
}
