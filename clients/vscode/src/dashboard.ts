// Agent: Open Dashboard. Kept free of the `vscode` module (the editor's parts are passed in) so that the
// unit tests run under plain node.

/** What `agentls.dashboard` answers: the War Room's URL (a one-time sign-in link) and the child's pid. */
export interface DashboardInfo {
  url: string;
  pid?: number;
}

export interface DashboardDeps {
  /** `workspace/executeCommand` on the agentls server. */
  execute(command: string, arg: object): Promise<unknown>;
  /** Opens the URL in the user's browser (`vscode.env.openExternal`); false when it did not. */
  open(url: string): Thenable<boolean> | Promise<boolean>;
  /** One error line for the user (`window.showErrorMessage`). */
  showError(message: string): void;
  /** The output channel. */
  log(line: string): void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Asks the server for the dashboard's URL and opens it; any failure is one error message (shown once)
 * and a line in the output. Returns the URL opened, or undefined.
 */
export async function openDashboard(deps: DashboardDeps): Promise<string | undefined> {
  try {
    const answer = (await deps.execute("agentls.dashboard", {})) as Partial<DashboardInfo> | null;
    const url = answer?.url;
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw new Error(`the server answered no dashboard URL (${JSON.stringify(answer)})`);
    }
    deps.log(`agentls: dashboard at ${url.split("?")[0]}`);
    if (!(await deps.open(url))) {
      throw new Error(`could not open ${url.split("?")[0]} in a browser`);
    }
    return url;
  } catch (error) {
    const message = `agentls: opening the dashboard failed: ${errorText(error)}`;
    deps.log(message);
    deps.showError(message);
    return undefined;
  }
}
