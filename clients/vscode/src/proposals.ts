// The proposal model: hunks of `agentls/proposal` notifications, kept in step with the user's typing.
// Pure logic, no `vscode` import, so `node --test` covers it (test/proposals.test.ts).
// Positions are LSP positions in the negotiated encoding (UTF-16, as VS Code counts them).

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type HunkState = "pending" | "accepted" | "rejected" | "conflict" | "stale";

/** How a hunk is named and grouped (issue 15 contract); older servers leave these out. */
export interface HunkNaming {
  /** 1-based, in document order within the proposal. */
  index?: number;
  /** Hunks in the proposal, pending or conflict. */
  total?: number;
  /** "change 2 of 4, line 25": how the user sees the hunk. */
  label?: string;
  /** Hunks of one group depend on each other. */
  group?: string;
  /** A conflict hunk: the lines as the user has them now. */
  currentText?: string;
}

/** A hunk as the server sends it (docs/protocol.md, `agentls/proposal`). */
export interface WireHunk extends HunkNaming {
  id: string;
  state: HunkState;
  oldText: string;
  newText: string;
  range: Range;
  start?: number;
  end?: number;
}

export type ProposalKind = "modify" | "create" | "delete";

export interface WireProposal {
  id: string;
  uri: string;
  path?: string;
  version?: number | null;
  summary?: string;
  kind?: ProposalKind;
  validation?: Array<{ line: number; character: number; message: string }>;
  hunks: WireHunk[];
}

/** `agentls/proposalResolved` params. */
export interface ResolvedParams {
  proposalId: string;
  uri: string;
  resolved: boolean;
  hunks: Array<{ id: string; state: HunkState }>;
}

/** The result of `agentls.accept` / `agentls.reject`. */
export interface ReviewResult {
  applied: string[];
  rejected: string[];
  conflicts: string[];
  /** One line each ("change 1 of 2 defines `total`, used by change 2 of 2 …"); older servers send none. */
  warnings?: string[];
}

/** One content change, as in `TextDocumentChangeEvent.contentChanges` (applied in the order given). */
export interface TextChange {
  range: Range;
  text: string;
}

export interface Hunk extends HunkNaming {
  id: string;
  proposalId: string;
  state: HunkState;
  oldText: string;
  newText: string;
  /** Where the hunk is in the document now (moves as the user types). */
  range: Range;
}

export interface Proposal {
  id: string;
  uri: string;
  path: string;
  summary: string;
  kind: ProposalKind;
  validation: Array<{ line: number; character: number; message: string }>;
  hunks: Hunk[];
}

// -- positions -------------------------------------------------------------------------------------

export function comparePositions(a: Position, b: Position): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

function lines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Where `p` (at or after the end of `change.range`) is once `change` is applied. */
export function shiftPosition(p: Position, change: TextChange): Position {
  const { start, end } = change.range;
  const inserted = lines(change.text);
  const added = inserted.length - 1;
  if (p.line > end.line) {
    return { line: p.line + added - (end.line - start.line), character: p.character };
  }
  // Same line as the end of the change: the rest of that line follows the inserted text.
  const lastLength = inserted[inserted.length - 1]!.length;
  const column = added === 0 ? start.character + lastLength : lastLength;
  return { line: start.line + added, character: column + (p.character - end.character) };
}

export type EditEffect = "before" | "after" | "overlap";

/**
 * How a change relates to a hunk's whole-line range: entirely before it (the hunk moves), after it
 * (nothing moves), or touching its lines (the hunk is stale). Typing at the very start of a hunk's
 * first line changes that line, so it counts as an overlap unless the inserted text ends a line.
 */
export function classifyChange(hunk: Range, change: TextChange): EditEffect {
  const { start, end } = change.range;
  if (comparePositions(end, hunk.start) <= 0) {
    const moved = shiftPosition(hunk.start, change);
    return moved.character === hunk.start.character ? "before" : "overlap";
  }
  if (comparePositions(start, hunk.end) >= 0) {
    return "after";
  }
  return "overlap";
}

/** Applies one change to a pending hunk; returns false when the hunk went stale. */
export function updateHunk(hunk: Hunk, change: TextChange): boolean {
  switch (classifyChange(hunk.range, change)) {
    case "before":
      hunk.range = { start: shiftPosition(hunk.range.start, change), end: shiftPosition(hunk.range.end, change) };
      return true;
    case "after":
      return true;
    case "overlap":
      return false;
  }
}

// -- state transitions -----------------------------------------------------------------------------

const TERMINAL: ReadonlySet<HunkState> = new Set(["accepted", "rejected"]);

/**
 * Whether a hunk may go from `from` to `to`. Pending may become anything; a hunk that went stale
 * locally can still be resolved by the server (its 3-way rebase may succeed, or it reports the
 * conflict); a conflict stays until the user resolves it (accepts with force or rejects);
 * accepted and rejected are final.
 */
export function canTransition(from: HunkState, to: HunkState): boolean {
  if (from === to) return false;
  if (TERMINAL.has(from)) return false;
  if (from === "stale" || from === "conflict") return to !== "pending";
  return true;
}

