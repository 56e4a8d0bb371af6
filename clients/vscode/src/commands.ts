// The Agent: … commands, the status bar item and the checkpoint views.
import * as vscode from "vscode";

import { openDashboard } from "./dashboard";
import type { Agent } from "./extension";
import type { PendingNode } from "./pending";
import type { Hunk, ReviewResult } from "./proposals";
import { cut, endMessage, SessionStatus, statusLine, statusTooltip } from "./status";

interface UsageSession {
  sessionId: string;
  kind: string;
  instruction: string;
  model: string;
  started: number;
  ended: number | null;
  status: string;
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

interface Checkpoint {
  id: string;
  time: number | string;
  trigger: string;
  sessionId?: string | null;
  step?: number | null;
  summary?: string | null;
  files?: string[] | number | null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function guarded(what: string, agent: Agent, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    agent.output.appendLine(`agentls: ${what} failed: ${errorText(error)}`);
    void vscode.window.showErrorMessage(`agentls: ${what} failed: ${errorText(error)}`);
  }
}

/**
 * Sessions started from this window, and the status bar item. A server that sends
 * `agentls/sessionStatus` drives the item (turn, activity, thinking, tokens, cost, the end line, one
 * notification per failure); with an older one, progress is `$/progress` (shown by
 * vscode-languageclient) and whether a session has ended is read from `agentls.usage`.
 */
export class Sessions implements vscode.Disposable {
  private readonly running = new Map<string, string>();
  /** Sessions the server reports on by itself (no polling), with their latest status. */
  private readonly live = new Map<string, SessionStatus>();
  private readonly ended_ = new Set<string>();
  private last: SessionStatus | undefined;
  private pending = 0;
  private readonly item = vscode.window.createStatusBarItem("agentls.status", vscode.StatusBarAlignment.Left, 100);
  private timer: NodeJS.Timeout | undefined;
  private agent: Agent | undefined;

  constructor() {
    this.item.name = "agentls";
    this.render();
    this.item.show();
  }

  attach(agent: Agent): void {
    this.agent = agent;
  }

  ids(): string[] {
    return [...this.running.keys()].reverse();
  }

  started(id: string, kind: string): void {
    if (this.ended_.has(id)) return;
    this.running.set(id, kind);
    this.render();
    if (!this.live.has(id)) this.timer ??= setInterval(() => void this.poll(), 1500);
  }

  ended(id: string): void {
    this.running.delete(id);
    this.live.delete(id);
    this.render();
  }

  /** The server cannot start: say so where the agent's state shows, and open the output on click. */
  serverProblem(text: string): void {
    this.item.text = "$(error) Agent: not running";
    this.item.tooltip = `agentls: ${text}. Click for the agentls output.`;
    this.item.command = "agentls.showOutput";
  }

  /** `agentls/sessionStatus`: redraws the item; at the end, one notification (a failure: an error). */
  status(s: SessionStatus): void {
    if (this.ended_.has(s.sessionId)) return;
    if (s.state === "running") {
      this.live.set(s.sessionId, s);
      this.running.set(s.sessionId, this.running.get(s.sessionId) ?? "session");
      this.last = s;
      this.render();
      return;
    }
    this.ended_.add(s.sessionId);
    this.running.delete(s.sessionId);
    this.live.delete(s.sessionId);
    this.last = s;
    this.render();
    const text = `agentls: ${endMessage(s)}`;
    this.agent?.output.appendLine(`${text} (${s.title || s.sessionId})`);
    if (s.state === "failed") {
      void vscode.window.showErrorMessage(text);
    } else if (s.state === "done" && s.changes && s.changes.count > 0) {
      void vscode.window.showInformationMessage(text, "Review").then((choice) => {
        if (choice) void vscode.commands.executeCommand("agentls.pending.focus");
      });
    } else {
      vscode.window.setStatusBarMessage(text, 8000);
    }
  }

  proposalArrived(): void {
    void this.poll();
  }

