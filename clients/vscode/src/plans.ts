// Task plans in VS Code: the "Agent Plans" tree view (plans, their steps, each step's state, cost and check),
// kept up to date by `agentls/planUpdated`, with commands to draft, run, roll back and cancel plans.
// A failed step's question (Retry, Skip, Edit plan, Roll back, Stop) arrives as the server's
// window/showMessageRequest, which VS Code shows by itself.
import * as vscode from "vscode";
import { State, type LanguageClient } from "vscode-languageclient/node";

import type { Agent } from "./extension";

export interface WireExecution {
  status: string;
  error: string;
  costUsd: number;
  tokens: { input: number; output: number; cacheWrite: number; cacheRead: number };
  files: string[];
  verify: { command: string | null; status: string | null; output: string };
  coverage: number | null;
  rolledBack?: boolean;
}

export interface WireStep {
  id: string;
  title: string;
  description: string;
  files: string[];
  dependsOn: string[];
  verify: string | null;
  role: string;
  status: string;
  costUsd: number;
  execution: WireExecution | null;
  substeps: WireStep[];
}

export interface WirePlan {
  id: string;
  instruction: string;
  summary: string;
  status: string;
  autoApply: boolean;
  costUsd: number;
  tokens: number;
  document: string;
  running: boolean;
  question: { stepId: string; error: string; actions: string[] } | null;
  steps: WireStep[];
}

type PlanNode = { kind: "plan"; plan: WirePlan } | { kind: "step"; plan: WirePlan; step: WireStep };

const ICONS: Record<string, string> = {
  pending: "circle-large-outline", running: "sync~spin", review: "eye", done: "pass", failed: "error",
  skipped: "debug-step-over", blocked: "circle-slash", interrupted: "debug-disconnect", cancelled: "close",
  draft: "note",
};

function money(value: number | undefined): string {
  return `$${(value ?? 0).toFixed(4)}`;
}

/** One line describing a step's outcome: state, cost, tokens, check. */
export function describeStep(step: WireStep): string {
  const parts = [step.status];
  const run = step.execution;
  if (run) {
    const t = run.tokens;
    parts.push(`${money(step.costUsd)} · ${(t.input + t.output + t.cacheWrite + t.cacheRead).toLocaleString()} tokens`);
    if (run.verify?.status) parts.push(`verify ${run.verify.status}`);
    if (run.coverage !== null && run.coverage !== undefined) parts.push(`coverage ${run.coverage}%`);
    if (run.rolledBack) parts.push("rolled back");
  }
  return parts.join(" · ");
}

export class PlanTree implements vscode.TreeDataProvider<PlanNode> {
  private readonly plans = new Map<string, WirePlan>();
  private readonly changed = new vscode.EventEmitter<PlanNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  update(plan: WirePlan): void {
    // A re-render closes a context menu the user has open: redraw only when the plan changed.
    if (JSON.stringify(this.plans.get(plan.id)) === JSON.stringify(plan)) return;
    this.plans.set(plan.id, plan);
    this.changed.fire(undefined);
  }

  get(id: string): WirePlan | undefined {
    return this.plans.get(id);
  }

  clear(): void {
    this.plans.clear();
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: PlanNode): vscode.TreeItem {
    if (node.kind === "plan") {
      const { plan } = node;
      const title = plan.instruction.split("\n")[0] ?? plan.id;
      const item = new vscode.TreeItem(title, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `plan:${plan.id}`;
      item.description = `${plan.running ? "running" : plan.status} · ${money(plan.costUsd)}${plan.autoApply ? " · auto-apply" : ""}`;
      item.tooltip = new vscode.MarkdownString(`**Plan ${plan.id}**\n\n${plan.summary || plan.instruction}`);
      item.iconPath = new vscode.ThemeIcon(ICONS[plan.running ? "running" : plan.status] ?? "note");
      item.contextValue = plan.running ? "agentlsPlanRunning" : "agentlsPlan";
      item.command = { command: "agentls.plans.openDocument", title: "Open Plan", arguments: [node] };
      return item;
    }
    const { step } = node;
    const collapsible = step.substeps.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(`${step.id}. ${step.title}`, collapsible);
    item.id = `step:${node.plan.id}:${step.id}`;
    item.description = describeStep(step);
    const lines = [`**${step.id}. ${step.title}** (${step.role})`, "", step.description];
    if (step.files.length) lines.push("", `Files: ${step.files.map((f) => `\`${f}\``).join(", ")}`);
    if (step.dependsOn.length) lines.push("", `Depends on: ${step.dependsOn.join(", ")}`);
    if (step.verify) lines.push("", `Verify: \`${step.verify}\``);
    if (step.execution?.error) lines.push("", `Error: ${step.execution.error}`);
    item.tooltip = new vscode.MarkdownString(lines.join("\n"));
    item.iconPath = new vscode.ThemeIcon(ICONS[step.status] ?? "circle-large-outline");
    // A run that was rolled back left no checkpoint to roll back to (the server would refuse).
    item.contextValue = step.execution && !step.execution.rolledBack ? "agentlsStepRan" : "agentlsStep";
    return item;
  }

  getChildren(node?: PlanNode): PlanNode[] {
    if (!node) return [...this.plans.values()].reverse().map((plan) => ({ kind: "plan", plan }));
    const steps = node.kind === "plan" ? node.plan.steps : node.step.substeps;
    return steps.map((step) => ({ kind: "step", plan: node.plan, step }));
  }
}

