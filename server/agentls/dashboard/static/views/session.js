// #/sessions/<id>: the session's header, its timeline (live) and its changes.
import { h, clear, debounce, badge, collapsible, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { money, tokens, duration, clock, dateTime, sessionTokens, tokenBreakdown, shortId, oneLine } from "../lib/format.js";
import { renderDiff } from "../lib/diff.js";
import { markdown } from "../lib/markdown.js";
import { statusBadge, timeAgo, workspaceLabel, errorLine, loading } from "./common.js";

const TOOL_KIND_LABEL = { read: "read", edit: "edit", delete: "delete", move: "move", search: "search", execute: "run", think: "think", fetch: "fetch", other: "tool" };

function pretty(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  try { return JSON.stringify(value, null, 2); } catch (_) { return String(value); }
}

function usageOf(u) {
  u = u || {};
  return {
    input: u.input_tokens || 0,
    output: u.output_tokens || 0,
    cacheWrite: u.cache_write_tokens ?? u.cache_creation_input_tokens ?? 0,
    cacheRead: u.cache_read_tokens ?? u.cache_read_input_tokens ?? 0,
  };
}

function item(kind, ev, cls, ...children) {
  return h("li", {
    class: ["tl-item", `tl-${cls || kind.toLowerCase()}`], "data-testid": "timeline-item", "data-kind": kind,
    "data-seq": ev && ev.seq !== undefined ? String(ev.seq) : null,
  },
  ev && ev.time ? h("time", { class: "tl-time", title: dateTime(ev.time) }, clock(ev.time)) : h("span", { class: "tl-time" }),
  h("div", { class: "tl-body" }, children));
}

function pre(text, cls = "") {
  return h("pre", { class: ["code-block", cls] }, text);
}

export function renderSession(ctx) {
  const { main, signal } = ctx;
  const id = ctx.route.id;
  let session = null;
  let maxSeq = -1;
  const bySeq = new Map(); // seq -> {el, ev}
  const tools = new Map(); // tool id -> {el, slot, finished}
  let planRef = null;

  const head = h("section", { class: "session-head", "data-testid": "session-header" }, loading());
  const timeline = h("ol", { class: "timeline", "data-testid": "timeline" });
  const changesBox = h("div", { class: "changes", "data-testid": "changes" });
  const changesTitle = h("h2", null, "Changes");
  const tlMessage = h("div");
  const jump = h("button", { type: "button", class: "button primary jump-latest", "data-testid": "jump-latest", hidden: true,
    onClick: () => { jump.hidden = true; window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "smooth" }); } }, "New activity ↓");
  const onScroll = () => { if (!jump.hidden && nearBottom()) jump.hidden = true; };
  window.addEventListener("scroll", onScroll, { passive: true, signal });
  add(main, 
    h("div", { class: "crumbs" }, h("a", { href: "#/sessions", "data-testid": "back-sessions" }, "← Sessions")),
    head,
    h("div", { class: "session-layout" },
      h("section", { class: "panel timeline-panel" }, h("h2", null, "Timeline"), timeline, tlMessage, jump),
      h("aside", { class: "panel changes-panel" }, changesTitle, changesBox)));

  /* ----- header ----- */
  function renderHead(s, plan) {
    const now = ctx.now();
    const dur = s.ended ? duration(s.ended - s.started) : s.live ? h("span", { "data-since": String(s.started) }, duration(now - s.started)) : "–";
    clear(head);
    add(head, 
      h("div", { class: "session-title-row" },
        statusBadge(s.status, s.live),
        h("h1", { class: "session-title", title: s.instruction || "" }, oneLine(s.instruction, 240) || "(no instruction)")),
      h("div", { class: "facts" },
        fact("Kind", s.kind), fact("Front end", s.frontend), fact("Workspace", workspaceLabel(s.workspace)),
        fact("Model", s.model), fact("Started", timeAgo(s.started, now)), fact("Duration", dur),
        fact("Turns", String(s.turns ?? 0)),
        fact("Tokens", h("span", { title: tokenBreakdown(s) }, tokens(sessionTokens(s)))),
        fact("Cost", money(s.cost_usd)),
        fact("Id", h("span", { class: "mono", title: s.id }, shortId(s.id))),
        plan ? fact("Plan", h("a", { href: ctx.routeHash("plans", plan.id, plan.step_id ? { step: plan.step_id } : null) }, `step ${plan.step_id ?? "?"}`)) : null));
  }
  function fact(label, value) {
    return h("div", { class: "fact" }, h("span", { class: "fact-label" }, label), h("span", { class: "fact-value" }, value ?? "–"));
  }

  /* ----- timeline ----- */
  function instructionItem(s) {
    return h("li", { class: "tl-item tl-user", "data-testid": "timeline-item", "data-kind": "instruction" },
      h("time", { class: "tl-time", title: dateTime(s.started) }, clock(s.started)),
      h("div", { class: "tl-body" }, h("div", { class: "tl-label" }, "You"), h("div", { class: "prose" }, s.instruction || "")));
  }

  function toolResult(slot, d) {
    clear(slot);
    const content = d.content ?? "";
    slot.classList.toggle("is-error", !!d.is_error);
    add(slot, 
      collapsible(
        h("span", null, h("span", { class: "tl-sub" }, d.is_error ? "Error" : "Result"), d.summary ? h("span", { class: "muted" }, " · " + d.summary) : null),
        content ? pre(content, d.is_error ? "error" : "") : h("div", { class: "muted small" }, "(no content)"),
        { open: !!d.is_error, cls: "tool-result" }));
  }

  function finishTool(toolId, d) {
    const t = tools.get(toolId);
    if (!t) return false;
    t.finished = d;
    toolResult(t.slot, d);
    t.el.classList.toggle("is-error", !!d.is_error);
    return true;
  }

  /** A call without a result in a session no longer running never gets one. */
  function settleTools() {
    if (!session || session.live) return;
    for (const t of tools.values()) {
      if (t.finished || t.slot.dataset.settled) continue;
      t.slot.dataset.settled = "1";
      put(t.slot, h("span", { class: "muted small" }, "no result recorded"));
    }
  }

  function toolCalled(ev) {
    const d = ev.data || {};
    const slot = h("div", { class: "tool-result-slot", "data-testid": "tool-result" }, h("span", { class: "muted small" }, h("span", { class: "spinner small" }), " running…"));
    const el = item("ToolCalled", ev, "tool",
      h("div", { class: "tool-head" },
        h("span", { class: `tool-kind tk-${TOOL_KIND_LABEL[d.kind] ? d.kind : "other"}` }, TOOL_KIND_LABEL[d.kind] || TOOL_KIND_LABEL.other),
        h("span", { class: "tool-name mono" }, d.name || "tool"),
        h("span", { class: "tool-summary" }, d.summary || "")),
      d.locations && d.locations.length ? h("div", { class: "tool-locs mono small" }, d.locations.join("  ")) : null,
      d.input && Object.keys(d.input).length ? collapsible(h("span", { class: "tl-sub" }, "Arguments"), pre(pretty(d.input)), { cls: "tool-args" }) : null,
      slot);
    el.dataset.toolId = d.id || "";
    const before = tools.get(d.id);
    tools.set(d.id, { el, slot, finished: null });
    if (before && before.finished) finishTool(d.id, before.finished);
    return el;
  }

  function renderEvent(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case "TurnStarted":
        return item("TurnStarted", ev, "turn", h("div", { class: "turn-rule" }, h("span", null, `Turn ${d.turn ?? ""}`)));
      case "TextDelta":
        return item("TextDelta", ev, "text", markdown(d.text || ""));
      case "ThinkingDelta":
        return item("ThinkingDelta", ev, "thinking",
          collapsible(h("span", null, h("span", { class: "tl-sub" }, "Thinking"), h("span", { class: "muted" }, " · " + oneLine(d.text, 90))), h("div", { class: "prose muted" }, d.text || "")));
      case "ToolCalled":
        return toolCalled(ev);
      case "ToolFinished": {
        if (finishTool(d.id, d)) return null;
        const slot = h("div", { class: "tool-result-slot" });
        toolResult(slot, d);
        return item("ToolFinished", ev, "tool", h("div", { class: "tool-head" }, h("span", { class: "tool-name mono" }, d.name || "tool"), h("span", { class: "tool-summary" }, d.summary || "")), slot);
      }
      case "ServerToolFinished":
        return item("ServerToolFinished", ev, d.is_error ? "error-line" : "note",
          h("span", { class: "tool-name mono" }, d.name || "server tool"), " ", h("span", null, d.summary || ""), d.is_error ? badge("error", "error") : null);
      case "FilesWritten":
        return item("FilesWritten", ev, "note", h("span", null, `Wrote ${(d.paths || []).length} file(s) to disk: `), h("span", { class: "mono small" }, (d.paths || []).join(", ")));
      case "ChangeProposed":
        return item("ChangeProposed", ev, "note", "Proposed a change to ", changeLink(d.path));
      case "ChangeResolved": {
        const counts = {};
        for (const [, st] of d.hunks || []) counts[st] = (counts[st] || 0) + 1;
        const parts = Object.entries(counts).map(([st, n]) => `${n} ${st}`).join(", ");
        return item("ChangeResolved", ev, "note", "Change to ", changeLink(d.path), d.resolved ? " resolved" : " partly resolved", parts ? h("span", { class: "muted" }, ` (${parts})`) : null);
      }
      case "CheckpointTaken": {
        const ws = session ? session.workspace : "";
        return item("CheckpointTaken", ev, "note", "⚑ Checkpoint ",
          h("a", { href: ctx.routeHash("checkpoints", null, { workspace: ws, id: d.id }), class: "mono" }, shortId(d.id)),
          h("span", { class: "muted" }, ` · ${d.trigger || ""} · ${(d.paths || []).length} file(s)`));
      }
      case "UsageUpdated": {
        const u = usageOf(d.turn);
        return item("UsageUpdated", ev, "usage",
          h("span", { class: "muted small" }, `Turn usage: ${tokens(u.input)} in · ${tokens(u.output)} out · ${tokens(u.cacheWrite)} cache write · ${tokens(u.cacheRead)} cache read`),
          d.cost_usd !== undefined ? h("span", { class: "muted small" }, ` · session ${money(d.cost_usd)}`) : null);
      }
      case "Compacted":
        return item("Compacted", ev, "note", `Context compacted: ${tokens(d.before_tokens)} → ${tokens(d.after_tokens)} tokens`);
      case "Retrying":
        return item("Retrying", ev, "warn", `↻ Retrying (attempt ${d.attempt ?? "?"}) in ${Number(d.wait_s ?? d.delay_s ?? 0).toFixed(1)} s`, d.reason ? h("span", { class: "muted" }, `: ${d.reason}`) : null);
      case "CircuitChanged":
        return d.state === "open"
          ? item("CircuitChanged", ev, "error-line", `Calls paused for ${Math.round(Number(d.reset_s || 0))} s`, h("span", { class: "muted" }, `: ${d.failures ?? "?"} failed turn${d.failures === 1 ? "" : "s"} in a row${d.kind ? ` (${String(d.kind).replace("_", " ")})` : ""}`))
          : item("CircuitChanged", ev, "notice", "Calls resumed: the API answered again");
      case "QuestionAnswered":
        return item("QuestionAnswered", ev, "question",
          h("div", { class: "tl-label" }, "Question", d.topic ? h("span", { class: "muted" }, ` · ${d.topic}`) : null),
          h("div", { class: "prose" }, d.text || ""),
          h("div", { class: "answer" }, h("span", { class: "tl-sub" }, "Answer: "), d.answer || ""));
      case "Notice":
        return item("Notice", ev, "notice", "ℹ ", d.text || "");
      case "Truncated":
        return item("Truncated", ev, "warn", `${d.dropped ?? "Some"} events were dropped: the session passed the per-session cap.`);
      case "SessionEnded":
        return item("SessionEnded", ev, "ended",
          h("div", { class: "ended-head" }, h("span", { class: "tl-label" }, "Session ended "), badge(d.status || "ended", d.status || "ended"), h("span", { class: "muted small" }, ` ${d.turns ?? ""} turn(s) · ${money(d.cost_usd)}`)),
          d.summary ? markdown(d.summary) : null,
          d.error ? h("div", { class: "inline-error" }, d.error) : null);
      default:
        return item(ev.kind || "event", ev, "note", h("span", { class: "mono small" }, ev.kind || "event"), collapsible("data", pre(pretty(d))));
    }
  }

  function changeLink(path) {
    return h("a", { href: "#", class: "mono", onClick: (e) => {
      e.preventDefault();
      const el = changesBox.querySelector(`[data-path="${CSS.escape(path || "")}"]`);
      if (el) { el.scrollIntoView({ behavior: "smooth", block: "start" }); el.classList.add("flash"); setTimeout(() => el.classList.remove("flash"), 1200); }
    } }, path || "(file)");
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  }

  /** Where an event of this seq goes: before the first item with a greater seq. */
  function insertBySeq(el, seq) {
    let before = null;
    for (let node = timeline.lastElementChild; node; node = node.previousElementSibling) {
      const s = node.dataset.seq;
      if (s === undefined || s === "" || Number(s) <= seq) break;
      before = node;
    }
    timeline.insertBefore(el, before);
  }

  function addEvents(events) {
    const follow = nearBottom() && bySeq.size > 0;
    for (const ev of events) {
      const seq = Number(ev.seq);
      const old = bySeq.get(seq);
      // A text run only grows: an older copy of it (a stream message that crossed a fetch) is dropped.
      if (old && old.ev && old.ev.kind === ev.kind && (ev.kind === "TextDelta" || ev.kind === "ThinkingDelta") &&
          String((ev.data || {}).text || "").length < String((old.ev.data || {}).text || "").length) continue;
      const el = renderEvent(ev);
      if (old && old.el && old.el.isConnected) {
        if (el) old.el.replaceWith(el); else old.el.remove();
      } else if (el) {
        insertBySeq(el, seq);
      }
      bySeq.set(seq, { el, ev });
      if (seq > maxSeq) maxSeq = seq;
    }
    if (follow) window.scrollTo({ top: document.documentElement.scrollHeight });
    else if (bySeq.size && events.length && session && session.live && !nearBottom()) jump.hidden = false;
    settleTools();
  }

  /* ----- changes ----- */
  function renderChanges(changes) {
    clear(changesBox);
    changesTitle.textContent = changes.length ? `Changes (${changes.length})` : "Changes";
    if (!changes.length) { add(changesBox, emptyState("No changes in this session.")); return; }
    for (const c of changes) {
      add(changesBox, h("div", { class: "change", "data-testid": "change", "data-path": c.path, "data-state": c.state },
        collapsible(
          h("span", { class: "change-head" },
            h("span", { class: "mono change-path", title: c.path }, c.path),
            h("span", { class: "diff-stat" }, h("span", { class: "add" }, `+${c.added ?? 0}`), " ", h("span", { class: "del" }, `-${c.removed ?? 0}`)),
            badge(c.state || "?", c.state || "unknown", { "data-testid": "change-state" })),
          c.too_large ? h("div", { class: "empty", "data-testid": "diff" }, "This change is too large to show here.") : renderDiff(c.diff),
          { open: changes.length <= 6 })));
    }
  }

  /* ----- loading ----- */
  /** `after` null: everything (events and changes); a seq: the events after it. */
  async function load(after) {
    const data = await api.get(`/api/sessions/${encodeURIComponent(id)}`, after !== null ? { after } : null, { signal, what: "Could not load the session" });
    session = data.session;
    if (data.plan !== undefined) planRef = data.plan;
    renderHead(session, planRef);
    if (after === null) {
      clear(timeline);
      bySeq.clear();
      tools.clear();
      add(timeline, instructionItem(session));
    }
    addEvents(Array.isArray(data.events) ? data.events : []);
    if (Array.isArray(data.changes)) renderChanges(data.changes);
    if ((data.events || []).length >= 2000) {
      put(tlMessage, h("button", { type: "button", class: "button", "data-testid": "load-more", onClick: () => refresh() }, "Load more events"));
    } else put(tlMessage);
  }
  async function refresh() {
    try { await load(maxSeq >= 0 ? maxSeq : null); } catch (e) { if (!isAbort(e)) put(tlMessage, errorLine(e.message)); }
  }
  // The changes come only with a full fetch (no `after`): the events in it replace theirs by seq.
  async function refreshChanges() {
    try {
      const data = await api.get(`/api/sessions/${encodeURIComponent(id)}`, null, { signal, what: "Could not load the session's changes" });
      if (Array.isArray(data.changes)) renderChanges(data.changes);
      addEvents((Array.isArray(data.events) ? data.events : []).filter((ev) => Number(ev.seq) > maxSeq));
    } catch (e) { if (!isAbort(e)) put(tlMessage, errorLine(e.message)); }
  }
  const refreshSoon = debounce(refresh, 400);
  const changesSoon = debounce(refreshChanges, 600);
  signal.addEventListener("abort", () => { refreshSoon.cancel(); changesSoon.cancel(); });

  let early = []; // stream messages that came before the first fetch answered
  ctx.on("event", (ev) => {
    if (!ev || ev.session_id !== id) return;
    if (!session) { early.push(ev); return; }
    addEvents([ev]);
    if (["ChangeProposed", "ChangeResolved", "SessionEnded", "FilesWritten"].includes(ev.kind)) changesSoon();
  });
  ctx.on("session", (s) => { if (s && s.id === id) { session = s; renderHead(s, planRef); settleTools(); } });
  ctx.on("resync", () => { refreshSoon(); changesSoon(); });

  load(null).then(() => {
    if (early.length) addEvents(early);
    early = [];
  }).catch((e) => {
    if (isAbort(e)) return;
    clear(head);
    add(head, h("h1", { class: "session-title" }, `Session ${id}`), errorLine(e.message));
  });
}
