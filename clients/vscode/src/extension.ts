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
} from "vscode-languageclient/node";

import { registerCommands, Sessions } from "./commands";
import { InlineDiff } from "./inline";
import { registerPlans } from "./plans";
import { ProposalStore, ResolvedParams, ReviewResult, serverSettings, WireProposal } from "./proposals";

export const INSTALL_HINT = "Install it with `python3 -m pip install agentls` (see the agentls README), or set `agentls.serverCommand`.";

let client: LanguageClient | undefined;

/** The extension's running parts, shared with the commands. */
export interface Agent {
  readonly output: vscode.OutputChannel;
  readonly inline: InlineDiff;
  readonly sessions: Sessions;
  /** `workspace/executeCommand` with one object argument, as every agentls command takes. */
  execute<T>(command: string, arg: object): Promise<T>;
  restart(): Promise<void>;
  client(): LanguageClient | undefined;
}

function settingsSection(): Record<string, unknown> {
  // A plain copy: WorkspaceConfiguration also carries methods.
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("agentls"))) as Record<string, unknown>;
}

/** Finds `command` on PATH (or as a path); undefined when it cannot be run. */
function findExecutable(command: string): string | undefined {
  const candidates = command.includes(path.sep) || command.includes("/")
    ? [command]
    : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).flatMap((dir) => {
        const exts = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
        return exts.map((ext) => path.join(dir, command + ext));
      });
  return candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<Agent> {
  const output = vscode.window.createOutputChannel("agentls");
  const store = new ProposalStore();
  const inline = new InlineDiff(store);
  const sessions = new Sessions();
  context.subscriptions.push(output, inline, sessions);

  const execute = async <T>(command: string, arg: object): Promise<T> => {
    if (!client || !client.isRunning()) throw new Error("the agentls server is not running");
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] })) as T;
  };

  const agent: Agent = {
    output,
    inline,
    sessions,
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
      const review = result as ReviewResult;
      const proposal = store.get(arg.proposalId);
      store.applyResult(arg.proposalId, review);
      if (proposal) inline.refresh(proposal.uri);
    }
    if ((command === "agentls.edit" || command === "agentls.task") && result) {
      const id = (result as { sessionId?: string }).sessionId;
      if (id) sessions.started(id, command === "agentls.task" ? "task" : "edit");
    }
  };

  const startClient = async (): Promise<void> => {
    const config = vscode.workspace.getConfiguration("agentls");
    const commandLine = config.get<string[]>("serverCommand", ["agentls", "serve"]);
    const [command, ...args] = commandLine;
    if (!command || !findExecutable(command)) {
      const message = `agentls: the server command \`${command ?? "(empty)"}\` was not found. ${INSTALL_HINT}`;
      output.appendLine(message);
      void vscode.window.showErrorMessage(message, "Open Settings").then((choice) => {
        if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "agentls.serverCommand");
      });
      return;
    }
    const serverOptions: ServerOptions = { command, args, options: { env: process.env } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: output,
      initializationOptions: () => ({ inlineProposals: true, settings: serverSettings(settingsSection()) }),
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
    plans.attach(created);
    created.onNotification("agentls/proposal", (sent: WireProposal) => {
      // The same spelling as TextDocument.uri.toString(), which keys the model.
      const wire = { ...sent, uri: vscode.Uri.parse(sent.uri).toString() };
      inline.add(wire);
      sessions.proposalArrived();
      const count = wire.hunks.filter((h) => h.state === "pending").length;
      const problems = wire.validation?.length ? ` (still ${wire.validation.length} syntax error(s))` : "";
      vscode.window.setStatusBarMessage(`agentls: ${count} change(s) proposed to ${wire.path ?? wire.uri}${problems}`, 5000);
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
