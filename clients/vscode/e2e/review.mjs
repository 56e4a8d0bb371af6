// Drives the review UI of the agentls extension in a real VS Code workbench (code-server): the diff editor
// that shows proposed lines as real lines, the "Pending Changes" view, and setup errors.
//
//   node review.mjs --url http://127.0.0.1:PORT/ --workspace DIR --out DIR --scenario insert|pending|broken \
//                   [--file DIR/calc.py] [--instruction TEXT] [--lines 6] [--chromium /usr/bin/chromium]
//
// insert:  open the file, select lines, "Agent: Edit Selection…", type the instruction; the proposal (an
//          insertion) opens in the diff editor: read its proposed side (lines, which are inserted), take
//          DIR/vscode-review.png, accept with the CodeLens, see the diff close and the buffer hold the lines.
// pending: "Agent: Run Task…", type the task; the Pending Changes view lists the files and their changes
//          (DIR/vscode-pending.png); click the new file (its diff: the whole file added, DIR/vscode-new-file.png),
//          accept one file with its inline action and the other's change with the hunk's, save all.
// broken:  the server command cannot run: read the notification and the agentls output channel.
//
// It writes DIR/result.json; on failure DIR/failure.png and a non-zero exit (lib.mjs).
import fs from "node:fs";
import path from "node:path";

import { drive, parseOptions, runCommand, treeRows, waitForRows } from "./lib.mjs";

const opts = parseOptions("review.mjs", {
  scenario: { type: "string" },
  file: { type: "string" },
  instruction: { type: "string", default: "add ten constants" },
  lines: { type: "string", default: "6" },
}, ["scenario"]);

const VIEW = "Pending Changes";

async function openFile(page, fileName) {
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
  await page.keyboard.type(fileName);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${fileName}"]`).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  const editor = page.locator(`.monaco-editor[data-uri$="/${fileName}"]`).first();
  await editor.locator(".view-lines .view-line").first().waitFor();
  return editor;
}

