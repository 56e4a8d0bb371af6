// The War Room: shell, routing, live stream, theme. Views live in views/*.js.
import { h, clear, replaceChildren } from "./lib/dom.js";
import { api, setCsrf, onApiError, isAbort } from "./lib/api.js";
import { relTime, duration, shortPath } from "./lib/format.js";
import { renderSessions } from "./views/sessions.js";
import { renderSession } from "./views/session.js";
import { renderPlans, renderPlan } from "./views/plans.js";
import { renderCheckpoints } from "./views/checkpoints.js";
import { renderUsage } from "./views/usage.js";
import { renderHealth } from "./views/health.js";
import { renderMemory } from "./views/memory.js";
import { renderExplorer } from "./views/explorer.js";

const VIEWS = [
  { name: "sessions", label: "Sessions", list: renderSessions, detail: renderSession },
  { name: "plans", label: "Plans", list: renderPlans, detail: renderPlan },
  { name: "checkpoints", label: "Checkpoints", list: renderCheckpoints, needsWorkspace: true },
  { name: "usage", label: "Usage", list: renderUsage },
  { name: "health", label: "Health", list: renderHealth },
  { name: "memory", label: "Memory", list: renderMemory, needsWorkspace: true },
  { name: "explorer", label: "Explorer", list: renderExplorer, needsWorkspace: true },
];

const state = {
  meta: { version: "", csrf: "", workspaces: [], now: Date.now() / 1000 },
  workspace: "",
  clockSkew: 0,
};
const bus = new EventTarget();
let current = null; // {controller, route}

const $ = (id) => document.getElementById(id);

/* ---------- banner ---------- */
function showBanner(message) {
  $("banner-text").textContent = message;
  $("banner").hidden = false;
}
function hideBanner() { $("banner").hidden = true; }
onApiError(showBanner);
window.addEventListener("error", (e) => showBanner(`Page error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => {
  if (isAbort(e.reason)) return;
  if (e.reason && e.reason.status !== undefined) return; // an API error, already shown
  showBanner(`Page error: ${e.reason && e.reason.message ? e.reason.message : e.reason}`);
});

/* ---------- theme ---------- */
const THEME_KEY = "agentls.dashboard.theme";
const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
function storedTheme() {
  try { return localStorage.getItem(THEME_KEY); } catch (_) { return null; }
}
function applyTheme() {
  const theme = storedTheme() || (media && media.matches ? "dark" : "light");
  document.documentElement.dataset.theme = theme;
  const btn = $("theme-toggle");
  btn.textContent = theme === "dark" ? "☀" : "☾";
  btn.title = theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme";
  btn.dataset.theme = theme;
}
function toggleTheme() {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  try { localStorage.setItem(THEME_KEY, next); } catch (_) { /* private mode */ }
  applyTheme();
}

/* ---------- routing ---------- */
export function parseRoute(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, "");
  const [pathPart, queryPart = ""] = raw.split("?");
  const parts = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(queryPart));
  const view = VIEWS.find((v) => v.name === parts[0]) ? parts[0] : "sessions";
  return { view, id: parts.length > 1 ? parts.slice(1).join("/") : null, query };
}

export function routeHash(view, id, query) {
  let out = `#/${view}`;
  if (id) out += "/" + encodeURIComponent(id);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const qs = q.toString();
  return qs ? `${out}?${qs}` : out;
}

function navigate(hash, { replace = false } = {}) {
  if (replace) { history.replaceState(null, "", hash); render(); }
  else if (location.hash === hash) render();
  else location.hash = hash;
}

function buildNav() {
  const nav = $("nav");
  clear(nav);
  for (const v of VIEWS) {
    nav.appendChild(h("a", { href: `#/${v.name}`, "data-testid": `nav-${v.name}`, "data-view": v.name, class: "nav-link" }, v.label));
  }
}

function viewHash(name) {
  const v = VIEWS.find((x) => x.name === name);
  return v && v.needsWorkspace && state.workspace ? routeHash(name, null, { workspace: state.workspace }) : `#/${name}`;
}

function updateNav(route) {
  for (const a of $("nav").querySelectorAll("a.nav-link")) {
    const active = a.dataset.view === route.view;
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    a.href = viewHash(a.dataset.view);
  }
}

function fillWorkspaces() {
  const sel = $("workspace-filter");
  const keep = state.workspace;
  replaceChildren(sel, h("option", { value: "" }, "All workspaces"),
    state.meta.workspaces.map((w) => h("option", { value: w, title: w }, shortPath(w))));
  sel.value = state.meta.workspaces.includes(keep) ? keep : "";
  state.workspace = sel.value;
}

function onWorkspaceFilter(e) {
  state.workspace = e.target.value;
  try { localStorage.setItem("agentls.dashboard.workspace", state.workspace); } catch (_) { /* ignore */ }
  const route = parseRoute();
  const v = VIEWS.find((x) => x.name === route.view);
  if (v.needsWorkspace) navigate(routeHash(route.view, null, { ...route.query, workspace: state.workspace || null }));
  else if (!route.id) render();
}

function render() {
  let route = parseRoute();
  hideBanner(); // a new view starts clean; its own failures show again
  if (current) current.controller.abort();
  const controller = new AbortController();
  const v = VIEWS.find((x) => x.name === route.view);
  // A view of one workspace names it in the hash (the header's choice, else the first known).
  if (v.needsWorkspace && !route.query.workspace) {
    const ws = state.workspace || state.meta.workspaces[0];
    if (ws) {
      history.replaceState(null, "", routeHash(route.view, route.id, { ...route.query, workspace: ws }));
      route = parseRoute();
    }
  }
  current = { controller, route };
  // A view that works on one workspace shows it in the header filter too.
  if (v.needsWorkspace && route.query.workspace && state.meta.workspaces.includes(route.query.workspace)) {
    state.workspace = route.query.workspace;
    $("workspace-filter").value = state.workspace;
  }
  updateNav(route);
  document.title = `${v.label} · War Room${state.meta.version ? " · agentls " + state.meta.version : ""}`;
  const main = $("main");
  clear(main);
  main.dataset.view = route.view;
  const ctx = {
    main,
    route,
    signal: controller.signal,
    bus,
    meta: state.meta,
    workspace: state.workspace,
    navigate,
    routeHash,
    now: () => Date.now() / 1000 + state.clockSkew,
    // Listen to a stream event only while this view is shown.
    on: (kind, fn) => bus.addEventListener(kind, (e) => fn(e.detail), { signal: controller.signal }),
  };
  const fn = route.id && v.detail ? v.detail : v.list;
  try {
    const ret = fn(ctx);
    if (ret && typeof ret.catch === "function") ret.catch((e) => { if (!isAbort(e) && e.status === undefined) showBanner(`Could not show ${v.label}: ${e.message}`); });
  } catch (e) {
    showBanner(`Could not show ${v.label}: ${e.message}`);
  }
  tick();
}

/* ---------- live stream ---------- */
let source = null;
let lastEventId = "";
let retryTimer = null;
let wasDown = false;

function setLive(stateName, text) {
  const el = $("live");
  el.dataset.state = stateName;
  el.querySelector(".live-text").textContent = text;
  el.title = `Live updates: ${text}`;
}

function connectStream() {
  clearTimeout(retryTimer);
  if (source) source.close();
  const url = "/api/stream" + (lastEventId ? `?cursor=${encodeURIComponent(lastEventId)}` : "");
  source = new EventSource(url, { withCredentials: true });
  source.addEventListener("open", () => {
    setLive("live", "live");
    if (wasDown) {
      wasDown = false;
      hideBanner();
      bus.dispatchEvent(new CustomEvent("resync", { detail: {} }));
    }
  });
  source.addEventListener("error", () => {
    wasDown = true;
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error): try again ourselves, from the last event seen.
      setLive("down", "reconnecting…");
      retryTimer = setTimeout(connectStream, 3000);
    } else {
      setLive("down", "reconnecting…");
    }
  });
  for (const kind of ["session", "event", "plan", "checkpoint"]) {
    source.addEventListener(kind, (e) => {
      if (e.lastEventId) lastEventId = e.lastEventId;
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      bus.dispatchEvent(new CustomEvent(kind, { detail: data }));
    });
  }
}

