// #/health: key, model, circuit, errors, retries, per-workspace index, checkpoints and MCP servers.
import { h, clear, badge, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { bytes, shortId, dateTime } from "../lib/format.js";
import { pageHeader, timeAgo, errorLine, loading } from "./common.js";

function card(title, value, state, testid, note) {
  return h("div", { class: ["stat", "health-card", state ? `is-${state}` : ""], "data-testid": testid, "data-state": state || null },
    h("div", { class: "stat-label" }, title), h("div", { class: "stat-value", title: typeof value === "string" ? value : null }, value), note ? h("div", { class: "muted small" }, note) : null);
}

// Which process paused its calls, why, and until when (the breaker is per process: an editor, a CLI).
function circuitNote(circuits, now) {
  const c = (circuits || [])[0];
  if (!c) return null;
  const why = `${c.failures} failed turn${c.failures === 1 ? "" : "s"}${c.kind ? ` (${c.kind.replace("_", " ")})` : ""}`;
  const where = `${c.frontend || "a process"}, pid ${String(c.owner).split(":")[0]}`;
  const left = c.retry_at ? Math.max(0, Math.round(c.retry_at - now)) : 0;
  const more = circuits.length > 1 ? `; ${circuits.length - 1} more` : "";
  return c.state === "open"
    ? h("span", { "data-testid": "health-circuit-note" }, `Calls paused after ${why} in ${where}; next try in ${left} s${more}`)
    : h("span", { "data-testid": "health-circuit-note" }, `${where}: the next turn is a trial after ${why}${more}`);
}

export function renderHealth(ctx) {
  const { main, signal } = ctx;
  const body = h("div", { class: "vstack" }, loading("Checking…"));
  const refresh = h("button", { type: "button", class: "button", "data-testid": "health-refresh", onClick: () => load() }, "Refresh");
  add(main, pageHeader("Health", refresh), body);

  async function load() {
    refresh.disabled = true;
    try {
      const d = await api.get("/api/health", null, { signal, what: "Could not load health" });
      clear(body);
      const errors = Array.isArray(d.recent_errors) ? d.recent_errors : [];
      add(body, 
        h("div", { class: "stats" },
          card("API key", d.api_key ? "configured" : "missing", d.api_key ? "ok" : "bad", "health-api-key", d.api_key ? null : "Set ANTHROPIC_API_KEY"),
          card("Model", d.model || "–", null, "health-model"),
          card("Circuit", (d.circuit || "–").replace("_", "-"), d.circuit === "open" ? "bad" : d.circuit === "half_open" ? "warn" : "ok", "health-circuit", circuitNote(d.circuits, ctx.now())),
          card("Retries (last hour)", String(d.retries_last_hour ?? 0), (d.retries_last_hour || 0) > 10 ? "warn" : "ok", "health-retries"),
          card("Store", bytes(d.store_bytes), null, "health-store")),
        h("section", { class: "panel", "data-testid": "health-errors" },
          h("h2", null, `Recent errors (${errors.length})`),
          errors.length ? h("ul", { class: "error-list" }, errors.map((e) => h("li", { "data-testid": "health-error" },
            timeAgo(e.time, ctx.now()), " ",
            e.session_id ? h("a", { href: ctx.routeHash("sessions", e.session_id), class: "mono", title: e.session_id }, shortId(e.session_id)) : null, " ",
            h("span", { class: "error-text", title: dateTime(e.time) }, e.text || "")))) : emptyState("No recent errors.")),
        h("section", { class: "panel", "data-testid": "health-workspaces" },
          h("h2", null, "Workspaces"),
          (d.workspaces || []).length ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
            h("thead", null, h("tr", null, h("th", null, "Workspace"), h("th", null, "Symbol index"), h("th", { class: "num" }, "Checkpoints on disk"), h("th", null, "MCP servers"))),
            h("tbody", null, (d.workspaces || []).map((w) => h("tr", { "data-testid": "health-workspace", "data-path": w.path },
              h("td", { class: "mono small", title: w.path }, w.path, w.exists === false ? [" ", badge("missing", "error", { title: "This directory is not there any more" })] : null),
              h("td", { "data-testid": "health-index" }, w.index ? [badge(w.index.built ? "built" : "not built", w.index.built ? "ok" : "pending"), h("span", { class: "muted small" }, ` ${w.index.files ?? 0} files`)] : "–"),
              h("td", { class: "num" }, bytes(w.checkpoints_bytes)),
              h("td", { "data-testid": "health-mcp" }, (w.mcp || []).length ? h("div", { class: "mcp-list" }, (w.mcp || []).map((m) =>
                h("span", { class: "mcp", title: m.detail || "" }, badge(m.state || "?", m.state === "running" || m.state === "ready" || m.state === "connected" ? "ok" : m.state === "failed" || m.state === "error" ? "error" : "pending"), " ", h("span", { class: "mono" }, m.name), m.detail ? h("span", { class: "muted small" }, ` ${m.detail}`) : null))) : h("span", { class: "muted" }, "none")))))))
            : emptyState("No workspace known yet.")));
    } catch (e) {
      if (!isAbort(e)) put(body, errorLine(e.message, load));
    } finally {
      refresh.disabled = false;
    }
  }
  load();
}
