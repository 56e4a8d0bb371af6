// The plan's steps as a layered dependency graph (SVG), left to right.
import { s } from "./dom.js";

const NODE_W = 180;
const NODE_H = 46;
const GAP_X = 52;
const GAP_Y = 16;
const PAD = 16;

/** Layers by longest path from the steps without dependencies; cycles and unknown ids are ignored. */
export function layout(steps) {
  const byId = new Map(steps.map((st) => [String(st.id), st]));
  const depth = new Map();
  const visiting = new Set();
  const depsOf = (st) => (Array.isArray(st.depends_on) ? st.depends_on : []).map(String).filter((d) => byId.has(d) && d !== String(st.id));
  function walk(id) {
    if (depth.has(id)) return depth.get(id);
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const dep of depsOf(byId.get(id))) d = Math.max(d, walk(dep) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  }
  const ordered = [...steps].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  for (const st of ordered) walk(String(st.id));
  const layers = [];
  for (const st of ordered) {
    const d = depth.get(String(st.id));
    (layers[d] = layers[d] || []).push(st);
  }
  // Two barycentre sweeps to cut edge crossings.
  for (let sweep = 0; sweep < 2; sweep += 1) {
    const index = new Map();
    layers.forEach((layer) => layer.forEach((st, i) => index.set(String(st.id), i)));
    for (let L = 1; L < layers.length; L += 1) {
      const bary = (st) => {
        const deps = depsOf(st).filter((d) => depth.get(d) < L);
        if (!deps.length) return index.get(String(st.id));
        return deps.reduce((acc, d) => acc + index.get(d), 0) / deps.length;
      };
      layers[L] = layers[L].map((st) => [bary(st), st]).sort((a, b) => a[0] - b[0] || (a[1].position ?? 0) - (b[1].position ?? 0)).map((x) => x[1]);
      layers[L].forEach((st, i) => index.set(String(st.id), i));
    }
  }
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const width = PAD * 2 + layers.length * NODE_W + Math.max(0, layers.length - 1) * GAP_X;
  const pos = new Map();
  layers.forEach((layer, L) => {
    const colH = layer.length * NODE_H + (layer.length - 1) * GAP_Y;
    const top = (height - colH) / 2;
    layer.forEach((st, i) => pos.set(String(st.id), { x: PAD + L * (NODE_W + GAP_X), y: top + i * (NODE_H + GAP_Y) }));
  });
  const edges = [];
  for (const st of steps) for (const dep of depsOf(st)) edges.push([dep, String(st.id)]);
  return { pos, edges, width: Math.max(width, 200), height };
}

function truncate(text, n) {
  const t = String(text || "");
  return t.length > n ? t.slice(0, n - 1) + "…" : t;
}

/** The graph; `onSelect(stepId)` on click or Enter; `selected` is highlighted. */
export function planGraph(steps, { selected, onSelect, money }) {
  const { pos, edges, width, height } = layout(steps);
  const svg = s("svg", { class: "plan-graph", "data-testid": "plan-graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Plan steps and their dependencies" });
  svg.appendChild(s("defs", null,
    s("marker", { id: "plan-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }))));
  const byId = new Map(steps.map((st) => [String(st.id), st]));
  const edgeLayer = s("g", { class: "edges" });
  for (const [from, to] of edges) {
    const a = pos.get(from);
    const b = pos.get(to);
    if (!a || !b) continue;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x - 2;
    const y2 = b.y + NODE_H / 2;
    const dx = Math.max(24, (x2 - x1) / 2);
    const done = byId.get(from) && byId.get(from).status === "done";
    edgeLayer.appendChild(s("path", {
      d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`,
      class: ["edge", done ? "edge-done" : ""].join(" "), "marker-end": "url(#plan-arrow)", "data-from": from, "data-to": to,
    }, s("title", null, `${truncate(byId.get(from).title, 60)} → ${truncate(byId.get(to).title, 60)}`)));
  }
  svg.appendChild(edgeLayer);
  const nodeLayer = s("g", { class: "nodes" });
  for (const st of steps) {
    const p = pos.get(String(st.id));
    if (!p) continue;
    const status = st.status || "pending";
    const g = s("g", {
      class: ["plan-node", `st-${status.replace(/[^a-z0-9-]/gi, "-")}`, String(st.id) === String(selected) ? "selected" : ""].join(" "),
      transform: `translate(${p.x} ${p.y})`, tabindex: 0, role: "button",
      "data-testid": "plan-step", "data-step-id": String(st.id), "data-status": status,
      "aria-label": `Step ${st.id}: ${st.title || ""} (${status})`,
    },
    s("title", null, `${st.title || ""}\n${status}${st.cost_usd ? " · " + money(st.cost_usd) : ""}`),
    s("rect", { class: "node-box", width: NODE_W, height: NODE_H, rx: 7, ry: 7 }),
    s("rect", { class: "node-stripe", width: 5, height: NODE_H - 2, x: 1, y: 1, rx: 3 }),
    s("text", { class: "node-title", x: 14, y: 19 }, truncate(st.title || `Step ${st.id}`, 23)),
    s("text", { class: "node-meta", x: 14, y: 36 }, `#${st.id} · ${status}${st.cost_usd ? " · " + money(st.cost_usd) : ""}`));
    if (status === "running") g.appendChild(s("circle", { class: "node-pulse", cx: NODE_W - 14, cy: 14, r: 4 }));
    g.addEventListener("click", () => onSelect(String(st.id)));
    g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onSelect(String(st.id)); } });
    nodeLayer.appendChild(g);
  }
  svg.appendChild(nodeLayer);
  return svg;
}
