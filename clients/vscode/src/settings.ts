/**
 * The settings sent to the server. A repository can ship `.vscode/settings.json`; the settings that can hurt
 * the user (where the API key goes, what may run, the deny-list, checkpoints, log paths: the server's
 * `config.SENSITIVE`) are therefore taken only from the user's own settings, never from a workspace's.
 */

/** Dotted camelCase keys under `agentls`, as the server's editor layer reads them. */
export const SENSITIVE = [
  "model.baseUrl", "model.apiKey", "model.provider", "tools.deny", "tools.runCommand", "tools.server",
  "checkpoints.enabled", "checkpoints.retention", "agent.budget", "prices", "logFile", "debug", "mcp",
];

type Settings = Record<string, unknown>;

/** `all` (the merged configuration) with every sensitive key replaced by the user's own value, if any. */
export function editorSettings(all: Settings, userValue: (key: string) => unknown): Settings {
  const out = JSON.parse(JSON.stringify(all)) as Settings;
  for (const key of SENSITIVE) {
    const parts = key.split(".");
    const last = parts.pop() as string;
    let node: Settings | undefined = out;
    for (const part of parts) {
      const next: unknown = node?.[part];
      node = next !== null && typeof next === "object" ? (next as Settings) : undefined;
    }
    if (node) delete node[last];
    const own = userValue(key);
    if (own === undefined) continue;
    let target = out;
    for (const part of parts) {
      const next = target[part];
      if (next === null || typeof next !== "object") target[part] = {};
      target = target[part] as Settings;
    }
    target[last] = own;
  }
  return out;
}