// -- decorations -----------------------------------------------------------------------------------

export interface LineSpan {
  startLine: number;
  endLine: number; // inclusive
}

export interface AddedText {
  line: number;
  /** `end`: after the line's text; `start`: before it (an insertion at the top of the file). */
  at: "end" | "start";
  text: string;
}

export interface HunkDecorations {
  /** Lines to show as removed (struck through), or null for a pure insertion. */
  deleted: LineSpan | null;
  /** Proposed lines shown as virtual text, one per removed line they replace (never joined). */
  added: AddedText[];
  /** Proposed lines that have no removed line to sit beside: shown in the diff editor as real lines. */
  more: number;
  /** The line the "Accept | Reject" CodeLens sits above. */
  lensLine: number;
}

export function textLines(text: string): string[] {
  if (text === "") return [];
  const all = lines(text);
  if (all[all.length - 1] === "") all.pop();
  return all;
}

/**
 * What to draw inline for a hunk at its current range. A replacement pairs old and new lines: each
 * removed line carries its replacement after it. Proposed lines beyond the removed ones (and every
 * line of a pure insertion) are not squeezed onto one line: they are counted in `more`, and the
 * editor shows them as real lines in the diff editor. A pure deletion only strikes lines.
 */
export function decorationsFor(hunk: Pick<Hunk, "range" | "newText" | "oldText">): HunkDecorations {
  const { start, end } = hunk.range;
  const added = textLines(hunk.newText);
  const empty = comparePositions(start, end) === 0;
  if (empty) {
    return { deleted: null, added: [], more: added.length, lensLine: start.line };
  }
  const lastLine = end.character === 0 ? end.line - 1 : end.line;
  const deleted = { startLine: start.line, endLine: Math.max(start.line, lastLine) };
  const count = deleted.endLine - deleted.startLine + 1;
  const result: AddedText[] = [];
  for (let i = 0; i < count && i < added.length; i++) {
    result.push({ line: start.line + i, at: "end", text: added[i]! });
  }
  return { deleted, added: result, more: Math.max(0, added.length - count), lensLine: start.line };
}

// -- the store -------------------------------------------------------------------------------------

function naming(h: HunkNaming): HunkNaming {
  const out: HunkNaming = {};
  if (typeof h.index === "number") out.index = h.index;
  if (typeof h.total === "number") out.total = h.total;
  if (typeof h.label === "string") out.label = h.label;
  if (typeof h.group === "string") out.group = h.group;
  if (typeof h.currentText === "string") out.currentText = h.currentText;
  return out;
}

function copyRange(r: Range): Range {
  return { start: { ...r.start }, end: { ...r.end } };
}

/** Every proposal the client knows, by id; pending hunks move with the document. */
export class ProposalStore {
  private readonly proposals = new Map<string, Proposal>();

  /** Adds (or replaces) a proposal from an `agentls/proposal` notification. */
  add(wire: WireProposal): Proposal {
    const proposal: Proposal = {
      id: wire.id,
      uri: wire.uri,
      path: wire.path ?? wire.uri,
      summary: wire.summary ?? "",
      kind: wire.kind ?? "modify",
      validation: wire.validation ?? [],
      hunks: wire.hunks.map((h) => ({
        id: h.id,
        proposalId: wire.id,
        state: h.state,
        oldText: h.oldText,
        newText: h.newText,
        range: copyRange(h.range),
        ...naming(h),
      })),
    };
    this.proposals.set(proposal.id, proposal);
    this.forgetIfDone(proposal);
    return proposal;
  }

  get(id: string): Proposal | undefined {
    return this.proposals.get(id);
  }

  all(): Proposal[] {
    return [...this.proposals.values()];
  }

  forUri(uri: string): Proposal[] {
    return this.all().filter((p) => p.uri === uri);
  }

  uris(): string[] {
    return [...new Set(this.all().map((p) => p.uri))];
  }

  /** Pending hunks of a document, top to bottom. */
  pending(uri: string): Hunk[] {
    return this.forUri(uri)
      .flatMap((p) => p.hunks.filter((h) => h.state === "pending"))
      .sort((a, b) => comparePositions(a.range.start, b.range.start));
  }

  /** Hunks still to review in a document (pending or in conflict), top to bottom. */
  unresolved(uri: string): Hunk[] {
    return this.forUri(uri)
      .flatMap((p) => p.hunks.filter((h) => h.state === "pending" || h.state === "conflict"))
      .sort((a, b) => comparePositions(a.range.start, b.range.start));
  }

  /** Sets a hunk's state if the transition is allowed; returns whether it changed. */
  setState(proposalId: string, hunkId: string, state: HunkState): boolean {
    const proposal = this.proposals.get(proposalId);
    const hunk = proposal?.hunks.find((h) => h.id === hunkId);
    if (!proposal || !hunk || !canTransition(hunk.state, state)) return false;
    hunk.state = state;
    return true;
  }

