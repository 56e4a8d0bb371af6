// The plan's steps as a layered dependency graph (SVG), left to right.
import { s } from "./dom.js";

const NODE_W = 180;
const NODE_H = 46;
const GAP_X = 52;
const GAP_Y = 16;
const PAD = 16;

const VIRTUAL_H = 10;

/**
 * Layers by longest path from the steps without dependencies (cycles and unknown ids are ignored); an edge
 * that skips layers goes through a virtual node in each layer it crosses, so it is routed around the steps.
 */
export function layout(steps) {
  const byId = new Map(steps.map((st) => [String(st.id), st]));
  const depth = new Map();
  const visiting = new Set();
  const depsOf = (st) => [...new Set((Array.isArray(st.depends_on) ? st.depends_on : []).map(String))].filter((d) => byId.has(d) && d !== String(st.id));
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
  // Nodes: {key, layer, virtual, order}; edges as chains of keys.
  const layers = [];
  const nodes = new Map();
  const addNode = (key, layer, virtual, order) => {
    const n = { key, layer, virtual, order };
    nodes.set(key, n);
    (layers[layer] = layers[layer] || []).push(n);
    return n;
  };
  ordered.forEach((st, i) => addNode(String(st.id), depth.get(String(st.id)), false, i));
  const chains = [];
  for (const st of ordered) {
    const to = String(st.id);
    for (const from of depsOf(st)) {
      const a = depth.get(from);
      const b = depth.get(to);
      if (a >= b) continue; // a cycle: not drawn
      const chain = [from];
      for (let L = a + 1; L < b; L += 1) chain.push(addNode(`v:${from}>${to}:${L}`, L, true, Infinity).key);
      chain.push(to);
      chains.push(chain);
    }
  }
  for (let L = 0; L < layers.length; L += 1) layers[L] = layers[L] || [];
  const preds = new Map();
  for (const chain of chains) for (let i = 1; i < chain.length; i += 1) {
    if (!preds.has(chain[i])) preds.set(chain[i], []);
    preds.get(chain[i]).push(chain[i - 1]);
  }
  // Barycentre sweeps to cut crossings (virtual nodes start after the real ones).
  const index = new Map();
  const reindex = (layer) => layer.forEach((n, i) => index.set(n.key, i));
  layers.forEach((layer) => { layer.sort((x, y) => x.order - y.order); reindex(layer); });
  for (let sweep = 0; sweep < 3; sweep += 1) {
    for (let L = 1; L < layers.length; L += 1) {
      const bary = (n) => {
        const ps = preds.get(n.key) || [];
        return ps.length ? ps.reduce((acc, k) => acc + index.get(k), 0) / ps.length : index.get(n.key);
      };
      layers[L] = layers[L].map((n) => [bary(n), n]).sort((x, y) => x[0] - y[0] || (x[1].virtual - y[1].virtual) || x[1].order - y[1].order).map((x) => x[1]);
      reindex(layers[L]);
    }
  }
  const heightOf = (n) => (n.virtual ? VIRTUAL_H : NODE_H);
  const colHeight = (layer) => layer.reduce((acc, n) => acc + heightOf(n), 0) + Math.max(0, layer.length - 1) * GAP_Y;
  const tallest = Math.max(NODE_H, ...layers.map(colHeight));
  const height = PAD * 2 + tallest;
  const width = PAD * 2 + layers.length * NODE_W + Math.max(0, layers.length - 1) * GAP_X;
  const pos = new Map();
  layers.forEach((layer, L) => {
    let y = PAD + (tallest - colHeight(layer)) / 2;
    for (const n of layer) {
      pos.set(n.key, { x: PAD + L * (NODE_W + GAP_X), y, h: heightOf(n), virtual: n.virtual });
      y += heightOf(n) + GAP_Y;
    }
  });
  const edges = chains.map((chain) => ({ from: chain[0], to: chain[chain.length - 1], via: chain.slice(1, -1) }));
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
  for (const { from, to, via } of edges) {
    const a = pos.get(from);
    const b = pos.get(to);
    if (!a || !b) continue;
    // Points: out of the source's right side, through each virtual node (left to right), into the target.
    const pts = [[a.x + NODE_W, a.y + NODE_H / 2]];
    for (const key of via) {
      const v = pos.get(key);
      pts.push([v.x, v.y + v.h / 2], [v.x + NODE_W, v.y + v.h / 2]);
    }
    pts.push([b.x - 2, b.y + NODE_H / 2]);
    let d = `M ${pts[0][0]} ${pts[0][1]}`;
    for (let i = 1; i < pts.length; i += 1) {
      const [x1, y1] = pts[i - 1];
      const [x2, y2] = pts[i];
      if (i % 2 === 0) { d += ` L ${x2} ${y2}`; continue; } // across a virtual node: straight
      const dx = Math.max(16, (x2 - x1) / 2);
      d += ` C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`;
    }
    const done = byId.get(from) && byId.get(from).status === "done";
    edgeLayer.appendChild(s("path", {
      d, class: ["edge", done ? "edge-done" : ""].join(" "), "marker-end": "url(#plan-arrow)", "data-from": from, "data-to": to,
    }, s("title", null, `${truncate(byId.get(from).title, 60)} → ${truncate(byId.get(to).title, 60)}`)));
  }
  svg.appendChild(edgeLayer);
  const nodeLayer = s("g", { class: "nodes" });
  for (const st of steps) {
    const p = pos.get(String(st.id));
    if (!p || p.virtual) continue;
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
