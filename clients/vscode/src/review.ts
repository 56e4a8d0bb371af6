// The proposed text of a document and where each hunk sits in it: what the diff editor shows on its
// right side, and what the Pending Changes view lists. Pure logic, no `vscode` import (node --test).
import { comparePositions, Hunk, Position, Proposal, textLines } from "./proposals";

/** Where a hunk is in the proposed text: its added lines (none for a pure deletion). */
export interface ProposedSpan {
  hunk: Hunk;
  /** First line of the hunk in the proposed text (0-based); for a deletion, the line after the gap. */
  line: number;
  /** Lines the hunk adds in the proposed text. */
  added: number;
  /** Lines it removes from the current text. */
  removed: number;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  const re = /\r\n|\r|\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + m[0].length);
  return starts;
}

function offsetOf(starts: number[], text: string, p: Position): number {
  if (p.line >= starts.length) return text.length;
  return Math.min(starts[p.line]! + p.character, p.line + 1 < starts.length ? starts[p.line + 1]! : text.length);
}

function countLines(text: string): number {
  return textLines(text).length;
}

/**
 * `base` with `hunks` applied (each over its current range), and where each one lands. Hunks that
 * overlap an earlier one are left out (they cannot both apply; the server sorts it out on accept).
 */
export function proposedText(base: string, hunks: readonly Hunk[]): { text: string; spans: ProposedSpan[] } {
  const sorted = [...hunks].sort((a, b) => comparePositions(a.range.start, b.range.start));
  const starts = lineStarts(base);
  let text = "";
  let at = 0;
  let lineShift = 0;
  const spans: ProposedSpan[] = [];
  for (const hunk of sorted) {
    const from = offsetOf(starts, base, hunk.range.start);
    const to = offsetOf(starts, base, hunk.range.end);
    if (from < at) continue;
    text += base.slice(at, from) + hunk.newText;
    at = to;
    const added = countLines(hunk.newText);
    const removed = countLines(base.slice(from, to));
    spans.push({ hunk, line: hunk.range.start.line + lineShift, added, removed });
    lineShift += added - removed;
  }
  text += base.slice(at);
  return { text, spans };
}

/** The span whose lines include `line` of the proposed text, else the next one below, else the last. */
export function spanAt(spans: readonly ProposedSpan[], line: number): ProposedSpan | undefined {
  const inside = spans.find((s) => line >= s.line && line < s.line + Math.max(1, s.added));
  return inside ?? spans.find((s) => s.line > line) ?? spans[spans.length - 1];
}

/** How the user sees a hunk: the server's label, else "change 2 of 4, line 25" from its place. */
export function hunkLabel(hunk: Hunk, index: number, total: number): string {
  if (hunk.label) return hunk.label;
  return `change ${hunk.index ?? index} of ${hunk.total ?? total}, line ${hunk.range.start.line + 1}`;
}

/** "+10 −2": lines added and removed by a hunk. */
export function hunkStats(hunk: Pick<Hunk, "oldText" | "newText">): string {
  return `+${countLines(hunk.newText)} −${countLines(hunk.oldText)}`;
}

/** Proposals grouped by file, files in path order, each file's hunks to review top to bottom. */
export function byFile(proposals: readonly Proposal[]): Array<{ uri: string; path: string; kind: Proposal["kind"]; hunks: Hunk[] }> {
  const files = new Map<string, { uri: string; path: string; kind: Proposal["kind"]; hunks: Hunk[] }>();
  for (const p of proposals) {
    const hunks = p.hunks.filter((h) => h.state === "pending" || h.state === "conflict" || h.state === "stale");
    if (hunks.length === 0) continue;
    const entry = files.get(p.uri) ?? { uri: p.uri, path: p.path, kind: p.kind, hunks: [] };
    if (p.kind !== "modify") entry.kind = p.kind;
    entry.hunks.push(...hunks);
    files.set(p.uri, entry);
  }
  for (const f of files.values()) f.hunks.sort((a, b) => comparePositions(a.range.start, b.range.start));
  return [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** "4 changes in 2 files" for the view's description. */
export function countText(changes: number, files: number): string {
  const c = `${changes} change${changes === 1 ? "" : "s"}`;
  return files > 1 ? `${c} in ${files} files` : c;
}