  /** Applies `agentls/proposalResolved`; returns the uri whose decorations changed, if any. */
  resolve(params: ResolvedParams): string | undefined {
    const proposal = this.proposals.get(params.proposalId);
    if (!proposal) return undefined;
    for (const h of params.hunks) this.setState(proposal.id, h.id, h.state);
    if (params.resolved) this.proposals.delete(proposal.id);
    else this.forgetIfDone(proposal);
    return proposal.uri;
  }

  /** Applies the result of `agentls.accept` / `agentls.reject`. */
  applyResult(proposalId: string, result: ReviewResult): void {
    for (const id of result.applied) this.setState(proposalId, id, "accepted");
    for (const id of result.rejected) this.setState(proposalId, id, "rejected");
    for (const id of result.conflicts) this.setState(proposalId, id, "conflict");
    const proposal = this.proposals.get(proposalId);
    if (proposal) this.forgetIfDone(proposal);
  }

  /**
   * Moves the pending hunks of `uri` under the user's edits; a hunk whose lines were touched goes
   * stale. Returns the hunks that went stale.
   */
  applyChanges(uri: string, changes: readonly TextChange[]): Hunk[] {
    const stale: Hunk[] = [];
    for (const proposal of this.forUri(uri)) {
      for (const hunk of proposal.hunks) {
        if (hunk.state !== "pending") continue;
        for (const change of changes) {
          if (!updateHunk(hunk, change)) {
            hunk.state = "stale";
            stale.push(hunk);
            break;
          }
        }
      }
    }
    return stale;
  }

  /** The pending hunk on `line`, else the first one below it, else the last one above it. */
  hunkAt(uri: string, line: number): Hunk | undefined {
    const hunks = this.pending(uri);
    const containing = hunks.find((h) => line >= h.range.start.line && line <= lastLineOf(h.range));
    return containing ?? hunks.find((h) => h.range.start.line > line) ?? hunks[hunks.length - 1];
  }

  /** The next pending hunk below `line` (wrapping around), or undefined when there is none. */
  next(uri: string, line: number): Hunk | undefined {
    const hunks = this.pending(uri);
    return hunks.find((h) => h.range.start.line > line) ?? hunks[0];
  }

  /** The previous pending hunk above `line` (wrapping around). */
  previous(uri: string, line: number): Hunk | undefined {
    const hunks = this.pending(uri);
    return [...hunks].reverse().find((h) => h.range.start.line < line) ?? hunks[hunks.length - 1];
  }

  remove(proposalId: string): void {
    this.proposals.delete(proposalId);
  }

  clear(): void {
    this.proposals.clear();
  }

  private forgetIfDone(proposal: Proposal): void {
    if (!proposal.hunks.some((h) => h.state === "pending" || h.state === "stale" || h.state === "conflict")) {
      this.proposals.delete(proposal.id);
    }
  }
}

function lastLineOf(r: Range): number {
  return r.end.character === 0 && r.end.line > r.start.line ? r.end.line - 1 : r.end.line;
}

// -- settings --------------------------------------------------------------------------------------

/** Settings the extension itself uses; never sent to the server (it rejects unknown keys). */
export const CLIENT_ONLY_SETTINGS: ReadonlySet<string> = new Set(["serverCommand", "diffEditor"]);

/**
 * The `agentls` configuration section as the server should see it: client-only keys dropped, and
 * unset values (null) left out so the server's own layers (TOML, environment, defaults) apply.
 */
export function serverSettings(section: Record<string, unknown>): Record<string, unknown> {
  const clean = (value: Record<string, unknown>, top: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (top && CLIENT_ONLY_SETTINGS.has(key)) continue;
      if (v === null || v === undefined || typeof v === "function") continue;
      if (typeof v === "object" && !Array.isArray(v)) {
        const nested = clean(v as Record<string, unknown>, false);
        if (Object.keys(nested).length > 0) out[key] = nested;
      } else {
        out[key] = v;
      }
    }
    return out;
  };
  return clean(section, true);
}

// -- late proposals --------------------------------------------------------------------------------

/**
 * The last content changes of each document, by the version they produced, so that a proposal
 * computed for version v can be moved over what the user typed after v before it is drawn.
 */
export class ChangeLog {
  private readonly entries = new Map<string, Array<{ version: number; changes: TextChange[] }>>();

  constructor(private readonly keep = 200) {}

  record(uri: string, version: number, changes: readonly TextChange[]): void {
    const list = this.entries.get(uri) ?? [];
    list.push({ version, changes: [...changes] });
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
    this.entries.set(uri, list);
  }

  /**
   * The changes that took `uri` from `version` to `current`, in order; undefined when the log does
   * not reach back that far (the caller then keeps the ranges as sent).
   */
  since(uri: string, version: number, current: number): TextChange[] | undefined {
    if (current <= version) return [];
    const list = (this.entries.get(uri) ?? []).filter((e) => e.version > version && e.version <= current);
    const versions = new Set(list.map((e) => e.version));
    for (let v = version + 1; v <= current; v++) if (!versions.has(v)) return undefined;
    return list.flatMap((e) => e.changes);
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }
}
