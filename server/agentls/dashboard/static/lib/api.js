// Same-origin JSON calls to /api, errors turned into one clear line.

let csrf = "";
const listeners = new Set();

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) { csrf = token || ""; }

/** `fn(message)` is called with one line for each failed call (not for aborted ones). */
export function onApiError(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function report(err) {
  for (const fn of listeners) fn(err.message);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === "") continue;
    q.set(k, String(v));
  }
  const str = q.toString();
  return str ? "?" + str : "";
}

async function explain(res, what) {
  let detail = "";
  try {
    const body = await res.json();
    detail = body && body.error ? String(body.error) : "";
  } catch (_) { /* not JSON */ }
  if (res.status === 401) return `${what}: not authorised (${detail || "the access token is missing or wrong"}); open the URL that \`agentls dashboard\` printed.`;
  if (res.status === 404 && !detail) detail = "not found";
  return `${what}: ${detail || res.statusText || "request failed"} (HTTP ${res.status})`;
}

async function call(method, path, { params, body, signal, what, quiet } = {}) {
  const url = path + query(params);
  const label = what || `${method} ${path}`;
  const init = { method, credentials: "same-origin", signal, headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRF-Token"] = csrf;
    init.body = JSON.stringify(body || {});
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    const err = new ApiError(`${label}: the dashboard server is not reachable (is \`agentls dashboard\` still running?)`, 0);
    if (!quiet) report(err);
    throw err;
  }
  if (!res.ok) {
    const err = new ApiError(await explain(res, label), res.status);
    if (!quiet) report(err);
    throw err;
  }
  try {
    return await res.json();
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    const err = new ApiError(`${label}: the server answered something that is not JSON`, res.status);
    if (!quiet) report(err);
    throw err;
  }
}

export const api = {
  get: (path, params, opts = {}) => call("GET", path, { ...opts, params }),
  post: (path, body, opts = {}) => call("POST", path, { ...opts, body }),
};

export function isAbort(e) { return e && e.name === "AbortError"; }
