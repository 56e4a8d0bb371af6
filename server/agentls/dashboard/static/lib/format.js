// Formatting of money, tokens, times, sizes and paths.

export function money(v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n === 0) return "$0";
  const a = Math.abs(n);
  if (a < 0.0001) return (n < 0 ? "-" : "") + "<$0.0001";
  if (a < 1) return (n < 0 ? "-$" : "$") + a.toFixed(4);
  if (a < 1000) return (n < 0 ? "-$" : "$") + a.toFixed(2);
  return (n < 0 ? "-$" : "$") + Math.round(a).toLocaleString("en-US");
}

export function tokens(v) {
  const n = Number(v) || 0;
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 999500) return trim(n / 1000) + "k";
  if (a < 999500000) return trim(n / 1e6) + "M";
  return trim(n / 1e9) + "B";
}

function trim(x) {
  const a = Math.abs(x);
  const str = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return str.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");
}

export function bytes(v) {
  if (v === null || v === undefined) return "–";
  let n = Number(v);
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return (i === 0 ? String(n) : n >= 100 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
}

export function percent(v) {
  const n = Number(v) || 0;
  return (n * 100).toFixed(n >= 0.995 || n === 0 ? 0 : 1) + "%";
}

/** "3 min ago" from Unix seconds; `now` in Unix seconds. */
export function relTime(t, now = Date.now() / 1000) {
  if (!t) return "–";
  const d = Math.max(0, now - t);
  if (d < 45) return "just now";
  if (d < 90) return "1 min ago";
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 5400) return "1 h ago";
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  if (d < 172800) return "yesterday";
  if (d < 30 * 86400) return `${Math.round(d / 86400)} days ago`;
  return dateOnly(t);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  const hrs = Math.floor(s / 3600);
  if (hrs < 48) return `${hrs}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

const pad = (n) => String(n).padStart(2, "0");

export function dateOnly(t) {
  const d = new Date(t * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function dateTime(t) {
  if (!t) return "–";
  const d = new Date(t * 1000);
  return `${dateOnly(t)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(t) {
  if (!t) return "";
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The last two parts of a path: "/home/a/src/proj" -> "src/proj". */
export function shortPath(p) {
  if (!p) return "";
  const parts = String(p).split(/[\\/]+/).filter(Boolean);
  return parts.length <= 2 ? String(p) : parts.slice(-2).join("/");
}

export function baseName(p) {
  const parts = String(p || "").split(/[\\/]+/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : String(p || "");
}

export function oneLine(text, max = 300) {
  const t = String(text || "").replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

export function sessionTokens(s) {
  return (s.input_tokens || 0) + (s.output_tokens || 0) + (s.cache_write_tokens || 0) + (s.cache_read_tokens || 0);
}

export function tokenBreakdown(s) {
  return `input ${tokens(s.input_tokens)} · output ${tokens(s.output_tokens)} · cache write ${tokens(s.cache_write_tokens)} · cache read ${tokens(s.cache_read_tokens)}`;
}

export function shortId(id) {
  const t = String(id || "");
  return t.length > 10 ? t.slice(0, 8) : t;
}
