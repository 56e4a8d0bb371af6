// #/usage[?days=N]: cost and tokens per day, per model and per workspace, the cache-read share.
import { h, clear, debounce, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { money, tokens, percent, shortPath } from "../lib/format.js";
import { stackedBarChart, meter } from "../lib/charts.js";
import { pageHeader, errorLine, loading } from "./common.js";

const RANGES = [7, 30, 90];
const TOKEN_SERIES = [
  { key: "input_tokens", label: "Input", cls: "s-input" },
  { key: "output_tokens", label: "Output", cls: "s-output" },
  { key: "cache_write_tokens", label: "Cache write", cls: "s-cache-write" },
  { key: "cache_read_tokens", label: "Cache read", cls: "s-cache-read" },
];

const allTokens = (r) => (r.input_tokens || 0) + (r.output_tokens || 0) + (r.cache_write_tokens || 0) + (r.cache_read_tokens || 0);

function moneyAxis(v, exact) {
  if (exact) return money(v);
  if (v === 0) return "$0";
  return v < 1 ? "$" + Number(v.toPrecision(2)) : "$" + (v >= 1000 ? tokens(v) : Number(v.toFixed(2)));
}

function breakdownTable(rows, labelKey, testid, label) {
  const max = Math.max(0, ...rows.map((r) => r.cost_usd || 0));
  const sorted = [...rows].sort((a, b) => (b.cost_usd || 0) - (a.cost_usd || 0));
  return h("section", { class: "panel", "data-testid": testid },
    h("h2", null, `By ${label}`),
    sorted.length ? h("div", { class: "table-wrap" }, h("table", { class: "table compact" },
      h("thead", null, h("tr", null, h("th", null, label[0].toUpperCase() + label.slice(1)), h("th", { class: "bar-col" }, "Cost"), h("th", { class: "num" }, ""), h("th", { class: "num" }, "Tokens"), h("th", { class: "num" }, "Sessions"))),
      h("tbody", null, sorted.map((r) => h("tr", { "data-testid": `${testid}-row` },
        h("td", { class: "ellipsis", title: r[labelKey] || "" }, labelKey === "workspace" ? shortPath(r[labelKey]) : (r[labelKey] || "–")),
        h("td", { class: "bar-col" }, meter(max ? (r.cost_usd || 0) / max : 0)),
        h("td", { class: "num" }, money(r.cost_usd)),
        h("td", { class: "num", title: `input ${tokens(r.input_tokens)} · output ${tokens(r.output_tokens)} · cache write ${tokens(r.cache_write_tokens)} · cache read ${tokens(r.cache_read_tokens)}` }, tokens(allTokens(r))),
        h("td", { class: "num" }, r.sessions !== undefined ? String(r.sessions) : "–")))))) : emptyState("Nothing in this range."));
}

const pad = (n) => String(n).padStart(2, "0");
const localDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** Every day of the range, oldest first: the store answers only the days that had usage. */
export function fillDays(rows, days, now) {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out = [];
  const today = new Date(now * 1000);
  for (let i = days - 1; i >= 0; i -= 1) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i, 12);
    const key = localDay(d);
    out.push(byDay.get(key) || { day: key, cost_usd: 0, input_tokens: 0, output_tokens: 0, cache_write_tokens: 0, cache_read_tokens: 0, sessions: 0 });
    byDay.delete(key);
  }
  // Days the browser's calendar did not produce (another time zone): kept, in order.
  if (byDay.size) return [...out, ...byDay.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)));
  return out;
}

export function renderUsage(ctx) {
  const { main, signal } = ctx;
  let days = RANGES.includes(Number(ctx.route.query.days)) ? Number(ctx.route.query.days) : 30;
  const body = h("div", { class: "vstack" }, loading("Loading usage…"));
  const range = h("div", { class: "segmented", role: "group", "aria-label": "Range", "data-testid": "usage-range" });
  function renderRange() {
    clear(range);
    for (const d of RANGES) {
      add(range, h("button", { type: "button", class: ["seg", d === days ? "active" : ""], "aria-pressed": d === days ? "true" : "false", "data-days": String(d),
        onClick: () => { days = d; history.replaceState(null, "", ctx.routeHash("usage", null, { days: d })); renderRange(); load(); } }, `${d} days`));
    }
  }
  renderRange();
  add(main, pageHeader("Usage", range), body);

  let seq = 0;
  async function load() {
    const mine = ++seq;
    try {
      const data = await api.get("/api/usage", { days, workspace: ctx.workspace }, { signal, what: "Could not load usage" });
      if (mine !== seq) return;
      show(data);
    } catch (e) {
      if (!isAbort(e) && mine === seq) put(body, errorLine(e.message, load));
    }
  }

  function show(data) {
    const rows = fillDays(Array.isArray(data.days) ? data.days : [], days, ctx.now()).map((d) => ({ ...d, label: String(d.day || "").slice(5), title: d.day }));
    const total = data.total || {};
    const share = Number(total.cache_read_share ?? 0);
    clear(body);
    add(body, 
      h("div", { class: "stats" },
        h("div", { class: "stat big", "data-testid": "cache-share", title: "cache read / (input + cache write + cache read) tokens" },
          h("div", { class: "stat-value" }, percent(share)), h("div", { class: "stat-label" }, "of input tokens read from the cache"), meter(share, "ok")),
        stat("Cost", money(total.cost_usd), "usage-total-cost"),
        stat("Tokens", tokens(allTokens(total)), "usage-total-tokens", `input ${tokens(total.input_tokens)} · output ${tokens(total.output_tokens)} · cache write ${tokens(total.cache_write_tokens)} · cache read ${tokens(total.cache_read_tokens)}`),
        stat("Sessions", total.sessions !== undefined ? String(total.sessions) : "–", "usage-total-sessions"),
        stat("Per day", money((total.cost_usd || 0) / Math.max(1, rows.length)), "usage-per-day")),
      h("div", { class: "charts" },
        h("section", { class: "panel" }, stackedBarChart({
          rows: rows.map((r) => ({ label: r.label, title: `${r.day} · ${r.sessions ?? 0} session(s)`, values: { cost_usd: r.cost_usd || 0 } })),
          series: [{ key: "cost_usd", label: "Cost", cls: "s-cost" }],
          format: moneyAxis, testid: "usage-chart-cost", title: `Cost per day (last ${days} days)`,
        })),
        h("section", { class: "panel" }, stackedBarChart({
          rows: rows.map((r) => ({ label: r.label, title: r.day, values: r })),
          series: TOKEN_SERIES,
          format: (v) => tokens(v), testid: "usage-chart-tokens", title: `Tokens per day (last ${days} days)`,
        }))),
      h("div", { class: "charts" },
        breakdownTable(Array.isArray(data.models) ? data.models : [], "model", "usage-models", "model"),
        breakdownTable(Array.isArray(data.workspaces) ? data.workspaces : [], "workspace", "usage-workspaces", "workspace")));
  }

  function stat(label, value, testid, title) {
    return h("div", { class: "stat", "data-testid": testid, title: title || null }, h("div", { class: "stat-value" }, value), h("div", { class: "stat-label" }, label));
  }

  // Usage moves when a session's cost does: refresh now and then, not on every event.
  const reload = debounce(load, 5000);
  signal.addEventListener("abort", () => reload.cancel());
  ctx.on("session", reload);
  ctx.on("resync", reload);
  load();
}