  private async poll(): Promise<void> {
    if ([...this.running.keys()].every((id) => this.live.has(id)) || !this.agent) {
      this.stopPolling();
      return;
    }
    try {
      const usage = await this.agent.execute<{ sessions: UsageSession[] }>("agentls.usage", { limit: 20 });
      for (const s of usage.sessions) {
        if (this.running.has(s.sessionId) && s.ended !== null && s.status !== "running") {
          this.running.delete(s.sessionId);
          if (s.status !== "done" && s.status !== "completed" && s.status !== "ok") {
            this.agent.output.appendLine(`agentls: session ${s.sessionId} ended: ${s.status}`);
          }
        }
      }
    } catch (error) {
      this.agent.output.appendLine(`agentls: usage poll failed: ${errorText(error)}`);
      this.running.clear();
    }
    this.render();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Changes left to review: once none is, the end line of a session that proposed some gives way. */
  setPending(count: number): void {
    if (count === this.pending) return;
    this.pending = count;
    if (count === 0 && this.last?.state === "done") this.last = undefined;
    this.render();
  }

  render(): void {
    const pending = this.pending;
    const live = [...this.live.values()].pop();
    if (live) {
      const thinking = live.thinking ? ` · ${cut(live.thinking, 90)}` : "";
      const more = this.running.size > 1 ? ` (+${this.running.size - 1})` : "";
      this.item.text = `$(sync~spin) Agent${more}: ${cut(statusLine(live), 70)}${thinking}`;
      this.item.tooltip = new vscode.MarkdownString(statusTooltip(live));
      this.item.command = "agentls.cancelSession";
    } else if (this.running.size > 0) {
      this.item.text = `$(sync~spin) Agent: ${this.running.size} running`;
      this.item.tooltip = "agentls is working. Click to cancel.";
      this.item.command = "agentls.cancelSession";
    } else if (this.last && this.last.state !== "running") {
      const icon = this.last.state === "failed" ? "$(error)" : this.last.state === "cancelled" ? "$(circle-slash)" : "$(check)";
      this.item.text = `${icon} Agent: ${cut(endMessage(this.last), 80)}`;
      this.item.tooltip = `${this.last.title || "agentls"}: ${this.last.message ?? this.last.state}. Click for usage.`;
      this.item.command = this.last.changes?.count ? "agentls.pending.focus" : "agentls.showUsage";
    } else {
      this.item.text = pending > 0 ? `$(hubot) Agent: ${pending} change${pending === 1 ? "" : "s"} to review` : "$(hubot) Agent";
      this.item.tooltip = pending > 0 ? "agentls: click to review in Pending Changes" : "agentls: click for usage";
      this.item.command = pending > 0 ? "agentls.pending.focus" : "agentls.showUsage";
    }
    void vscode.commands.executeCommand("setContext", "agentls.running", this.running.size > 0);
  }

  dispose(): void {
    this.stopPolling();
    this.item.dispose();
  }
}

/** A read-only virtual document for checkpoint diffs (no "save changes?" when closed). */
class DiffDocuments implements vscode.TextDocumentContentProvider {
  static readonly scheme = "agentls-checkpoint";
  private readonly texts = new Map<string, string>();

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }

  async show(id: string, diff: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: DiffDocuments.scheme, path: `/checkpoint-${id}.diff` });
    this.texts.set(uri.toString(), diff || "# no differences: the files are as they were in this checkpoint\n");
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, "diff");
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

function checkpointItem(c: Checkpoint): vscode.QuickPickItem & { checkpoint: Checkpoint } {
  const when = typeof c.time === "number" ? new Date(c.time * 1000).toLocaleString() : String(c.time);
  const files = Array.isArray(c.files) ? c.files.join(", ") : c.files != null ? `${c.files} file(s)` : "";
  return {
    label: `$(history) ${c.summary || c.trigger}`,
    description: `${when} · ${c.trigger} · ${c.id}`,
    detail: files,
    checkpoint: c,
  };
}

