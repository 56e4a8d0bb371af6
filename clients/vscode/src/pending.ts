// The "Pending Changes" view: every unresolved proposal, by file, then hunk ("change 2 of 4, line 25"),
// with accept/reject per hunk, per file and for all, and conflicts to compare or take. Fed by
// `agentls.proposals` when the server starts (any file, open or not) and kept live by the proposal
// notifications through the shared store.
import * as vscode from "vscode";

import type { Hunk, ProposalStore, WireProposal } from "./proposals";
import { byFile, countText, hunkLabel, hunkStats } from "./review";

export type PendingNode =
  | { kind: "file"; uri: string; path: string; fileKind: "modify" | "create" | "delete"; hunks: Hunk[] }
  | { kind: "hunk"; uri: string; hunk: Hunk; index: number; total: number };

function relative(path: string): string {
  const uri = vscode.Uri.file(path);
  return vscode.workspace.asRelativePath(uri, false);
}

export class PendingTree implements vscode.TreeDataProvider<PendingNode> {
  private readonly changed = new vscode.EventEmitter<PendingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: ProposalStore) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  files(): Extract<PendingNode, { kind: "file" }>[] {
    return byFile(this.store.all()).map((f) => ({
      kind: "file", uri: f.uri, path: f.path, fileKind: f.kind, hunks: f.hunks,
    }));
  }

  getTreeItem(node: PendingNode): vscode.TreeItem {
    if (node.kind === "file") {
      const uri = vscode.Uri.parse(node.uri);
      const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `file:${node.uri}`;
      const where = relative(uri.fsPath);
      const dir = where.includes("/") ? where.slice(0, where.lastIndexOf("/")) : "";
      const conflicts = node.hunks.filter((h) => h.state === "conflict").length;
      const what = node.fileKind === "create" ? "new file" : node.fileKind === "delete" ? "deleted" : "";
      item.description = [dir, what, countText(node.hunks.length, 1),
        conflicts ? `${conflicts} in conflict` : ""].filter(Boolean).join(" · ");
      item.tooltip = `${where}: ${countText(node.hunks.length, 1)} proposed by the agent`;
      item.contextValue = "agentlsPendingFile";
      item.iconPath = vscode.ThemeIcon.File;
      item.command = { command: "agentls.openDiff", title: "Open Diff", arguments: [node.uri] };
      return item;
    }
    const { hunk } = node;
    const label = hunkLabel(hunk, node.index, node.total);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `hunk:${hunk.proposalId}:${hunk.id}`;
    if (hunk.state === "conflict") {
      item.description = "conflicts with your edits";
      item.iconPath = new vscode.ThemeIcon("warning", new vscode.ThemeColor("list.warningForeground"));
      item.contextValue = "agentlsPendingConflict";
      item.command = { command: "agentls.openConflict", title: "Compare", arguments: [hunk.proposalId, hunk.id] };
    } else {
      item.description = hunk.state === "stale" ? "you edited these lines" : hunkStats(hunk);
      const icon = !hunk.oldText ? ["diff-added", "gitDecoration.addedResourceForeground"]
        : !hunk.newText ? ["diff-removed", "gitDecoration.deletedResourceForeground"]
        : ["diff-modified", "gitDecoration.modifiedResourceForeground"];
      item.iconPath = new vscode.ThemeIcon(icon[0]!, new vscode.ThemeColor(icon[1]!));
      item.contextValue = hunk.state === "stale" ? "agentlsPendingStale" : "agentlsPendingHunk";
      item.command = { command: "agentls.openDiff", title: "Open Diff", arguments: [node.uri, hunk.proposalId, hunk.id] };
    }
    const first = hunk.newText.split("\n").slice(0, 12).join("\n");
    item.tooltip = new vscode.MarkdownString().appendText(`${label}\n`).appendCodeblock(first || "(lines removed)");
    return item;
  }

  getChildren(node?: PendingNode): PendingNode[] {
    if (!node) return this.files();
    if (node.kind === "hunk") return [];
    return node.hunks.map((hunk, i) => ({ kind: "hunk", uri: node.uri, hunk, index: i + 1, total: node.hunks.length }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The view; `load` fills the store from `agentls.proposals` (older servers: nothing, no error). */
export function createPendingView(store: ProposalStore): {
  tree: PendingTree;
  view: vscode.TreeView<PendingNode>;
  /** Fills the store from `agentls.proposals`; proposals the server no longer holds are forgotten. */
  load(execute: <T>(command: string, arg: object) => Promise<T>, add: (p: WireProposal) => void): Promise<void>;
} {
  const tree = new PendingTree(store);
  const view = vscode.window.createTreeView("agentls.pending", { treeDataProvider: tree, showCollapseAll: true });
  const update = (): void => {
    const files = tree.files();
    const count = files.reduce((n, f) => n + f.hunks.length, 0);
    view.description = count ? countText(count, files.length) : undefined;
    view.badge = count ? { value: count, tooltip: `${countText(count, files.length)} to review` } : undefined;
    view.message = count ? "" : "No pending agent changes.";
    void vscode.commands.executeCommand("setContext", "agentls.pendingCount", count);
  };
  tree.onDidChangeTreeData(update);
  update();
  return {
    tree,
    view,
    async load(execute, add) {
      const result = await execute<{ proposals?: WireProposal[] }>("agentls.proposals", {});
      const listed = new Set((result.proposals ?? []).map((p) => p.id));
      for (const p of store.all()) if (!listed.has(p.id)) store.remove(p.id);
      for (const p of result.proposals ?? []) add(p);
      tree.refresh();
    },
  };
}
