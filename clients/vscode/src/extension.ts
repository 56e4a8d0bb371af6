// agentls for VS Code: starts `agentls serve`, renders proposals inline, and adds the Agent commands.
// Shaped after microsoft/vscode-extension-samples lsp-sample/client/src/extension.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

import { registerCommands, Sessions } from "./commands";
import { ProposalDocuments } from "./diffview";
import { InlineDiff } from "./inline";
import { createPendingView } from "./pending";
import { registerPlans } from "./plans";
import { decorationsFor, ProposalStore, ResolvedParams, ReviewResult, serverSettings, WireProposal } from "./proposals";
import { hunkLabel } from "./review";
import { editorSettings } from "./settings";
import type { SessionStatus } from "./status";

/** The install command the README gives, and where to point the setting afterwards. */
export const INSTALL_HINT =
  "Install the server as the README says (`python3 -m pip install .` in an agentls checkout, in a virtualenv if you like), " +
  "then set `agentls.serverCommand` to its `agentls`, e.g. `[\"/path/to/.venv/bin/agentls\", \"serve\"]`.";

let client: LanguageClient | undefined;

/** The extension's running parts, shared with the commands. */
export interface Agent {
  readonly output: vscode.OutputChannel;
  readonly inline: InlineDiff;
  readonly docs: ProposalDocuments;
  readonly sessions: Sessions;
  /** Takes the result of `agentls.accept`/`agentls.reject`: states, redraw, conflicts and warnings shown. */
  reviewed(proposalId: string, result: ReviewResult): void;
  /** `workspace/executeCommand` with one object argument, as every agentls command takes. */
  execute<T>(command: string, arg: object): Promise<T>;
  restart(): Promise<void>;
  client(): LanguageClient | undefined;
}

function settingsSection(): Record<string, unknown> {
  // A plain copy (WorkspaceConfiguration also carries methods), sensitive keys from the user's settings only.
  const config = vscode.workspace.getConfiguration("agentls");
  const all = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  return editorSettings(all, (key) => config.inspect(key)?.globalValue);
}

/**
 * Why `command` (a name on PATH or a path) cannot be run, or undefined when it can: "was not found",
 * "is a directory" or "is not executable".
 */
export function whyNotRunnable(command: string): string | undefined {
  const candidates = command.includes(path.sep) || command.includes("/")
    ? [command]
    : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).flatMap((dir) => {
        const exts = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
        return exts.map((ext) => path.join(dir, command + ext));
      });
  let found: string | undefined;
  for (const file of candidates) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      found ??= "is a directory";
      continue;
    }
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return undefined;
    } catch {
      found = file === command ? `is not executable (try \`chmod +x ${file}\`)` : `is not executable (${file}: try \`chmod +x ${file}\`)`;
    }
  }
  return found ?? (command.includes("/") ? "was not found" : "was not found on PATH");
}

