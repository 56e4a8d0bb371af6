import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { DashboardDeps, openDashboard } from "../src/dashboard";

const root = path.join(__dirname, "..", "..");

interface Recorded {
  executed: [string, object][];
  opened: string[];
  errors: string[];
  logged: string[];
}

function fake(answer: () => Promise<unknown>, opens = true): { deps: DashboardDeps; seen: Recorded } {
  const seen: Recorded = { executed: [], opened: [], errors: [], logged: [] };
  const deps: DashboardDeps = {
    execute: (command, arg) => {
      seen.executed.push([command, arg]);
      return answer();
    },
    open: async (url) => {
      seen.opened.push(url);
      return opens;
    },
    showError: (message) => void seen.errors.push(message),
    log: (line) => void seen.logged.push(line),
  };
  return { deps, seen };
}

test("Agent: Open Dashboard is contributed and registered", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    contributes: { commands: { command: string; title: string; category?: string }[] };
  };
  const entry = manifest.contributes.commands.find((c) => c.command === "agentls.openDashboard");
  assert.deepEqual(entry, { command: "agentls.openDashboard", title: "Open Dashboard", category: "Agent" });
  const source = fs.readFileSync(path.join(root, "src", "commands.ts"), "utf8");
  assert.match(source, /register\("agentls\.openDashboard"/);
});

test("the server's dashboard URL is opened as it is, token included", async () => {
  const url = "http://127.0.0.1:43117/?token=Vb0q6fJ1rKx8";
  const { deps, seen } = fake(async () => ({ url, pid: 4242 }));
  assert.equal(await openDashboard(deps), url);
  assert.deepEqual(seen.executed, [["agentls.dashboard", {}]]);
  assert.deepEqual(seen.opened, [url]);
  assert.deepEqual(seen.errors, []);
  assert.ok(seen.logged.every((line) => !line.includes("Vb0q6fJ1rKx8")), "the token stays out of the output");
});

test("a server error is one error message, and nothing is opened", async () => {
  const { deps, seen } = fake(async () => {
    throw new Error("the dashboard did not start: No module named 'uvicorn'");
  });
  assert.equal(await openDashboard(deps), undefined);
  assert.deepEqual(seen.opened, []);
  assert.deepEqual(seen.errors, [
    "agentls: opening the dashboard failed: the dashboard did not start: No module named 'uvicorn'",
  ]);
});

test("an answer without a URL, or a browser that did not open, is one error message", async () => {
  const empty = fake(async () => null);
  assert.equal(await openDashboard(empty.deps), undefined);
  assert.equal(empty.seen.errors.length, 1);
  assert.match(empty.seen.errors[0], /no dashboard URL/);
  assert.deepEqual(empty.seen.opened, []);

  const refused = fake(async () => ({ url: "http://127.0.0.1:1/?token=t" }), false);
  assert.equal(await openDashboard(refused.deps), undefined);
  assert.deepEqual(refused.seen.errors, ["agentls: opening the dashboard failed: could not open http://127.0.0.1:1/ in a browser"]);
});
