// A unified diff rendered as a table: old and new line numbers, +/- colours, hunk headers.
import { h } from "./dom.js";

export function parseDiff(text) {
  const files = [];
  let file = null;
  let oldNo = 0;
  let newNo = 0;
  let oldLeft = 0;
  let newLeft = 0;
  const lines = String(text || "").replace(/\r\n/g, "\n").split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const start = () => { file = { oldPath: "", newPath: "", headers: [], rows: [], added: 0, removed: 0 }; files.push(file); return file; };
  const ensure = () => file || start();
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    let inHunk = oldLeft > 0 || newLeft > 0;
    // A line that cannot be inside a hunk ends it (a diff whose counts are off).
    if (inHunk && line !== "" && !/^[ +\-\\]/.test(line)) { oldLeft = 0; newLeft = 0; inHunk = false; }
    if (inHunk) {
      const f = ensure();
      if (line.startsWith("+")) { f.rows.push({ type: "add", newNo: newNo++, text: line.slice(1) }); f.added += 1; newLeft -= 1; }
      else if (line.startsWith("-")) { f.rows.push({ type: "del", oldNo: oldNo++, text: line.slice(1) }); f.removed += 1; oldLeft -= 1; }
      else if (line.startsWith("\\")) f.rows.push({ type: "meta", text: line });
      else { f.rows.push({ type: "ctx", oldNo: oldNo++, newNo: newNo++, text: line.slice(1) }); oldLeft -= 1; newLeft -= 1; }
      continue;
    }
    if (line.startsWith("diff ")) { start().headers.push(line); continue; }
    if (line.startsWith("--- ") && i + 1 < lines.length && lines[i + 1].startsWith("+++ ")) {
      if (!file || file.rows.length || file.oldPath) start();
      file.oldPath = line.slice(4).replace(/^a\//, "").replace(/\t.*$/, "");
      file.newPath = lines[i + 1].slice(4).replace(/^b\//, "").replace(/\t.*$/, "");
      i += 1;
      continue;
    }
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (m) {
      oldNo = Number(m[1]);
      oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      newNo = Number(m[3]);
      newLeft = m[4] === undefined ? 1 : Number(m[4]);
      ensure().rows.push({ type: "hunk", text: line });
      continue;
    }
    if (line.startsWith("\\")) { ensure().rows.push({ type: "meta", text: line }); continue; }
    if (file && !file.rows.length) { file.headers.push(line); continue; }
    // Text outside any hunk (a diff without headers, or an explanatory line): shown as it is.
    const f = ensure();
    if (line.startsWith("+")) { f.rows.push({ type: "add", text: line.slice(1) }); f.added += 1; }
    else if (line.startsWith("-")) { f.rows.push({ type: "del", text: line.slice(1) }); f.removed += 1; }
    else f.rows.push({ type: "meta", text: line });
  }
  return files;
}

const SIGN = { add: "+", del: "-", ctx: " ", hunk: "", meta: "" };

/** Marks the changed middle of each removed/added line pair (same count in a block): prefix and suffix kept. */
function markPairs(rows) {
  for (let i = 0; i < rows.length;) {
    if (rows[i].type !== "del") { i += 1; continue; }
    let j = i;
    while (j < rows.length && rows[j].type === "del") j += 1;
    let k = j;
    while (k < rows.length && rows[k].type === "add") k += 1;
    if (k - j === j - i && j - i <= 20) {
      for (let n = 0; n < j - i; n += 1) {
        const a = rows[i + n].text;
        const b = rows[j + n].text;
        if (a.length > 2000 || b.length > 2000) continue;
        let p = 0;
        while (p < a.length && p < b.length && a[p] === b[p]) p += 1;
        let q = 0;
        while (q < a.length - p && q < b.length - p && a[a.length - 1 - q] === b[b.length - 1 - q]) q += 1;
        // Only when the lines share something: a whole-line change is not worth marking.
        if (p + q < 3 || (p + q) * 3 < Math.min(a.length, b.length)) continue;
        rows[i + n].mark = [p, a.length - q];
        rows[j + n].mark = [p, b.length - q];
      }
    }
    i = Math.max(k, i + 1);
  }
}

function codeCell(r) {
  if (!r.mark || r.mark[0] >= r.mark[1]) return h("td", { class: "code" }, r.text);
  const [from, to] = r.mark;
  return h("td", { class: "code" }, r.text.slice(0, from), h("span", { class: "hl" }, r.text.slice(from, to)), r.text.slice(to));
}

function fileTable(f) {
  const body = h("tbody");
  markPairs(f.rows);
  for (const r of f.rows) {
    if (r.type === "hunk" || r.type === "meta") {
      body.appendChild(h("tr", { class: `d-${r.type}` }, h("td", { class: "ln", colspan: 2 }), h("td", { class: "code", colspan: 2 }, r.text)));
      continue;
    }
    body.appendChild(h("tr", { class: `d-${r.type}` },
      h("td", { class: "ln" }, r.oldNo !== undefined && r.type !== "add" ? String(r.oldNo) : ""),
      h("td", { class: "ln" }, r.newNo !== undefined && r.type !== "del" ? String(r.newNo) : ""),
      h("td", { class: "sign" }, SIGN[r.type]),
      codeCell(r)));
  }
  return h("table", { class: "diff-table" }, body);
}

/** The diff as an element; `showFileHeaders` adds a path line per file (for multi-file diffs). */
export function renderDiff(text, { testid = "diff", showFileHeaders = false } = {}) {
  const files = parseDiff(text);
  const wrap = h("div", { class: "diff", "data-testid": testid });
  if (!files.length || files.every((f) => !f.rows.length && !f.headers.length)) {
    wrap.appendChild(h("div", { class: "empty" }, "No differences."));
    return wrap;
  }
  for (const f of files) {
    if (showFileHeaders) {
      const path = f.newPath && f.newPath !== "/dev/null" ? f.newPath : f.oldPath;
      wrap.appendChild(h("div", { class: "diff-file" },
        h("span", { class: "mono" }, path || "(file)"),
        h("span", { class: "diff-stat" }, h("span", { class: "add" }, `+${f.added}`), " ", h("span", { class: "del" }, `-${f.removed}`)),
        f.headers.filter((x) => !x.startsWith("diff ") && !x.startsWith("index ")).map((x) => h("span", { class: "muted" }, " " + x))));
    }
    if (f.rows.length) wrap.appendChild(h("div", { class: "diff-scroll" }, fileTable(f)));
  }
  return wrap;
}
