// Tiny DOM helpers. Untrusted text only ever goes through text nodes (never innerHTML).

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs, isSvg) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      if (isSvg) el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
      else el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    } else if (!isSvg && (key === "value" || key === "checked" || key === "disabled" || key === "selected" || key === "open")) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** h("div", {class: "x", "data-testid": "y", onClick: fn}, "text", child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs, false);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs, true);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/** A function that calls `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** A collapsible block: <details><summary>label</summary>body</details>. */
export function collapsible(summary, body, { open = false, cls = "" } = {}) {
  return h("details", { class: ["collapsible", cls], open }, h("summary", null, summary), body);
}

export function badge(text, kind, attrs = {}) {
  return h("span", { class: `badge badge-${String(kind || text).replace(/[^a-z0-9-]/gi, "-").toLowerCase()}`, ...attrs }, text);
}

export function emptyState(text, testid) {
  return h("div", { class: "empty", "data-testid": testid || null }, text);
}

/** el.append that flattens arrays and skips null/false (the native one would print them). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** el.replaceChildren with the same rules. */
export function put(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}
