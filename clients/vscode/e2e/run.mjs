// Drives the agentls extension in a real VS Code workbench (code-server) with Playwright and Chromium.
//
//   node run.mjs --url http://127.0.0.1:PORT/ --workspace DIR --file DIR/calc.py --out DIR \
//                [--instruction "add type hints"] [--lines 6] [--chromium /usr/bin/chromium]
//
// The scenario is what a person does: open the file with Quick Open, select its first lines, run
// "Agent: Edit Selection…" from the Command Palette, type the instruction, wait for the inline diff
// (decorations and the "Accept | Reject" CodeLens), accept the first hunk, reject the other, save.
// Every step waits for what the user would see (selectors, text), never for a fixed time.
//
// It writes DIR/result.json (what it saw at each stage: rendered lines, lenses, editor text, the
// file on disk) and DIR/inline-diff.png; on failure DIR/failure.png and a non-zero exit. The caller
// (tests/e2e/test_vscode.py) starts code-server, the server's fake model, and asserts on the result.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { chromium } from "playwright-core";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    workspace: { type: "string" },
    file: { type: "string" },
    out: { type: "string" },
    instruction: { type: "string", default: "add type hints" },
    lines: { type: "string", default: "6" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    timeout: { type: "string", default: process.env.AGENTLS_E2E_TIMEOUT_MS ?? "120000" },
  },
});
for (const required of ["url", "workspace", "file", "out"]) {
  if (!opts[required]) {
    console.error(`run.mjs: --${required} is required`);
    process.exit(2);
  }
}
const TIMEOUT = Number(opts.timeout);
const fileName = path.basename(opts.file);
fs.mkdirSync(opts.out, { recursive: true });

const started = Date.now();
const result = { ok: false, steps: [], data: {} };
const step = (name) => {
  result.steps.push({ name, seconds: (Date.now() - started) / 1000 });
  console.error(`[vscode-e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${name}`);
};
const disk = () => fs.readFileSync(opts.file, "utf8");

/** The editor's visible lines in document order: number, text, struck-through text, injected text. */
async function renderedLines(page) {
  return page.locator(`.monaco-editor[data-uri$="/${fileName}"]`).first().evaluate((editor) => {
    const byTop = (el) => parseFloat(el.style.top || "0");
    const numbers = new Map(
      [...editor.querySelectorAll(".margin-view-overlays > div")].map((div) => [byTop(div), div.textContent.trim()]),
    );
    const backgrounds = new Map(
      [...editor.querySelectorAll(".view-overlays > div")].map((div) => [
        byTop(div),
        // Decorations are drawn as .cdr elements (the current line's frame and the selection are not).
        [...div.querySelectorAll(".cdr")].map((c) => getComputedStyle(c).backgroundColor).filter((c) => c !== "rgba(0, 0, 0, 0)"),
      ]),
    );
    return [...editor.querySelectorAll(".view-lines > .view-line")]
      .sort((a, b) => byTop(a) - byTop(b))
      .map((line) => {
        const spans = [...line.querySelectorAll("span span")];
        const struck = spans
          .filter((s) => getComputedStyle(s).textDecorationLine.includes("line-through"))
          .map((s) => s.textContent)
          .join("");
        const injected = spans
          .flatMap((s) => [getComputedStyle(s, "::before").content, getComputedStyle(s, "::after").content])
          .filter((c) => c && c !== "none" && c !== "normal")
          .map((c) => JSON.parse(c).replace(/\u00a0/g, " "));
        return {
          number: Number(numbers.get(byTop(line))),
          // The editor draws spaces as U+00A0.
          text: line.textContent.replace(/\u00a0/g, " "),
          struck: struck.replace(/\u00a0/g, " "),
          injected,
          backgrounds: backgrounds.get(byTop(line)) ?? [],
        };
      });
  });
}

async function lensTexts(page) {
  return page.locator(".codelens-decoration").evaluateAll((els) =>
    els.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map((e) => e.textContent.replace(/\u00a0/g, " ")),
  );
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Runs a command from the Command Palette (F1), as a user would. */
async function runCommand(page, title) {
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

async function waitForLenses(page, expected) {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll(".codelens-decoration")]
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
        .map((e) => e.textContent.replace(/\u00a0/g, " "));
      return JSON.stringify(got) === JSON.stringify(want);
    },
    expected,
  );
}

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
context.setDefaultTimeout(TIMEOUT);
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

  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
  await page.keyboard.type(fileName);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${fileName}"]`).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  const editor = page.locator(`.monaco-editor[data-uri$="/${fileName}"]`).first();
  await editor.locator(".view-lines .view-line").first().waitFor();
  step(`opened ${fileName}`);

  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+Home");
  for (let i = 0; i < Number(opts.lines); i++) await page.keyboard.press("Shift+ArrowDown");
  // The light bulb is the server's answer to textDocument/codeAction ("Edit with agent…") for the
  // selection: the language server is up and has the document.
  await editor.locator(".lightBulbWidget").waitFor({ state: "visible" });
  result.data.selection_status = await page.locator("#status\\.editor\\.selection").textContent();
  step(`selected ${opts.lines} lines; the server offers code actions`);

  await runCommand(page, "Agent: Edit Selection…");
  const title = page.locator(".quick-input-widget .quick-input-title");
  await title.filter({ hasText: "Agent: Edit Selection" }).waitFor({ state: "visible" });
  result.data.prompt = await page.locator(".quick-input-widget .quick-input-message").textContent();
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
  step("instruction sent");

  await waitForLenses(page, ["Accept (1/2) | Reject | Accept All | Reject All", "Accept (2/2) | Reject"]);
  // Collapse the selection and move the pointer away so that the picture shows only the diff.
  await page.keyboard.press("Escape");
  await page.mouse.move(900, 650);
  await page.waitForFunction(() => !document.querySelector(".monaco-editor .selected-text"));
  result.data.pending = { lines: await renderedLines(page), lenses: await lensTexts(page), disk: disk() };
  await page.screenshot({ path: path.join(opts.out, "inline-diff.png") });
  step("inline diff shown");

  await editor.locator(".codelens-decoration a", { hasText: "Accept (1/2)" }).click();
  await waitForLenses(page, ["Accept (1/1) | Reject"]);
  await page.locator(".tabs-container .tab.active.dirty").waitFor();
  result.data.after_accept = { lines: await renderedLines(page), lenses: await lensTexts(page), disk: disk() };
  step("first hunk accepted");

  await editor.locator(".codelens-decoration a", { hasText: "Reject" }).click();
  await waitForLenses(page, []);
  result.data.after_reject = { lines: await renderedLines(page), lenses: await lensTexts(page), disk: disk() };
  step("second hunk rejected");

  await page.keyboard.press("Control+S");
  await page.locator(".tabs-container .tab.active:not(.dirty)").waitFor();
  result.data.saved = { lines: await renderedLines(page), disk: disk() };
  step("saved");
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
