// Inline diffs: decorations for pending hunks and an "Accept | Reject" CodeLens above each one.
// The geometry comes from the pure model in proposals.ts; this module only draws it. Proposed lines
// that have no removed line to sit beside are never squeezed onto one line: their hunk's CodeLens opens
// the diff editor (diffview.ts), where they are real lines.
import * as vscode from "vscode";

import { SCHEME, targetOf } from "./diffview";
import { keyHint } from "./keys";
import { ChangeLog, decorationsFor, Hunk, ProposalStore, TextChange, WireProposal } from "./proposals";
import { hunkLabel } from "./review";

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
  // Only under the removed text, not the whole line: the proposed text drawn after it keeps its own
  // (green) background instead of green over red (which read as olive).
  private readonly deleted = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor("diffEditor.removedLineBackground"),
    textDecoration: "line-through",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.deletedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly conflict = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("merge.currentContentBackground"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.warningForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  /** Fires with a document's uri whenever its proposals changed (arrived, moved, resolved). */
  private readonly proposalsChanged = new vscode.EventEmitter<string | undefined>();
  readonly onDidChangeProposals = this.proposalsChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly log = new ChangeLog();
  private current: string | undefined;
  /** The hunk under the cursor of a proposed-side diff editor (diffview.ts answers). */
  proposedHunkAt: (editor: vscode.TextEditor) => Hunk | undefined = () => undefined;

  constructor(readonly store: ProposalStore) {
    this.disposables.push(
      this.deleted,
      this.added,
      this.conflict,
      this.lensesChanged,
      this.proposalsChanged,
      vscode.languages.registerCodeLensProvider([{ scheme: "file" }, { scheme: "untitled" }], this),
      vscode.window.tabGroups.onDidChangeTabs(() => this.refreshAll()),
      vscode.window.onDidChangeTextEditorSelection((e) => this.cursorMoved(e.textEditor)),
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
    if (e.document.uri.scheme === SCHEME || this.store.forUri(uri).length === 0) return;
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
    this.proposalsChanged.fire(uri);
  }

  refreshAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
    this.lensesChanged.fire();
    this.updateContext();
    this.proposalsChanged.fire(undefined);
  }

  /** Keys show on the hunk under the cursor only: redraw the lenses when that hunk changes. */
  private cursorMoved(editor: vscode.TextEditor): void {
    if (editor !== vscode.window.activeTextEditor) return;
    const hunk = this.hunkAtCursor(editor);
    const key = hunk ? `${hunk.proposalId}/${hunk.id}` : undefined;
    if (key !== this.current) {
      this.current = key;
      this.lensesChanged.fire();
    }
  }

  /** Whether `editor` is the left side of our diff editor (the diff draws the change there). */
  private inDiff(editor: vscode.TextEditor): boolean {
    const uri = editor.document.uri.toString();
    const isOurDiff = (g: vscode.TabGroup): boolean => {
      const input = g.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && targetOf(input.modified)?.uri === uri;
    };
    // The sides of a diff editor may have no view column of their own.
    if (editor.viewColumn === undefined) return vscode.window.tabGroups.all.some(isOurDiff);
    const group = vscode.window.tabGroups.all.find((g) => g.viewColumn === editor.viewColumn);
    return group ? isOurDiff(group) : false;
  }

  /** Whether our diff of `uri` is on screen: its proposed side carries the CodeLens then. */
  private onlyInDiff(uri: string): boolean {
    return vscode.window.tabGroups.all.some((g) => {
      const input = g.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && targetOf(input.modified)?.uri === uri;
    });
  }

  private draw(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const last = doc.lineCount - 1;
    const deleted: vscode.Range[] = [];
    const added: vscode.DecorationOptions[] = [];
    const conflicts: vscode.Range[] = [];
    const inDiff = this.inDiff(editor);
    for (const hunk of inDiff ? [] : this.store.unresolved(doc.uri.toString())) {
      if (hunk.state === "conflict") {
        const end = Math.min(Math.max(hunk.range.start.line, hunk.range.end.character === 0 ? hunk.range.end.line - 1 : hunk.range.end.line), last);
        conflicts.push(new vscode.Range(Math.min(hunk.range.start.line, last), 0, end, 0));
        continue;
      }
      const d = decorationsFor(hunk);
      if (d.deleted && d.deleted.startLine <= last) {
        for (let l = d.deleted.startLine; l <= Math.min(d.deleted.endLine, last); l++) {
          const text = doc.lineAt(l);
          const from = text.firstNonWhitespaceCharacterIndex;
          if (!text.isEmptyOrWhitespace) deleted.push(new vscode.Range(l, from, l, text.range.end.character));
        }
      }
      for (const a of d.added) {
        const line = doc.lineAt(Math.min(a.line, last));
        const contentText = visible(a.text) || "\u00a0";
        const style = {
          contentText,
          color: new vscode.ThemeColor("editor.foreground"),
          backgroundColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
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
    editor.setDecorations(this.conflict, conflicts);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const uri = document.uri.toString();
    if (this.onlyInDiff(uri)) return [];
    const lenses: vscode.CodeLens[] = [];
    const last = Math.max(0, document.lineCount - 1);
    const hunks = this.store.unresolved(uri);
    const pending = hunks.filter((h) => h.state === "pending");
    const editor = vscode.window.activeTextEditor;
    const current = editor?.document === document ? this.hunkAtCursor(editor) : undefined;
    hunks.forEach((hunk) => {
      const line = Math.min(decorationsFor(hunk).lensLine, last);
      const range = new vscode.Range(line, 0, line, 0);
      const args = [hunk.proposalId, hunk.id];
      if (hunk.state === "conflict") {
        const label = hunkLabel(hunk, pending.indexOf(hunk) + 1, hunks.length);
        lenses.push(
          new vscode.CodeLens(range, { title: `$(warning) Conflict with your edits (${label}): Compare`, command: "agentls.openConflict", arguments: args }),
          new vscode.CodeLens(range, { title: "Take the Agent's Version", command: "agentls.takeAgentVersion", arguments: args }),
          new vscode.CodeLens(range, { title: "Keep Mine", command: "agentls.rejectChange", arguments: args }),
        );
        return;
      }
      const i = pending.indexOf(hunk);
      const keys = hunk === current || pending.length === 1;
      lenses.push(
        new vscode.CodeLens(range, {
          title: `Accept (${hunk.index ?? i + 1}/${hunk.total ?? pending.length})${keys ? keyHint("accept") : ""}`,
          command: "agentls.acceptChange",
          arguments: args,
        }),
        new vscode.CodeLens(range, { title: `Reject${keys ? keyHint("reject") : ""}`, command: "agentls.rejectChange", arguments: args }),
      );
      const more = decorationsFor(hunk).more;
      if (more > 0) {
        lenses.push(new vscode.CodeLens(range, {
          title: `Show ${more} Added Line${more === 1 ? "" : "s"}`, command: "agentls.openDiff", arguments: [uri, hunk.proposalId, hunk.id],
        }));
      }
      if (i === 0 && pending.length > 1) {
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
    if (editor.document.uri.scheme === SCHEME) return this.proposedHunkAt(editor);
    return this.store.hunkAt(editor.document.uri.toString(), editor.selection.active.line);
  }

  reveal(editor: vscode.TextEditor, hunk: Hunk): void {
    const pos = new vscode.Position(hunk.range.start.line, 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private updateContext(): void {
    const editor = vscode.window.activeTextEditor;
    const uri = editor && (targetOf(editor.document.uri)?.uri ?? editor.document.uri.toString());
    const has = uri ? this.store.unresolved(uri).length > 0 : false;
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
