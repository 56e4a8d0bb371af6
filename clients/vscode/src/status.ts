// `agentls/sessionStatus` as text: the status bar line while a session runs, its tooltip, and the end
// message. Pure (no `vscode` import), so node --test covers it.

export interface SessionStatus {
  sessionId: string;
  title?: string;
  state: "running" | "done" | "failed" | "cancelled";
  turn?: number;
  activity?: string;
  thinking?: string;
  tokens?: number;
  cost?: number;
  message?: string;
  changes?: { count: number; files: number };
}

/** What the status bar shows for a running session: "turn 2 · reading core.py · 12,345 tokens · $0.0123". */
export function statusLine(s: SessionStatus): string {
  const parts: string[] = [];
  if (s.turn) parts.push(`turn ${s.turn}`);
  if (s.activity) parts.push(s.activity);
  if (s.tokens) parts.push(`${s.tokens.toLocaleString("en-US")} tokens`);
  if (typeof s.cost === "number" && s.cost > 0) parts.push(`$${s.cost.toFixed(4)}`);
  return parts.join(" · ") || "starting";
}

/** Cuts `text` to at most `max` characters at a word boundary, with an ellipsis. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1);
  const space = head.lastIndexOf(" ");
  return `${(space > max / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

/** The tooltip: the session's title, what it does, and the latest thinking summary. */
export function statusTooltip(s: SessionStatus): string {
  const lines = [`**${s.title || "agentls"}**`, "", statusLine(s)];
  if (s.thinking) lines.push("", `*${s.thinking}*`);
  lines.push("", "Click to cancel.");
  return lines.join("\n");
}

/** The end line: the server's message plus where to review ("… in 2 files: review in Pending Changes"). */
export function endMessage(s: SessionStatus): string {
  const message = s.message || (s.state === "done" ? "done" : s.state);
  if (s.state === "done" && s.changes && s.changes.count > 0) return `${message}: review in Pending Changes`;
  return message;
}
