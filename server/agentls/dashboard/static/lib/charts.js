// SVG charts built with DOM calls: stacked bars per day with axes and hover titles.
import { h, s } from "./dom.js";

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return step * mag;
}

/**
 * rows: [{label, title, values: {key: number}}]; series: [{key, label, cls}].
 * format: number -> axis text. Returns a <figure> with the SVG and a legend.
 */
export function stackedBarChart({ rows, series, format, testid, title, height = 220 }) {
  // Drawn at about the size it is shown, so its text stays readable on a narrow window.
  const W = window.innerWidth < 860 ? Math.max(300, Math.round(window.innerWidth - 56)) : 720;
  const H = height;
  const m = { top: 12, right: 12, bottom: 28, left: 56 };
  const iw = W - m.left - m.right;
  const ih = H - m.top - m.bottom;
  const totals = rows.map((r) => series.reduce((acc, se) => acc + (Number(r.values[se.key]) || 0), 0));
  const rawMax = Math.max(0, ...totals);
  const step = rawMax > 0 ? niceStep(rawMax, 4) : 1;
  const max = rawMax > 0 ? Math.ceil(rawMax / step) * step : 4 * step;

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title, "data-testid": testid });
  svg.appendChild(s("title", null, title));
  const y = (v) => m.top + ih - (v / max) * ih;

  const grid = s("g", { class: "axis" });
  for (let v = 0; v <= max + step / 2; v += step) {
    const yy = y(v);
    grid.appendChild(s("line", { x1: m.left, x2: W - m.right, y1: yy, y2: yy, class: v === 0 ? "axis-line" : "grid-line" }));
    grid.appendChild(s("text", { x: m.left - 6, y: yy + 4, "text-anchor": "end", class: "axis-text" }, format(v)));
  }
  svg.appendChild(grid);

  const n = Math.max(rows.length, 1);
  const band = iw / n;
  const bw = Math.max(1, Math.min(28, band * 0.72));
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(3, Math.floor(iw / 60))));
  const bars = s("g", { class: "bars" });
  rows.forEach((r, i) => {
    const x = m.left + i * band + (band - bw) / 2;
    const g = s("g", { class: "bar-group" });
    let acc = 0;
    const lines = [r.title || r.label];
    for (const se of series) {
      const v = Number(r.values[se.key]) || 0;
      lines.push(`${se.label}: ${format(v, true)}`);
      if (v <= 0) continue;
      const y0 = y(acc);
      const y1 = y(acc + v);
      g.appendChild(s("rect", { x, y: y1, width: bw, height: Math.max(0.5, y0 - y1), class: `bar ${se.cls}` }));
      acc += v;
    }
    // A transparent full-height target so the hover title works on short bars too.
    g.appendChild(s("rect", { x: m.left + i * band, y: m.top, width: band, height: ih, class: "bar-hit" }));
    g.appendChild(s("title", null, lines.join("\n")));
    bars.appendChild(g);
    if (i % labelEvery === 0 || i === n - 1 && n <= 10) {
      bars.appendChild(s("text", { x: x + bw / 2, y: H - m.bottom + 16, "text-anchor": "middle", class: "axis-text" }, r.label));
    }
  });
  svg.appendChild(bars);
  if (rawMax <= 0) {
    svg.appendChild(s("text", { x: m.left + iw / 2, y: m.top + ih / 2, "text-anchor": "middle", class: "chart-empty" }, "Nothing in this range"));
  }

  const legend = series.length > 1
    ? h("div", { class: "legend" }, series.map((se) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${se.cls}` }), se.label)))
    : null;
  return h("figure", { class: "chart-figure" }, h("figcaption", null, title), svg, legend);
}

/** A horizontal bar (a div) whose width is `fraction` of its track. */
export function meter(fraction, cls = "") {
  const fill = h("span", { class: `meter-fill ${cls}` });
  fill.style.width = `${Math.max(0, Math.min(1, fraction || 0)) * 100}%`;
  return h("span", { class: "meter" }, fill);
}
