// A small Markdown subset rendered with DOM calls (never innerHTML): headings, paragraphs, lists, quotes,
// fenced code, inline code, bold, italics and links (shown, with the address on hover, not followed blindly).
import { h } from "./dom.js";

const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

function inline(text) {
  const out = [];
  let last = 0;
  const re = new RegExp(INLINE.source, "g"); // one per call: inline() recurses
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("code", { class: "md-code" }, m[2].trim() || m[2]));
    else if (m[3] || m[4]) out.push(h("strong", null, inline(m[3] || m[4])));
    else if (m[5]) out.push(h("em", null, inline(m[5])));
    else if (m[6]) {
      const url = m[7];
      const safe = /^https?:\/\//i.test(url);
      out.push(safe ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", title: url }, m[6]) : h("span", { class: "md-link", title: url }, m[6]));
    }
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** The text as Markdown blocks in a <div class="md">. */
export function markdown(text) {
  const root = h("div", { class: "md" });
  const lines = String(text || "").replace(/\r\n/g, "\n").split("\n");
  let para = [];
  let list = null;
  const flushPara = () => {
    if (para.length) root.appendChild(h("p", null, inline(para.join("\n"))));
    para = [];
  };
  const flushList = () => { list = null; };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      flushPara(); flushList();
      const body = [];
      i += 1;
      while (i < lines.length && !new RegExp(`^\\s*${fence[1]}\\s*$`).test(lines[i])) { body.push(lines[i]); i += 1; }
      root.appendChild(h("pre", { class: "code-block md-pre", "data-lang": fence[2] || null }, body.join("\n")));
      continue;
    }
    if (!line.trim()) { flushPara(); flushList(); continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flushPara(); flushList();
      root.appendChild(h("div", { class: `md-h md-h${heading[1].length}` }, inline(heading[2])));
      continue;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      flushPara();
      const ordered = /\d/.test(item[2]);
      if (!list || list.ordered !== ordered) {
        list = { ordered, el: h(ordered ? "ol" : "ul", { class: "md-list" }) };
        root.appendChild(list.el);
      }
      const li = h("li", null, inline(item[3]));
      if (item[1].length >= 2 && list.el.lastElementChild) {
        let sub = list.el.lastElementChild.querySelector(":scope > ul, :scope > ol");
        if (!sub) { sub = h(ordered ? "ol" : "ul", { class: "md-list" }); list.el.lastElementChild.appendChild(sub); }
        sub.appendChild(li);
      } else list.el.appendChild(li);
      continue;
    }
    if (/^>\s?/.test(line)) {
      flushPara(); flushList();
      root.appendChild(h("blockquote", { class: "md-quote" }, inline(line.replace(/^>\s?/, ""))));
      continue;
    }
    if (list && /^\s{2,}\S/.test(line) && list.el.lastElementChild) {
      list.el.lastElementChild.append(" ", ...inline(line.trim()));
      continue;
    }
    flushList();
    para.push(line);
  }
  flushPara();
  return root;
}
