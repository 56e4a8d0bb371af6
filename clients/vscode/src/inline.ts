// Inline diffs: decorations for pending hunks and an "Accept | Reject" CodeLens above each one.
// The geometry comes from the pure model in proposals.ts; this module only draws it.
import * as vscode from "vscode";

import { ChangeLog, decorationsFor, Hunk, ProposalStore, TextChange, WireProposal } from "./proposals";

function toChange(change: vscode.TextDocumentContentChangeEvent): TextChange {
  const { start, end } = change.range;
  return {
    range: { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } },
    text: change.text,
  };
}

/** VS Code collapses leading whitespace in decoration text: keep indentation visible. */
function visible(text: string): string {
  return text.replace(/^[ \t]+/, (ws) => ws.replace(/\t/g, "    ").replace(/ /g, "\u00a0"));
}

export class InlineDiff implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly deleted = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.removedLineBackground"),
    textDecoration: "line-through",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.deletedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly log = new ChangeLog();

  constructor(readonly store: ProposalStore) {
    this.disposables.push(
      this.deleted,
      this.added,
      this.lensesChanged,
      vscode.languages.registerCodeLensProvider({ pattern: "**" }, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshAll()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.workspace.onDidCloseTextDocument((doc) => this.log.forget(doc.uri.toString())),
    );
  }

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const uri = e.document.uri.toString();
    const changes = e.contentChanges.map(toChange);
    this.log.record(uri, e.document.version, changes);
    if (this.store.forUri(uri).length === 0) return;
    this.store.applyChanges(uri, changes);
    this.refresh(uri);
  }

  /** Takes a new proposal; its ranges refer to `wire.version`, so later typing is replayed on them. */
  add(wire: WireProposal): void {
    this.store.add(wire);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === wire.uri);
    if (doc && typeof wire.version === "number" && doc.version > wire.version) {
      const changes = this.log.since(wire.uri, wire.version, doc.version);
      if (changes) this.store.applyChanges(wire.uri, changes);
    }
    this.refresh(wire.uri);
  }

  /** Redraws every visible editor of `uri` (after a proposal arrived, moved or was resolved). */
  refresh(uri: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri) this.draw(editor);
    }
    this.lensesChanged.fire();
    this.updateContext();
  }

  refreshAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
    this.lensesChanged.fire();
    this.updateContext();
  }

  private draw(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const last = doc.lineCount - 1;
    const deleted: vscode.Range[] = [];
    const added: vscode.DecorationOptions[] = [];
    for (const hunk of this.store.pending(doc.uri.toString())) {
      const d = decorationsFor(hunk);
      if (d.deleted && d.deleted.startLine <= last) {
        deleted.push(new vscode.Range(d.deleted.startLine, 0, Math.min(d.deleted.endLine, last), 0));
      }
      for (const a of d.added) {
        const line = doc.lineAt(Math.min(a.line, last));
        const contentText = visible(a.text) || "\u00a0";
        const style = {
          contentText,
          color: new vscode.ThemeColor("gitDecoration.addedResourceForeground"),
          backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
          fontStyle: "italic",
        };
        added.push(
          a.at === "start"
            ? { range: new vscode.Range(line.range.start, line.range.start), renderOptions: { before: { ...style, margin: "0 1em 0 0" } } }
            : { range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { ...style, margin: "0 0 0 2em" } } },
        );
      }
    }
    editor.setDecorations(this.deleted, deleted);
    editor.setDecorations(this.added, added);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    const last = Math.max(0, document.lineCount - 1);
    const hunks = this.store.pending(document.uri.toString());
    hunks.forEach((hunk, i) => {
      const line = Math.min(decorationsFor(hunk).lensLine, last);
      const range = new vscode.Range(line, 0, line, 0);
      const args = [hunk.proposalId, hunk.id];
      lenses.push(
        new vscode.CodeLens(range, { title: `Accept (${i + 1}/${hunks.length})`, command: "agentls.acceptChange", arguments: args }),
        new vscode.CodeLens(range, { title: "Reject", command: "agentls.rejectChange", arguments: args }),
      );
      if (i === 0 && hunks.length > 1) {
        lenses.push(
          new vscode.CodeLens(range, { title: "Accept All", command: "agentls.acceptAll" }),
          new vscode.CodeLens(range, { title: "Reject All", command: "agentls.rejectAll" }),
        );
      }
    });
    return lenses;
  }

  /** The hunk a command without arguments acts on: under (or nearest to) the cursor. */
  hunkAtCursor(editor: vscode.TextEditor | undefined): Hunk | undefined {
    if (!editor) return undefined;
    return this.store.hunkAt(editor.document.uri.toString(), editor.selection.active.line);
  }

  reveal(editor: vscode.TextEditor, hunk: Hunk): void {
    const pos = new vscode.Position(hunk.range.start.line, 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private updateContext(): void {
    const editor = vscode.window.activeTextEditor;
    const has = editor ? this.store.pending(editor.document.uri.toString()).length > 0 : false;
    void vscode.commands.executeCommand("setContext", "agentls.hasProposals", has);
  }

  clear(): void {
    this.store.clear();
    this.refreshAll();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
