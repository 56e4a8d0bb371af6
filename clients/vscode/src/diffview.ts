// Proposals as real lines: a diff editor (vscode.diff) between the document and a read-only virtual
// document of the proposed text (scheme agentls-proposal), with "Accept (1/4) | Reject" CodeLens above
// each hunk on the proposed side. The left side is the real document: typing there moves the hunks and
// the proposed side follows. New files diff against an empty document; a conflict opens the current
// lines against the agent's.
import * as vscode from "vscode";

import { keyHint } from "./keys";
import type { Hunk, ProposalStore } from "./proposals";
import { ProposedSpan, proposedText, spanAt } from "./review";

export const SCHEME = "agentls-proposal";

interface Target {
  /** The real document's uri (file:…). */
  uri: string;
  /** "base": the empty left side of a new file; "proposed" (default): the proposed text. */
  side?: "base" | "proposed";
  /** A conflict: only this hunk, the agent's text over the user's current lines. */
  conflict?: { proposalId: string; hunkId: string };
}

export function targetOf(uri: vscode.Uri): Target | undefined {
  if (uri.scheme !== SCHEME) return undefined;
  try {
    return JSON.parse(uri.query) as Target;
  } catch {
    return undefined;
  }
}

function virtualUri(target: Target): vscode.Uri {
  // The path keeps the file name, so the proposed side gets the file's language (colours).
  return vscode.Uri.from({ scheme: SCHEME, path: vscode.Uri.parse(target.uri).path, query: JSON.stringify(target) });
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export class ProposalDocuments implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  /** The spans of each proposed document as last provided, by its uri string. */
  private readonly spans = new Map<string, ProposedSpan[]>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly store: ProposalStore) {
    this.disposables = [
      this.changed,
      this.lensesChanged,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      vscode.languages.registerCodeLensProvider({ scheme: SCHEME }, this),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme !== SCHEME && e.contentChanges.length) this.update(e.document.uri.toString());
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor.document.uri.scheme === SCHEME) this.lensesChanged.fire();
      }),
    ];
  }

  /** The proposal for `uri` changed (arrived, moved, resolved): the open proposed documents follow. */
  update(uri: string): void {
    for (const doc of vscode.workspace.textDocuments) {
      const t = targetOf(doc.uri);
      if (t && t.uri === uri) this.changed.fire(doc.uri);
    }
    this.lensesChanged.fire();
    void this.closeFinished(uri);
  }

  private async baseText(fileUri: string): Promise<string> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === fileUri);
    if (open) return open.getText();
    const uri = vscode.Uri.parse(fileUri);
    if (!(await exists(uri))) return "";
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  }

  private hunksOf(t: Target): Hunk[] {
    if (t.conflict) {
      const hunk = this.store.get(t.conflict.proposalId)?.hunks.find((h) => h.id === t.conflict!.hunkId);
      return hunk ? [hunk] : [];
    }
    return this.store.pending(t.uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const t = targetOf(uri);
    if (!t) return "";
    if (t.side === "base") return "";
    const { text, spans } = proposedText(await this.baseText(t.uri), this.hunksOf(t));
    this.spans.set(uri.toString(), spans);
    this.lensesChanged.fire();
    return text;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const t = targetOf(document.uri);
    const spans = this.spans.get(document.uri.toString()) ?? [];
    if (!t || t.side === "base") return [];
    const editor = vscode.window.activeTextEditor;
    const cursor = editor?.document === document ? spanAt(spans, editor.selection.active.line) : undefined;
    const lenses: vscode.CodeLens[] = [];
    spans.forEach((span, i) => {
      const range = new vscode.Range(span.line, 0, span.line, 0);
      const args = [span.hunk.proposalId, span.hunk.id];
      const keys = span === cursor || spans.length === 1;
      if (span.hunk.state === "conflict") {
        lenses.push(
          new vscode.CodeLens(range, { title: "Take the Agent's Version", command: "agentls.takeAgentVersion", arguments: args }),
          new vscode.CodeLens(range, { title: "Keep Mine (Reject)", command: "agentls.rejectChange", arguments: args }),
        );
        return;
      }
      lenses.push(
        new vscode.CodeLens(range, {
          title: `Accept (${span.hunk.index ?? i + 1}/${span.hunk.total ?? spans.length})${keys ? keyHint("accept") : ""}`,
          command: "agentls.acceptChange",
          arguments: args,
        }),
        new vscode.CodeLens(range, { title: `Reject${keys ? keyHint("reject") : ""}`, command: "agentls.rejectChange", arguments: args }),
      );
      if (i === 0 && spans.length > 1) {
        lenses.push(
          new vscode.CodeLens(range, { title: "Accept All", command: "agentls.acceptFile", arguments: [t.uri] }),
          new vscode.CodeLens(range, { title: "Reject All", command: "agentls.rejectFile", arguments: [t.uri] }),
        );
      }
    });
    return lenses;
  }

  /** The real document a proposed-side uri stands for. */
  targetUri(uri: vscode.Uri): string | undefined {
    return targetOf(uri)?.uri;
  }

  /** The hunk under (or nearest to) the cursor of a proposed-side editor. */
  hunkAt(editor: vscode.TextEditor): Hunk | undefined {
    return spanAt(this.spans.get(editor.document.uri.toString()) ?? [], editor.selection.active.line)?.hunk;
  }

  /** Moves the cursor of a proposed-side editor to the next (or previous) change, wrapping around. */
  step(editor: vscode.TextEditor, direction: "next" | "previous"): boolean {
    const spans = this.spans.get(editor.document.uri.toString()) ?? [];
    const line = editor.selection.active.line;
    const span = direction === "next"
      ? spans.find((s) => s.line > line) ?? spans[0]
      : [...spans].reverse().find((s) => s.line < line) ?? spans[spans.length - 1];
    if (!span) return false;
    const pos = new vscode.Position(span.line, 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return true;
  }

  /** Opens the diff of `fileUri` against its proposed text (or one conflict), the hunk in view. */
  async open(fileUri: string, hunk?: Hunk, options: { preserveFocus?: boolean } = {}): Promise<void> {
    const file = vscode.Uri.parse(fileUri);
    const conflict = hunk?.state === "conflict" ? { proposalId: hunk.proposalId, hunkId: hunk.id } : undefined;
    const right = virtualUri(conflict ? { uri: fileUri, conflict } : { uri: fileUri });
    const left = (await exists(file)) || vscode.workspace.textDocuments.some((d) => d.uri.toString() === fileUri)
      ? file
      : virtualUri({ uri: fileUri, side: "base" });
    const name = file.path.split("/").pop() ?? file.path;
    const title = conflict
      ? `${name}: yours ↔ the agent's (${hunk?.label ?? "conflict"})`
      : left.scheme === SCHEME ? `${name} (new file proposed by the agent)` : `${name} ↔ the agent's proposal`;
    // Provide first, so the spans are known when the editor asks for its CodeLens.
    await this.provideTextDocumentContent(right);
    await vscode.commands.executeCommand("vscode.diff", left, right, title, { preview: true, preserveFocus: options.preserveFocus ?? false });
    const span = hunk ? this.spans.get(right.toString())?.find((s) => s.hunk.id === hunk.id) : this.spans.get(right.toString())?.[0];
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === right.toString());
    if (editor && span) {
      const pos = new vscode.Position(span.line, 0);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  /** Whether a diff of `fileUri` against its proposal is the visible tab of some editor group. */
  shownInDiff(fileUri: string): boolean {
    return vscode.window.tabGroups.all.some((g) => {
      const input = g.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && targetOf(input.modified)?.uri === fileUri;
    });
  }

  /** Closes the diff tabs of `fileUri` once nothing is left to review there. */
  private async closeFinished(fileUri: string): Promise<void> {
    const left = this.store.unresolved(fileUri);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((tab) => {
      const input = tab.input;
      if (!(input instanceof vscode.TabInputTextDiff)) return false;
      const t = targetOf(input.modified);
      if (!t || t.uri !== fileUri) return false;
      if (t.conflict) return !left.some((h) => h.id === t.conflict!.hunkId && h.state === "conflict");
      return !left.some((h) => h.state === "pending");
    });
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