/** Selects the first lines until the light bulb shows (the server answers code actions: it is up). */
async function selectLines(page, editor, count) {
  for (let attempt = 1; ; attempt++) {
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Control+Home");
    for (let i = 0; i < count; i++) await page.keyboard.press("Shift+ArrowDown");
    try {
      await editor.locator(".lightBulbWidget").waitFor({ state: "visible", timeout: 10_000 });
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

/** The proposed (right) side of the visible diff editor: its lines top to bottom, each marked inserted or not. */
async function diffSide(page) {
  return page.locator(".monaco-diff-editor .editor.modified .monaco-editor").first().evaluate((editor) => {
    const byTop = (el) => parseFloat(el.style.top || "0");
    const inserted = new Set(
      [...editor.querySelectorAll(".view-overlays > div")].filter((div) => div.querySelector(".line-insert")).map(byTop),
    );
    const numbers = new Map(
      [...editor.querySelectorAll(".margin-view-overlays > div")].map((div) => [byTop(div), div.textContent.trim()]),
    );
    return [...editor.querySelectorAll(".view-lines > .view-line")]
      .sort((a, b) => byTop(a) - byTop(b))
      .map((line) => ({
        number: Number(numbers.get(byTop(line))),
        text: line.textContent.replace(/\u00a0/g, " "),
        inserted: inserted.has(byTop(line)),
        top: byTop(line),
      }));
  });
}

async function lensTexts(scope) {
  return scope.locator(".codelens-decoration").evaluateAll((els) =>
    els.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map((e) => e.textContent.replace(/\u00a0/g, " ")),
  );
}

/** Waits for the end-of-session notification, keeps its text, and clears the notifications (for the pictures). */
async function sessionEnd(page) {
  const toast = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "review in Pending Changes" });
  await toast.first().waitFor({ state: "visible" });
  const text = await toast.first().textContent();
  await runCommand(page, "Notifications: Clear All Notifications");
  await toast.first().waitFor({ state: "detached" });
  return text;
}

async function notifications(page) {
  return page.locator(".notifications-toasts .notification-list-item-message").allTextContents().catch(() => []);
}

async function insertScenario({ page, result, step }) {
  const fileName = path.basename(opts.file);
  const editor = await openFile(page, fileName);
  await selectLines(page, editor, Number(opts.lines));
  step(`opened ${fileName}, selected ${opts.lines} lines`);
  await runCommand(page, "Agent: Edit Selection…");
  await page.locator(".quick-input-widget .quick-input-title").filter({ hasText: "Agent: Edit Selection" }).waitFor({ state: "visible" });
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
  step("instruction sent");

  // The API is overloaded at first: the status bar item says so, counting down (agentls/sessionStatus).
  const retry = page.locator("footer .statusbar-item", { hasText: "retrying in" });
  await retry.first().waitFor({ state: "visible" });
  result.data.retry = (await retry.first().textContent()).trim();
  result.data.progress_items = await page.locator("footer .statusbar-item").allTextContents();
  step("the retry shows");

  // The proposal opens in the diff editor by itself: the proposed lines are real lines on its right side.
  const diff = page.locator(".monaco-diff-editor").first();
  await diff.waitFor({ state: "visible" });
  await diff.locator(".editor.modified .codelens-decoration", { hasText: "Accept (1/1)" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll(".monaco-diff-editor .editor.modified .line-insert").length > 0);
  result.data.end = await sessionEnd(page);
  await page.mouse.move(900, 700);
  result.data.tab = await page.locator(".tabs-container .tab.active .label-name").textContent();
  result.data.proposed = await diffSide(page);
  result.data.lenses = await lensTexts(diff.locator(".editor.modified"));
  result.data.original_lenses = await lensTexts(diff.locator(".editor.original"));
  await page.screenshot({ path: path.join(opts.out, "vscode-review.png") });
  step("diff editor shown");

  await diff.locator(".editor.modified .codelens-decoration a", { hasText: "Accept (1/1)" }).click();
  await page.locator(".monaco-diff-editor").waitFor({ state: "detached" });
  await page.locator(".tabs-container .tab.active.dirty").waitFor();
  const lines = await editor.evaluate((el) =>
    [...el.querySelectorAll(".view-lines > .view-line")]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((l) => l.textContent.replace(/\u00a0/g, " ")));
  result.data.after_accept = { lines, tab: await page.locator(".tabs-container .tab.active .label-name").textContent() };
  step("accepted; the diff closed");
}

async function pendingScenario({ page, result, step }) {
  const pane = page.locator(".pane").filter({ has: page.locator(".pane-header .title", { hasText: new RegExp(`^${VIEW}$`) }) });
  const header = pane.locator(".pane-header");
  await header.waitFor({ state: "visible" });
  if ((await header.getAttribute("aria-expanded")) !== "true") await header.click();
  const folders = page.locator(".pane-header[aria-label*='Explorer Section']").first();
  if ((await folders.count()) && (await folders.getAttribute("aria-expanded")) === "true") await folders.click();
  step(`${VIEW} view shown`);

  // The server must be up before the task can be sent: wait for the view to say there is nothing yet.
  await runCommand(page, "Agent: Run Task…");
  await page.locator(".quick-input-widget .quick-input-title").filter({ hasText: "Agent: Run Task" }).waitFor({ state: "visible" });
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
  step("task sent");

  await waitForRows(page, VIEW, "(rows) => rows.filter((r) => r.level === 1).length === 2 && rows.length >= 4");
  result.data.end = await sessionEnd(page);
  await page.mouse.move(900, 700);
  result.data.rows = await treeRows(pane);
  result.data.view_description = await header.locator(".description").textContent().catch(() => "");
  const box = await pane.boundingBox();
  await page.screenshot({ path: path.join(opts.out, "vscode-pending.png"), clip: { x: 0, y: 0, width: 1280, height: Math.min(800, box.y + 240) } });
  step("the view lists both files");

  // The new file: click it; its diff shows the whole file as added.
  const newFile = pane.locator(".monaco-list-row[aria-level='1']").filter({ has: page.locator(".label-description", { hasText: "new file" }) });
  await newFile.click();
  const diff = page.locator(".monaco-diff-editor").first();
  await diff.waitFor({ state: "visible" });
  await page.waitForFunction(() => document.querySelectorAll(".monaco-diff-editor .editor.modified .line-insert").length > 0);
  await diff.locator(".editor.modified .codelens-decoration", { hasText: "Accept" }).first().waitFor();
  await page.mouse.move(900, 700);
  result.data.new_file = { tab: await page.locator(".tabs-container .tab.active .label-name").textContent(), proposed: await diffSide(page) };
  await page.screenshot({ path: path.join(opts.out, "vscode-new-file.png") });
  step("the new file's diff: all lines added");

  // Accept the other file from its row (Accept All Changes in File), and the new file's change from its hunk row.
  const fileRow = pane.locator(".monaco-list-row[aria-level='1']").filter({ hasNot: page.locator(".label-description", { hasText: "new file" }) });
  await fileRow.hover();
  await fileRow.locator('.action-label[aria-label="Accept All Changes in File"]').click();
  await waitForRows(page, VIEW, "(rows) => rows.filter((r) => r.level === 1).length === 1");
  step("accepted one file from the view");
  const hunkRow = pane.locator(".monaco-list-row[aria-level='2']").first();
  await hunkRow.hover();
  await hunkRow.locator('.action-label[aria-label^="Accept Change"]').click();
  await waitForRows(page, VIEW, "(rows) => rows.length === 0");
  result.data.after_accept = await treeRows(pane);
  result.data.message = await pane.locator(".message").textContent().catch(() => "");
  step("accepted the new file's change from the view");

  // The accepted edits land in the editor asynchronously (the files open, dirty): save once they are there.
  const calc = path.join(opts.workspace, "calc.py");
  await page.waitForFunction(() => [...document.querySelectorAll(".tabs-container .tab.dirty .label-name")]
    .some((label) => label.textContent === "calc.py"));
  await runCommand(page, "File: Save All Files");
  await page.waitForFunction(() => !document.querySelector(".tabs-container .tab.dirty"));
  for (let i = 0; i < 50 && !fs.readFileSync(calc, "utf8").includes("def mul"); i++) await page.waitForTimeout(100);
  result.data.notifications = await notifications(page);
  step("saved all");
}

async function brokenScenario({ page, result, step }) {
  const toast = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "agentls.serverCommand" });
  await toast.first().waitFor({ state: "visible" });
  result.data.notification = await toast.first().textContent();
  step("the notification shows");
  // The output channel "agentls" (opened by the extension) holds the same line.
  const output = page.locator(".part.panel .monaco-editor .view-lines");
  await output.filter({ hasText: "serverCommand" }).first().waitFor({ state: "visible" });
  result.data.output = (await output.first().textContent()).replace(/\u00a0/g, " ");
  await page.screenshot({ path: path.join(opts.out, "vscode-broken.png") });
  step("the output channel shows it");
}