/* ---------- relative times ---------- */
function tick() {
  const now = Date.now() / 1000 + state.clockSkew;
  for (const el of document.querySelectorAll("[data-rel]")) {
    el.textContent = relTime(Number(el.dataset.rel), now);
  }
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = duration(now - Number(el.dataset.since));
  }
}

/* ---------- keys ---------- */
function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (e.key === "/" && !typing) {
    const box = $("main").querySelector("input[type=search]");
    if (box) { e.preventDefault(); box.focus(); box.select(); }
  } else if (e.key === "Escape" && typing && t.type === "search" && t.value) {
    t.value = "";
    t.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

/* ---------- start ---------- */
async function start() {
  applyTheme();
  if (media && media.addEventListener) media.addEventListener("change", () => { if (!storedTheme()) applyTheme(); });
  $("theme-toggle").addEventListener("click", toggleTheme);
  $("banner-close").addEventListener("click", hideBanner);
  document.addEventListener("keydown", onKey);
  $("workspace-filter").addEventListener("change", onWorkspaceFilter);
  buildNav();
  try { state.workspace = localStorage.getItem("agentls.dashboard.workspace") || ""; } catch (_) { /* ignore */ }
  try {
    const meta = await api.get("/api/meta", null, { what: "Could not load the dashboard" });
    state.meta = { ...state.meta, ...meta, workspaces: Array.isArray(meta.workspaces) ? meta.workspaces : [] };
    setCsrf(meta.csrf);
    if (meta.now) state.clockSkew = Number(meta.now) - Date.now() / 1000;
    if (Math.abs(state.clockSkew) < 2) state.clockSkew = 0;
    document.title = `War Room · agentls ${meta.version || ""}`.trim();
    $("topbar").dataset.version = meta.version || "";
  } catch (e) {
    replaceChildren($("main"), h("div", { class: "empty" }, "The dashboard could not load its settings; see the line above."));
    setLive("down", "offline");
    return;
  }
  fillWorkspaces();
  window.addEventListener("hashchange", render);
  if (!location.hash || location.hash === "#" || location.hash === "#/") history.replaceState(null, "", "#/sessions");
  render();
  connectStream();
  setInterval(tick, 15000);
}

start();
