// #/plans and #/plans/<id>: the plans, and one plan's dependency graph, steps, executions and logs.
import { h, clear, debounce, badge, collapsible, emptyState, add, put } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { money, duration, dateTime, clock, oneLine, shortId } from "../lib/format.js";
import { planGraph } from "../lib/graph.js";
import { meter } from "../lib/charts.js";
import { pageHeader, statusBadge, timeAgo, workspaceLabel, errorLine, loading, kv } from "./common.js";

export function renderPlans(ctx) {
  const { main, signal } = ctx;
  const tbody = h("tbody");
  const message = h("div", null, loading("Loading plans…"));
  add(main, 
    pageHeader("Plans"),
    h("div", { class: "table-wrap" }, h("table", { class: "table plans-table", "data-testid": "plans-table" },
      h("thead", null, h("tr", null, ["Status", "Plan", "Workspace", "Progress", "Cost", "Updated"].map((c, i) => h("th", { class: i === 4 ? "num" : "" }, c)))),
      tbody)),
    message);

  async function load() {
    try {
      const data = await api.get("/api/plans", { workspace: ctx.workspace, limit: 50 }, { signal, what: "Could not load plans" });
      const plans = Array.isArray(data.plans) ? data.plans : [];
      clear(tbody);
      for (const p of plans) {
        const open = () => ctx.navigate(ctx.routeHash("plans", p.id));
        const frac = p.steps_total ? p.steps_done / p.steps_total : 0;
        add(tbody, h("tr", { class: "plan-row", "data-testid": "plan-row", "data-plan-id": p.id, "data-status": p.status || "", tabindex: "0",
          onClick: (e) => { if (!e.target.closest("a")) open(); }, onKeydown: (e) => { if (e.key === "Enter") open(); } },
          h("td", null, statusBadge(p.status, p.status === "running")),
          h("td", { class: "col-instr" }, h("a", { href: ctx.routeHash("plans", p.id), class: "instr", title: p.instruction || "" }, oneLine(p.instruction) || `Plan ${p.id}`),
            p.summary ? h("div", { class: "muted small ellipsis", title: p.summary }, oneLine(p.summary, 200)) : null),
          h("td", null, workspaceLabel(p.workspace)),
          h("td", { class: "col-progress" }, h("span", { class: "progress" }, meter(frac, "ok"), h("span", { class: "small" }, `${p.steps_done ?? 0}/${p.steps_total ?? 0}`))),
          h("td", { class: "num" }, money(p.cost_usd)),
          h("td", null, timeAgo(p.updated || p.created, ctx.now()))));
      }
      put(message, plans.length ? "" : emptyState("No plans yet. `agentls plan` makes one.", "plans-empty"));
    } catch (e) {
      if (!isAbort(e)) put(message, errorLine(e.message, load));
    }
  }
  const reload = debounce(load, 500);
  signal.addEventListener("abort", () => reload.cancel());
  ctx.on("plan", reload);
  ctx.on("resync", reload);
  load();
}

