// What the drivers of the agentls extension in a real VS Code (code-server) share: the arguments, the
// browser (Debian's Chromium through playwright-core), the Command Palette, and the bookkeeping of a
// run (timed steps, DIR/result.json, DIR/failure.png on failure, the exit code).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { chromium } from "playwright-core";

/** Parses the command line: --url, --workspace, --out (always required), --chromium, --timeout and `options`. */
export function parseOptions(script, options = {}, required = []) {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      workspace: { type: "string" },
      out: { type: "string" },
      chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
      timeout: { type: "string", default: process.env.AGENTLS_E2E_TIMEOUT_MS ?? "120000" },
      ...options,
    },
  });
  for (const name of ["url", "workspace", "out", ...required]) {
    if (!values[name]) {
      console.error(`${script}: --${name} is required`);
      process.exit(2);
    }
  }
  fs.mkdirSync(values.out, { recursive: true });
  return values;
}

export const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Runs a command from the Command Palette (F1), as a user would. */
export async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  // Pick the row whose label is exactly the title: fuzzy matching also lists other commands, and
  // which one comes first depends on what was used recently.
  const row = page.locator(".quick-input-list .monaco-list-row").filter({
    has: page.locator(".label-name", { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
  });
  await row.first().click();
}

/**
 * Opens the workspace in the workbench, waits for the extension (its status bar item), then runs
 * `scenario({ page, result, step, opts })`. Writes OUT/result.json ({ok, steps, data, error?,
 * notifications?, consoleErrors}) and, on failure, OUT/failure.png; exits 0 when the scenario passed.
 */
export async function drive(opts, scenario) {
  const started = Date.now();
  const result = { ok: false, steps: [], data: {} };
  const step = (name) => {
    result.steps.push({ name, seconds: (Date.now() - started) / 1000 });
    console.error(`[vscode-e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${name}`);
  };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "agentls-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.chromium,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(Number(opts.timeout));
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });

  try {
    const url = new URL(opts.url);
    url.searchParams.set("folder", opts.workspace);
    await page.goto(url.toString());
    await page.locator(".monaco-workbench").waitFor();
    // The extension is active once its status bar item is there.
    await page.locator('.statusbar-item[id$="agentls.status"]').waitFor();
    step("workbench loaded, extension active");
    await scenario({ page, result, step, opts });
    result.ok = true;
  } catch (error) {
    result.error = String(error?.stack ?? error);
    result.notifications = await page
      .locator(".notifications-toasts .notification-list-item-message")
      .allTextContents()
      .catch(() => []);
    await page.screenshot({ path: path.join(opts.out, "failure.png") }).catch(() => {});
    console.error(`[vscode-e2e] failed: ${result.error}`);
  } finally {
    result.consoleErrors = consoleErrors;
    fs.writeFileSync(path.join(opts.out, "result.json"), JSON.stringify(result, null, 2));
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(result.ok ? 0 : 1);
}

/** A tree view's rows, top to bottom: {level, label, description, icon, actions}. */
export async function treeRows(pane) {
  return pane.locator(".monaco-list-row").evaluateAll((rows) =>
    rows
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((row) => {
        const icon = row.querySelector(".custom-view-tree-node-item-icon");
        const codicon = icon ? [...icon.classList].find((c) => c.startsWith("codicon-")) : undefined;
        return {
          level: Number(row.getAttribute("aria-level")),
          label: row.querySelector(".label-name")?.textContent ?? "",
          description: row.querySelector(".label-description")?.textContent ?? "",
          icon: codicon?.replace(/^codicon-/, "") ?? null,
          // The inline actions the row offers (shown when the pointer is over it).
          actions: [...row.querySelectorAll(".actions .action-label")].map((a) => a.getAttribute("aria-label")),
        };
      }),
  );
}

/** Waits until the rows of the view titled `view` satisfy `predicate` (run in the page, on treeRows' shape). */
export async function waitForRows(page, view, predicateSource, timeout = undefined) {
  await page.waitForFunction(
    ([view, source]) => {
      const header = [...document.querySelectorAll(".pane-header")].find(
        (h) => h.querySelector(".title")?.textContent === view,
      );
      const pane = header?.closest(".pane");
      if (!pane) return false;
      const rows = [...pane.querySelectorAll(".monaco-list-row")]
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
        .map((row) => ({
          level: Number(row.getAttribute("aria-level")),
          label: row.querySelector(".label-name")?.textContent ?? "",
          description: row.querySelector(".label-description")?.textContent ?? "",
        }));
      // eslint-disable-next-line no-new-func
      return new Function("rows", `return (${source})(rows);`)(rows);
    },
    [view, predicateSource],
    timeout === undefined ? undefined : { timeout },
  );
}