export function registerCommands(context: vscode.ExtensionContext, agent: Agent): void {
  const { inline, sessions, docs } = agent;
  const store = inline.store;
  const diffs = new DiffDocuments();

  const protocolUri = (doc: vscode.TextDocument): string =>
    agent.client()?.code2ProtocolConverter.asUri(doc.uri) ?? doc.uri.toString();

  const review = async (command: "agentls.accept" | "agentls.reject", proposalId: string, hunkIds?: string[],
    force = false): Promise<void> => {
    const arg: Record<string, unknown> = hunkIds ? { proposalId, hunkIds } : { proposalId };
    if (force) arg.force = true;
    const result = await agent.execute<ReviewResult>(command, arg);
    agent.reviewed(proposalId, result);
  };

  /** A hunk from CodeLens arguments (proposal id, hunk id), a Pending Changes node, or the cursor. */
  const targetOf = (a?: string | PendingNode, b?: string): Pick<Hunk, "proposalId" | "id"> | undefined => {
    if (typeof a === "string" && b) return { proposalId: a, id: b };
    if (a && typeof a === "object" && a.kind === "hunk") return a.hunk;
    return inline.hunkAtCursor(vscode.window.activeTextEditor);
  };

  const oneHunk = (command: "agentls.accept" | "agentls.reject", force = false) =>
    (a?: string | PendingNode, b?: string) =>
      guarded(command === "agentls.accept" ? "accept" : "reject", agent, async () => {
        const target = targetOf(a, b);
        if (!target) {
          void vscode.window.showInformationMessage("agentls: no pending agent change here.");
          return;
        }
        await review(command, target.proposalId, [target.id], force);
      });

  /** Every unresolved hunk of `uri` (undefined: of every file), by proposal. */
  const reviewFiles = async (command: "agentls.accept" | "agentls.reject", uri: string | undefined): Promise<void> => {
    const proposals = uri ? store.forUri(uri) : store.all();
    if (proposals.length === 0) {
      void vscode.window.showInformationMessage("agentls: no pending agent changes.");
      return;
    }
    for (const p of proposals) {
      const ids = p.hunks.filter((h) => h.state === "pending" || (command === "agentls.reject" && h.state === "conflict")).map((h) => h.id);
      if (ids.length) await review(command, p.id, ids);
    }
  };

  const fileOf = (a?: string | PendingNode): string | undefined => {
    if (typeof a === "string") return a;
    if (a && typeof a === "object") return a.uri;
    const doc = vscode.window.activeTextEditor?.document;
    return doc && (docs.targetUri(doc.uri) ?? doc.uri.toString());
  };

  const allHunks = (command: "agentls.accept" | "agentls.reject") => () =>
    guarded(command === "agentls.accept" ? "accept all" : "reject all", agent, async () => {
      // From an editor: that file's changes; elsewhere (the view's title bar, no editor): all of them.
      const editor = vscode.window.activeTextEditor;
      await reviewFiles(command, editor ? fileOf() : undefined);
    });

  const everything = (command: "agentls.accept" | "agentls.reject") => () =>
    guarded(command === "agentls.accept" ? "accept all" : "reject all", agent, () => reviewFiles(command, undefined));

  const oneFile = (command: "agentls.accept" | "agentls.reject") => (a?: string | PendingNode) =>
    guarded(command === "agentls.accept" ? "accept file" : "reject file", agent, () => reviewFiles(command, fileOf(a)));

  const move = (direction: "next" | "previous") => () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    if (docs.targetUri(editor.document.uri)) {
      if (!docs.step(editor, direction)) void vscode.window.showInformationMessage("agentls: no pending agent changes here.");
      return;
    }
    const uri = editor.document.uri.toString();
    const line = editor.selection.active.line;
    const hunk = direction === "next" ? store.next(uri, line) : store.previous(uri, line);
    if (hunk) inline.reveal(editor, hunk);
    else void vscode.window.showInformationMessage("agentls: no pending agent changes in this file.");
  };

  const pickCheckpoint = async (title: string): Promise<Checkpoint | undefined> => {
    const list = await agent.execute<Checkpoint[]>("agentls.checkpoints.list", { limit: 50 });
    if (list.length === 0) {
      void vscode.window.showInformationMessage("agentls: no checkpoints yet in this workspace.");
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(list.map(checkpointItem), { title, matchOnDescription: true, matchOnDetail: true });
    return picked?.checkpoint;
  };

  const restore = async (c: Checkpoint): Promise<void> => {
    const sure = await vscode.window.showWarningMessage(
      `Roll back the workspace to checkpoint ${c.id} (${c.summary || c.trigger})?`,
      { modal: true, detail: "Files come back as they were; files created since are deleted. A safety checkpoint is taken first, so this can be undone." },
      "Roll Back",
    );
    if (!sure) return;
    const result = await agent.execute<{ restored: string[]; deleted: string[]; created: string[]; safetyCheckpoint: string }>(
      "agentls.checkpoints.restore", { id: c.id });
    const counts = `${result.restored.length} restored, ${result.deleted.length} deleted, ${result.created.length} re-created`;
    const undo = await vscode.window.showInformationMessage(`agentls: rolled back to ${c.id} (${counts}).`, "Undo");
    if (undo) {
      await agent.execute("agentls.checkpoints.restore", { id: result.safetyCheckpoint });
      void vscode.window.showInformationMessage(`agentls: roll back undone (safety checkpoint ${result.safetyCheckpoint}).`);
    }
  };

  const showDiff = async (c: Checkpoint): Promise<void> => {
    const { diff } = await agent.execute<{ diff: string }>("agentls.checkpoints.diff", { id: c.id });
    await diffs.show(c.id, diff);
  };

  const register = (id: string, run: (...args: never[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  };

  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(DiffDocuments.scheme, diffs));

  register("agentls.editSelection", () =>
    guarded("edit", agent, async () => {
      const editor = vscode.window.activeTextEditor;
      const client = agent.client();
      if (!editor || !client) {
        void vscode.window.showInformationMessage("agentls: open a file and select the code to edit.");
        return;
      }
      const doc = editor.document;
      const version = doc.version;
      const range = client.code2ProtocolConverter.asRange(editor.selection);
      const instruction = await vscode.window.showInputBox({
        title: "Agent: Edit Selection",
        prompt: editor.selection.isEmpty ? "What should the agent do with this line?" : "What should the agent do with the selection?",
        ignoreFocusOut: true,
      });
      if (!instruction) return;
      const { sessionId } = await agent.execute<{ sessionId: string }>("agentls.edit", {
        uri: protocolUri(doc), range, version, instruction,
      });
      sessions.started(sessionId, "edit");
    }));

  register("agentls.fix", () =>
    guarded("fix", agent, async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) return;
      const range = editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : editor.selection;
      const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>(
        "vscode.executeCodeActionProvider", editor.document.uri, range, vscode.CodeActionKind.QuickFix.value)) ?? [];
      const fixes = actions.filter((a) => a.title.startsWith("Fix") && a.title.includes("with agent") && a.command);
      if (fixes.length === 0) {
        void vscode.window.showInformationMessage("agentls: no problem to fix here (select code and use Agent: Edit Selection…).");
        return;
      }
      const chosen = fixes.length === 1
        ? fixes[0]
        : (await vscode.window.showQuickPick(fixes.map((a) => ({ label: a.title, action: a })), { title: "Agent: Fix" }))?.action;
      if (chosen?.command) {
        await vscode.commands.executeCommand(chosen.command.command, ...(chosen.command.arguments ?? []));
      }
    }));

  register("agentls.runTask", () =>
    guarded("task", agent, async () => {
      const instruction = await vscode.window.showInputBox({
        title: "Agent: Run Task",
        prompt: "What should the agent do in this workspace?",
        ignoreFocusOut: true,
      });
      if (!instruction) return;
      const doc = vscode.window.activeTextEditor?.document;
      const arg = doc && doc.uri.scheme === "file" ? { instruction, uris: [protocolUri(doc)] } : { instruction };
      const { sessionId } = await agent.execute<{ sessionId: string }>("agentls.task", arg);
      sessions.started(sessionId, "task");
    }));

  register("agentls.acceptChange", oneHunk("agentls.accept"));
  register("agentls.rejectChange", oneHunk("agentls.reject"));
  register("agentls.acceptAll", allHunks("agentls.accept"));
  register("agentls.rejectAll", allHunks("agentls.reject"));
  register("agentls.acceptFile", oneFile("agentls.accept"));
  register("agentls.rejectFile", oneFile("agentls.reject"));
  register("agentls.acceptEverything", everything("agentls.accept"));
  register("agentls.rejectEverything", everything("agentls.reject"));
  register("agentls.takeAgentVersion", oneHunk("agentls.accept", true));
  register("agentls.openDiff", (a?: string | PendingNode, proposalId?: string, hunkId?: string) =>
    guarded("open diff", agent, async () => {
      const uri = fileOf(a);
      if (!uri) return;
      const hunk = proposalId ? store.get(proposalId)?.hunks.find((h) => h.id === hunkId) : undefined;
      await docs.open(uri, hunk);
    }));
  register("agentls.openConflict", (a?: string | PendingNode, b?: string) =>
    guarded("compare", agent, async () => {
      const t = targetOf(a, b);
      const proposal = t && store.get(t.proposalId);
      const hunk = proposal?.hunks.find((h) => h.id === t!.id);
      if (proposal && hunk) await docs.open(proposal.uri, hunk);
    }));
  register("agentls.nextChange", move("next"));
  register("agentls.previousChange", move("previous"));

  register("agentls.cancelSession", () =>
    guarded("cancel", agent, async () => {
      const ids = sessions.ids();
      if (ids.length === 0) {
        void vscode.window.showInformationMessage("agentls: no agent session is running.");
        return;
      }
      for (const sessionId of ids) {
        await agent.execute<{ cancelled: boolean }>("agentls.cancel", { sessionId });
        sessions.ended(sessionId);
      }
      vscode.window.setStatusBarMessage("agentls: cancelled", 3000);
    }));

  register("agentls.showCheckpoints", () =>
    guarded("checkpoints", agent, async () => {
      const c = await pickCheckpoint("Agent: Checkpoints (newest first)");
      if (!c) return;
      const action = await vscode.window.showQuickPick(["Show Diff Against Now", "Roll Back to This Checkpoint…"], { title: c.id });
      if (action?.startsWith("Show")) await showDiff(c);
      else if (action) await restore(c);
    }));

  register("agentls.rollBack", () =>
    guarded("roll back", agent, async () => {
      const c = await pickCheckpoint("Agent: Roll Back to…");
      if (c) await restore(c);
    }));

  register("agentls.showUsage", () =>
    guarded("usage", agent, async () => {
      const usage = await agent.execute<{ sessions: UsageSession[]; totalCostUsd: number }>("agentls.usage", { limit: 30 });
      const items = usage.sessions.map((s) => ({
        label: s.instruction || s.kind,
        description: `${s.status} · $${s.costUsd.toFixed(4)} · ${s.inputTokens} in / ${s.outputTokens} out`,
        detail: `${s.kind} · ${s.model} · ${new Date(s.started * 1000).toLocaleString()} · ${s.turns} turn(s) · ${s.sessionId}`,
      }));
      await vscode.window.showQuickPick(items, { title: `Agent usage: $${usage.totalCostUsd.toFixed(4)} in this workspace` });
    }));

  register("agentls.openDashboard", () =>
    openDashboard({
      execute: (command, arg) => agent.execute(command, arg),
      open: (url) => vscode.env.openExternal(vscode.Uri.parse(url)),
      showError: (message) => void vscode.window.showErrorMessage(message),
      log: (line) => agent.output.appendLine(line),
    }));

  register("agentls.showOutput", () => agent.output.show());

  register("agentls.restartServer", () =>
    guarded("restart", agent, async () => {
      await agent.restart();
      vscode.window.setStatusBarMessage("agentls: server restarted", 3000);
    }));
}