export async function activate(context: vscode.ExtensionContext): Promise<Agent> {
  const output = vscode.window.createOutputChannel("agentls");
  const store = new ProposalStore();
  const inline = new InlineDiff(store);
  const docs = new ProposalDocuments(store);
  const sessions = new Sessions();
  const pending = createPendingView(store);
  inline.proposedHunkAt = (editor) => docs.hunkAt(editor);
  context.subscriptions.push(output, inline, docs, sessions, pending.tree, pending.view,
    inline.onDidChangeProposals((uri) => {
      if (uri) docs.update(uri);
      else for (const u of store.uris()) docs.update(u);
      pending.tree.refresh();
      sessions.setPending(store.all().reduce((n, p) => n + p.hunks.filter((h) => h.state === "pending" || h.state === "conflict").length, 0));
    }));
  const warned = new Set<string>();
  /** Proposals the server holds (any file, open or not); an older server has no such command. */
  const loadPending = (): Promise<void> =>
    pending.load(execute, (p) => inline.add({ ...p, uri: vscode.Uri.parse(p.uri).toString() }))
      .then(() => inline.refreshAll())
      .catch((error: unknown) => output.appendLine(`agentls: agentls.proposals: ${String(error)}`));
  context.subscriptions.push(vscode.commands.registerCommand("agentls.pending.refresh", () => loadPending()));

  const execute = async <T>(command: string, arg: object): Promise<T> => {
    if (!client || !client.isRunning()) throw new Error("the agentls server is not running");
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] })) as T;
  };

  const reviewed = (proposalId: string, result: ReviewResult): void => {
    const proposal = store.get(proposalId);
    const hunks = proposal?.hunks ?? [];
    store.applyResult(proposalId, result);
    if (proposal) inline.refresh(proposal.uri);
    for (const warning of result.warnings ?? []) {
      // Each warning once: accepting the next hunk may report the same dependency again.
      if (warned.has(`${proposalId}\0${warning}`)) continue;
      warned.add(`${proposalId}\0${warning}`);
      output.appendLine(`agentls: ${warning}`);
      void vscode.window.showWarningMessage(`agentls: ${warning}`);
    }
    const conflicts = hunks.filter((h) => result.conflicts.includes(h.id));
    if (result.conflicts.length > 0) {
      const names = conflicts.map((h, i) => hunkLabel(h, i + 1, hunks.length)).join("; ");
      void vscode.window.showWarningMessage(
        `agentls: ${names || `${result.conflicts.length} change(s)`} conflict${conflicts.length === 1 ? "s" : ""} with your edits: not applied.`,
        "Compare", "Take the Agent's Version",
      ).then((choice) => {
        const first = conflicts[0];
        if (!first || !choice) return;
        void vscode.commands.executeCommand(choice === "Compare" ? "agentls.openConflict" : "agentls.takeAgentVersion", first.proposalId, first.id);
      });
    }
  };

  const agent: Agent = {
    output,
    inline,
    docs,
    sessions,
    reviewed,
    execute,
    restart: async () => {
      await stopClient();
      inline.clear();
      await startClient();
    },
    client: () => client,
  };

  /** Keeps the proposal model in step with what the server did, whichever UI asked for it. */
  const afterCommand = (command: string, args: unknown[], result: unknown): void => {
    const arg = (args[0] ?? {}) as { proposalId?: string };
    if ((command === "agentls.accept" || command === "agentls.reject") && arg.proposalId && result) {
      reviewed(arg.proposalId, result as ReviewResult);
    }
    if ((command === "agentls.edit" || command === "agentls.task") && result) {
      const id = (result as { sessionId?: string }).sessionId;
      if (id) sessions.started(id, command === "agentls.task" ? "task" : "edit");
    }
  };

  /**
   * Added lines that no removed line can carry inline are shown as real lines in the diff editor:
   * opened by itself for the file in the active editor (setting agentls.diffEditor: auto), always, or never.
   */
  const openDiffIfNeeded = async (wire: WireProposal): Promise<void> => {
    const mode = vscode.workspace.getConfiguration("agentls").get<string>("diffEditor", "auto");
    if (mode === "never") return;
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (active !== wire.uri || docs.shownInDiff(wire.uri)) return;
    const pending = store.pending(wire.uri);
    if (pending.length === 0) return;
    const needed = mode === "always" || wire.kind === "create" || pending.some((h) => decorationsFor(h).more > 0);
    if (needed) await docs.open(wire.uri);
  };

  const startClient = async (): Promise<void> => {
    const config = vscode.workspace.getConfiguration("agentls");
    const commandLine = config.get<string[]>("serverCommand", ["agentls", "serve"]);
    const [command, ...args] = commandLine;
    const why = command ? whyNotRunnable(command) : "is empty";
    if (!command || why) {
      const message = `agentls: the server command \`${command ?? ""}\` (setting agentls.serverCommand) ${why}. ${INSTALL_HINT}`;
      output.appendLine(message);
      output.show(true);
      sessions.serverProblem(`the server command ${why}`);
      void vscode.window.showErrorMessage(message, "Open Settings", "Show Output").then((choice) => {
        if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "agentls.serverCommand");
        if (choice === "Show Output") output.show();
      });
      return;
    }
    const serverOptions: ServerOptions = { command, args, options: { env: process.env } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: output,
      initializationOptions: () => ({ inlineProposals: true, sessionStatus: true, settings: serverSettings(settingsSection()) }),
      middleware: {
        executeCommand: async (command, args, next) => {
          // "Edit with agent…" code actions leave the instruction to the client.
          if (command === "agentls.edit" && args[0] && typeof args[0] === "object" && !("instruction" in args[0])) {
            const instruction = await vscode.window.showInputBox({
              title: "Agent: Edit Selection",
              prompt: "What should the agent do with this code?",
              ignoreFocusOut: true,
            });
            if (!instruction) return undefined;
            args = [{ ...(args[0] as object), instruction }];
          }
          const result: unknown = await next(command, args);
          afterCommand(command, args, result);
          return result;
        },
      },
    };
    const created = new LanguageClient("agentls", "agentls", serverOptions, clientOptions);
    // The status bar item shows what `$/progress` would (turn, activity, thinking, tokens, cost; click to
    // cancel), from agentls/sessionStatus: declaring no window progress keeps it from showing twice.
    created.registerFeature({
      fillClientCapabilities: (capabilities) => {
        if (capabilities.window) capabilities.window.workDoneProgress = false;
      },
      initialize: () => undefined,
      getState: () => ({ kind: "static" }),
      clear: () => undefined,
    });
    plans.attach(created);
    const announced = new Set<string>();
    created.onNotification("agentls/proposal", (sent: WireProposal) => {
      // The same spelling as TextDocument.uri.toString(), which keys the model.
      const wire = { ...sent, uri: vscode.Uri.parse(sent.uri).toString() };
      inline.add(wire);
      sessions.proposalArrived();
      // The session's end line says how many changes there are; only a proposal that still has syntax errors
      // is worth a word of its own (once: the server re-sends a proposal whenever its hunks move).
      if (wire.validation?.length && !announced.has(wire.id)) {
        announced.add(wire.id);
        const name = vscode.workspace.asRelativePath(vscode.Uri.parse(wire.uri), false);
        vscode.window.setStatusBarMessage(
          `agentls: the proposal for ${name} still has ${wire.validation.length} syntax error(s)`, 8000);
      }
      void openDiffIfNeeded(wire);
    });
    created.onNotification("agentls/sessionStatus", (status: SessionStatus) => sessions.status(status));
    created.onDidChangeState((event) => {
      if (event.newState === State.Running) void loadPending();
    });
    created.onNotification("agentls/proposalResolved", (params: ResolvedParams) => {
      const uri = store.resolve(params);
      if (uri) inline.refresh(uri);
    });
    client = created;
    try {
      await created.start();
    } catch (error) {
      const message = `agentls: the server failed to start (${commandLine.join(" ")}): ${String(error)}`;
      output.appendLine(message);
      const missing = /ENOENT|not found/i.test(String(error));
      sessions.serverProblem("the server failed to start");
      void vscode.window.showErrorMessage(missing ? `${message}. ${INSTALL_HINT}` : `${message}. See the agentls output channel.`);
    }
  };

  const stopClient = async (): Promise<void> => {
    const old = client;
    client = undefined;
    if (old) {
      try {
        await old.stop();
      } catch (error) {
        output.appendLine(`agentls: stopping the server failed: ${String(error)}`);
      }
    }
  };

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration("agentls")) return;
      if (e.affectsConfiguration("agentls.serverCommand")) {
        const choice = await vscode.window.showInformationMessage("agentls.serverCommand changed: restart the server?", "Restart");
        if (choice) await agent.restart();
        return;
      }
      if (client?.isRunning()) {
        // Sent by hand rather than with synchronize.configurationSection: the server rejects keys it
        // does not know (serverCommand) and unset values (null), so both are left out here.
        await client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { agentls: serverSettings(settingsSection()) },
        });
      }
    }),
    { dispose: () => void stopClient() },
  );

  registerCommands(context, agent);
  const plans = registerPlans(context, agent);
  sessions.attach(agent);
  await startClient();
  return agent;
}

export async function deactivate(): Promise<void> {
  if (client) {
    const old = client;
    client = undefined;
    await old.stop();
  }
}