/** The text of the editor's lines, top to bottom. */
async function editorLines(editor) {
  return editor.evaluate((el) =>
    [...el.querySelectorAll(".view-lines > .view-line")]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((l) => l.textContent.replace(/\u00a0/g, " ")));
}

async function editSelection(page, editor) {
  await selectLines(page, editor, Number(opts.lines));
  await runCommand(page, "Agent: Edit Selection…");
  await page.locator(".quick-input-widget .quick-input-title").filter({ hasText: "Agent: Edit Selection" }).waitFor({ state: "visible" });
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
}

// conflict: type at the end of a pending hunk's line; the hunk stays, as a conflict, with the actions to
// compare and to take the agent's version; take it.
async function conflictScenario({ page, result, step }) {
  const fileName = path.basename(opts.file);
  const editor = await openFile(page, fileName);
  await editSelection(page, editor);
  await sessionEnd(page);
  await editor.locator(".codelens-decoration", { hasText: "Accept (1/2)" }).waitFor();
  step("inline diff shown");
  await editor.locator(".view-line").first().click();
  await page.keyboard.press("End");
  await page.keyboard.type("  # mine");
  const conflict = editor.locator(".codelens-decoration", { hasText: "Conflict with your edits" });
  await conflict.waitFor();
  await page.mouse.move(900, 700);
  result.data.lenses = await lensTexts(editor);
  result.data.typed = await editorLines(editor);
  const pane = page.locator(".pane").filter({ has: page.locator(".pane-header .title", { hasText: new RegExp(`^${VIEW}$`) }) });
  const header = pane.locator(".pane-header");
  if ((await header.getAttribute("aria-expanded")) !== "true") await header.click();
  await waitForRows(page, VIEW, "(rows) => rows.some((r) => r.description === 'conflicts with your edits')");
  result.data.rows = await treeRows(pane);
  await page.screenshot({ path: path.join(opts.out, "vscode-conflict.png") });
  step("the conflict shows");
  await conflict.locator("a", { hasText: "Take the Agent's Version" }).click();
  await editor.locator(".codelens-decoration", { hasText: "Conflict" }).waitFor({ state: "detached" });
  result.data.taken = await editorLines(editor);
  result.data.after_lenses = await lensTexts(editor);
  step("took the agent's version");
}

// warn: accept the change that uses a name another change (not accepted) defines: one warning, once.
async function warnScenario({ page, result, step }) {
  const fileName = path.basename(opts.file);
  const editor = await openFile(page, fileName);
  await editSelection(page, editor);
  const diff = page.locator(".monaco-diff-editor").first();
  await diff.locator(".editor.modified .codelens-decoration", { hasText: "Accept (2/2)" }).waitFor();
  await sessionEnd(page);
  step("diff shown");
  await diff.locator(".editor.modified .codelens-decoration a", { hasText: "Accept (2/2)" }).click();
  const toast = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "which you did not accept" });
  await toast.first().waitFor({ state: "visible" });
  result.data.warnings = await toast.allTextContents();
  result.data.lenses = await lensTexts(diff.locator(".editor.modified"));
  step("the warning shows");
}

const scenarios = { insert: insertScenario, pending: pendingScenario, broken: brokenScenario, conflict: conflictScenario, warn: warnScenario };
if (!scenarios[opts.scenario]) {
  console.error(`review.mjs: unknown --scenario ${opts.scenario}`);
  process.exit(2);
}
await drive(opts, scenarios[opts.scenario]);