function planOf(node: PlanNode | undefined, tree: PlanTree, last: string | undefined): WirePlan | undefined {
  if (node) return tree.get(node.plan.id) ?? node.plan;
  return last ? tree.get(last) : undefined;
}

/** Registers the view and the commands; `attach` subscribes a (re)started client to plan updates. */
export function registerPlans(context: vscode.ExtensionContext, agent: Agent): { attach(client: LanguageClient): void } {
  const tree = new PlanTree();
  const view = vscode.window.createTreeView("agentls.plans", { treeDataProvider: tree, showCollapseAll: true });
  let last: string | undefined;
  context.subscriptions.push(tree, view);

  const fail = (what: string) => (error: unknown) =>
    void vscode.window.showErrorMessage(`agentls: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);

  const refresh = async (): Promise<void> => {
    const list = await agent.execute<{ id: string }[]>("agentls.plan.list", { limit: 20 });
    for (const row of list.reverse()) tree.update(await agent.execute<WirePlan>("agentls.plan.status", { planId: row.id }));
  };

  const run = async (node: PlanNode | undefined, autoApply: boolean): Promise<void> => {
    const plan = planOf(node, tree, last);
    if (!plan) return void vscode.window.showInformationMessage("agentls: no plan yet (Agent: New Plan…)");
    // Unsaved edits of the plan document count: save it first.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === plan.document);
    if (open?.isDirty) await open.save();
    last = plan.id;
    const args: Record<string, unknown> = { planId: plan.id };
    if (autoApply) args.autoApply = true;
    const started = await agent.execute<{ steps: string[] }>("agentls.plan.execute", args);
    vscode.window.setStatusBarMessage(`agentls: plan ${plan.id} running steps ${started.steps.join(", ")}`, 5000);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand("agentls.plans.new", async () => {
      const instruction = await vscode.window.showInputBox({
        title: "Agent: New Plan", prompt: "What change should the agent plan?", ignoreFocusOut: true,
      });
      if (!instruction) return;
      await vscode.window.withProgress(
        { location: { viewId: "agentls.plans" }, title: "Planning…" },
        async () => {
          const plan = await agent.execute<WirePlan>("agentls.plan", { instruction });
          last = plan.id;
          tree.update(plan);
        },
      ).then(undefined, fail("planning"));
    }),
    vscode.commands.registerCommand("agentls.plans.run", (node?: PlanNode) => run(node, false).catch(fail("running the plan"))),
    vscode.commands.registerCommand("agentls.plans.runAutoApply",
      (node?: PlanNode) => run(node, true).catch(fail("running the plan"))),
    vscode.commands.registerCommand("agentls.plans.refresh", () => refresh().catch(fail("refreshing the plans"))),
    vscode.commands.registerCommand("agentls.plans.openDocument", async (node?: PlanNode) => {
      const plan = planOf(node, tree, last);
      if (plan) await vscode.window.showTextDocument(vscode.Uri.file(plan.document), { preview: false });
    }),
    vscode.commands.registerCommand("agentls.plans.cancel", async (node?: PlanNode) => {
      const plan = planOf(node, tree, last);
      if (plan) await agent.execute("agentls.plan.cancel", { planId: plan.id }).catch(fail("cancelling"));
    }),
    vscode.commands.registerCommand("agentls.plans.rollBackTo", async (node?: PlanNode) => {
      if (!node || node.kind !== "step") return;
      const answer = await vscode.window.showWarningMessage(
        `Put the files back as they were before step ${node.step.id} (${node.step.title})? It can be undone.`,
        { modal: true }, "Roll Back");
      if (answer !== "Roll Back") return;
      try {
        const result = await agent.execute<{ steps: string[]; safetyCheckpoint: string }>(
          "agentls.plan.rollback", { planId: node.plan.id, toStep: node.step.id });
        void vscode.window.showInformationMessage(
          `agentls: rolled back to before step ${node.step.id}; steps ${result.steps.join(", ")} are pending ` +
          `(undo: checkpoint ${result.safetyCheckpoint}).`);
      } catch (error) {
        fail("rolling back")(error);
      }
    }),
  );

  return {
    attach(client: LanguageClient): void {
      tree.clear();
      client.onNotification("agentls/planUpdated", (plan: WirePlan) => tree.update(plan));
      // Plans outlive the server (they are stored): show the recent ones as soon as it runs.
      client.onDidChangeState((event) => {
        if (event.newState === State.Running) void refresh().catch(() => undefined);
      });
    },
  };
}