export function renderPlan(ctx) {
  const { main, signal } = ctx;
  const id = ctx.route.id;
  let selected = ctx.route.query.step || null;
  let data = null;

  const head = h("section", { class: "plan-head" }, loading());
  const graphBox = h("div", { class: "graph-scroll" });
  const detail = h("section", { class: "panel step-detail", "data-testid": "step-detail" });
  const logsBox = h("div", { class: "logs", "data-testid": "plan-logs" });
  const docBox = h("div");
  add(main, 
    h("div", { class: "crumbs" }, h("a", { href: "#/plans" }, "← Plans")),
    head,
    h("section", { class: "panel graph-panel" }, h("div", { class: "panel-title-row" }, h("h2", null, "Steps"), legend()), graphBox),
    h("div", { class: "plan-layout" }, detail, h("section", { class: "panel" }, h("h2", { class: "logs-title" }, "Logs"), logsBox)),
    docBox);

  function legend() {
    return h("div", { class: "legend" }, ["pending", "running", "done", "failed", "skipped"].map((st) =>
      h("span", { class: "legend-item" }, h("span", { class: `swatch st-${st}` }), st)));
  }

  function select(stepId) {
    selected = stepId;
    history.replaceState(null, "", ctx.routeHash("plans", id, { step: stepId }));
    for (const g of graphBox.querySelectorAll("[data-testid=plan-step]")) g.classList.toggle("selected", g.dataset.stepId === stepId);
    renderDetail();
    renderLogs();
  }

  function renderHead(plan, steps) {
    clear(head);
    const done = steps.filter((st) => st.status === "done").length;
    add(head, 
      h("div", { class: "session-title-row" }, statusBadge(plan.status, plan.status === "running"), h("h1", { class: "session-title", title: plan.instruction || "" }, oneLine(plan.instruction, 240) || `Plan ${plan.id}`)),
      plan.summary ? h("p", { class: "muted" }, plan.summary) : null,
      h("div", { class: "facts" },
        fact("Workspace", workspaceLabel(plan.workspace)),
        fact("Progress", `${plan.steps_done ?? done}/${plan.steps_total ?? steps.length} steps`),
        fact("Cost", money(plan.cost_usd)),
        fact("Created", timeAgo(plan.created, ctx.now())),
        fact("Updated", timeAgo(plan.updated, ctx.now())),
        fact("Id", h("span", { class: "mono", title: plan.id }, shortId(plan.id)))));
  }
  function fact(label, value) {
    return h("div", { class: "fact" }, h("span", { class: "fact-label" }, label), h("span", { class: "fact-value" }, value ?? "–"));
  }

  function renderGraph(steps) {
    const scrollLeft = graphBox.scrollLeft;
    clear(graphBox);
    if (!steps.length) { add(graphBox, emptyState("This plan has no steps yet.")); return; }
    add(graphBox, planGraph(steps, { selected, onSelect: select, money }));
    graphBox.scrollLeft = scrollLeft;
  }

  function renderDetail() {
    clear(detail);
    const steps = data ? data.steps : [];
    const st = steps.find((x) => String(x.id) === String(selected));
    if (!st) { add(detail, h("h2", null, "Step"), emptyState("Click a step in the graph to see its details.")); return; }
    const byId = new Map(steps.map((x) => [String(x.id), x]));
    add(detail, 
      h("div", { class: "panel-title-row" }, h("h2", null, `#${st.id} ${st.title || ""}`), statusBadge(st.status, st.status === "running")),
      st.description ? h("div", { class: "prose" }, st.description) : null,
      kv([
        ["Role", st.role || "–"],
        ["Depends on", (st.depends_on || []).length ? h("span", null, (st.depends_on || []).map((d, i) => [i ? ", " : "", h("a", { href: "#", onClick: (e) => { e.preventDefault(); select(String(d)); } }, `#${d} ${byId.get(String(d)) ? oneLine(byId.get(String(d)).title, 40) : ""}`)])) : "–"],
        st.parent ? ["Parent", `#${st.parent}`] : null,
        ["Files", (st.files || []).length ? h("div", { class: "mono small file-list" }, (st.files || []).map((f) => h("div", null, f))) : "–"],
        ["Verify", st.verify ? h("code", { class: "mono" }, st.verify) : "–"],
        ["Cost", money(st.cost_usd)],
      ]),
      h("h3", null, `Executions (${(st.executions || []).length})`),
      (st.executions || []).length ? (st.executions || []).map((ex) => execution(ex)) : emptyState("Not run yet."));
  }

  function execution(ex) {
    const dur = ex.started ? (ex.ended ? duration(ex.ended - ex.started) : h("span", { "data-since": String(ex.started) }, duration(ctx.now() - ex.started))) : "–";
    return h("div", { class: "execution", "data-testid": "execution", "data-status": ex.status || "" },
      h("div", { class: "execution-head" },
        h("strong", null, `Attempt ${ex.attempt ?? "?"}`), " ", badge(ex.status || "?", ex.status || "unknown"),
        h("span", { class: "muted small" }, ` ${ex.role || ""} · ${ex.started ? dateTime(ex.started) : "not started"} · `, dur, ` · ${money(ex.cost_usd)}`,
          ex.session_id ? [" · ", h("a", { href: ctx.routeHash("sessions", ex.session_id) }, "session")] : null)),
      ex.error ? h("div", { class: "inline-error" }, ex.error) : null,
      ex.verify_command ? h("div", { class: "small" }, "Verify ", h("code", null, ex.verify_command), " ", ex.verify_status ? badge(ex.verify_status, ex.verify_status === "passed" ? "ok" : ex.verify_status) : null) : null,
      ex.verify_output ? collapsible(h("span", { class: "tl-sub" }, "Verify output"), h("pre", { class: "code-block" }, ex.verify_output), { open: ex.verify_status && ex.verify_status !== "passed" }) : null,
      ex.checkpoint_before || ex.checkpoint_after ? h("div", { class: "small muted" }, "Checkpoints: ",
        ex.checkpoint_before ? h("a", { href: ctx.routeHash("checkpoints", null, { workspace: data.plan.workspace, id: ex.checkpoint_before }), class: "mono" }, `before ${shortId(ex.checkpoint_before)}`) : null,
        ex.checkpoint_before && ex.checkpoint_after ? " · " : null,
        ex.checkpoint_after ? h("a", { href: ctx.routeHash("checkpoints", null, { workspace: data.plan.workspace, id: ex.checkpoint_after }), class: "mono" }, `after ${shortId(ex.checkpoint_after)}`) : null) : null,
      (ex.files || []).length ? h("div", { class: "small mono muted" }, (ex.files || []).join("  ")) : null);
  }

  function renderLogs() {
    clear(logsBox);
    const logs = (data && Array.isArray(data.logs) ? data.logs : []).filter((l) => !selected || String(l.step_id) === String(selected) || l.step_id === null || l.step_id === undefined);
    const title = main.querySelector(".logs-title");
    if (title) title.textContent = selected ? `Logs of step #${selected}` : "Logs";
    if (!logs.length) { add(logsBox, emptyState("No log lines.")); return; }
    add(logsBox, h("div", { class: "log-lines" }, logs.map((l) => h("div", { class: `log-line lvl-${String(l.level || "info").toLowerCase()}`, "data-testid": "plan-log" },
      h("time", { title: dateTime(l.time) }, clock(l.time)), h("span", { class: "lvl" }, l.level || ""),
      l.step_id !== null && l.step_id !== undefined ? h("span", { class: "muted" }, `#${l.step_id}`) : h("span"),
      h("span", { class: "msg" }, l.message || "")))));
  }

  async function load() {
    try {
      const fresh = await api.get(`/api/plans/${encodeURIComponent(id)}`, null, { signal, what: "Could not load the plan" });
      data = { plan: fresh.plan || {}, steps: Array.isArray(fresh.steps) ? fresh.steps : [], logs: Array.isArray(fresh.logs) ? fresh.logs : [] };
      if (!selected && data.steps.length) {
        const running = data.steps.find((st) => st.status === "running") || data.steps.find((st) => st.status === "failed");
        if (running) selected = String(running.id);
      }
      renderHead(data.plan, data.steps);
      renderGraph(data.steps);
      renderDetail();
      renderLogs();
      if (data.plan.document) put(docBox, h("section", { class: "panel" }, collapsible(h("span", { class: "tl-sub" }, "Plan document"), h("pre", { class: "code-block prose-pre" }, data.plan.document))));
    } catch (e) {
      if (isAbort(e)) return;
      if (!data) { clear(head); add(head, h("h1", { class: "session-title" }, `Plan ${id}`), errorLine(e.message, load)); }
    }
  }
  const reload = debounce(load, 300);
  signal.addEventListener("abort", () => reload.cancel());
  ctx.on("plan", (p) => { if (p && String(p.id) === String(id)) reload(); });
  ctx.on("resync", reload);
  load();
}
