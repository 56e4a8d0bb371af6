// Drives the agentls extension in a real VS Code workbench (code-server) with Playwright and Chromium.
//
//   node run.mjs --url http://127.0.0.1:PORT/ --workspace DIR --file DIR/calc.py --out DIR \
//                [--instruction "add type hints"] [--lines 6] [--thinking TEXT] [--chromium /usr/bin/chromium]
//
// The scenario is what a person does: open the file with Quick Open, select its first lines, run
// "Agent: Edit Selection…" from the Command Palette, type the instruction, wait for the inline diff
// (decorations and the "Accept | Reject" CodeLens), accept the first hunk, reject the other, save.
// With --thinking, it first waits for that text (the model's thinking summary) in the status bar.
// Every step waits for what the user would see (selectors, text), never for a fixed time.
//
// Common code (arguments, browser, Command Palette, result.json) is in lib.mjs.
// It writes DIR/result.json (what it saw at each stage: rendered lines, lenses, editor text, the
// file on disk) and DIR/inline-diff.png; on failure DIR/failure.png and a non-zero exit. The caller
// (tests/e2e/test_vscode.py) starts code-server, the server's fake model, and asserts on the result.
import fs from "node:fs";
import path from "node:path";

import { drive, parseOptions, runCommand } from "./lib.mjs";

const opts = parseOptions("run.mjs", {
  file: { type: "string" },
  instruction: { type: "string", default: "add type hints" },
  lines: { type: "string", default: "6" },
  thinking: { type: "string" },
}, ["file"]);
const fileName = path.basename(opts.file);
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

await drive(opts, async ({ page, result, step }) => {
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
  await page.keyboard.type(fileName);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${fileName}"]`).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  const editor = page.locator(`.monaco-editor[data-uri$="/${fileName}"]`).first();
  await editor.locator(".view-lines .view-line").first().waitFor();
  step(`opened ${fileName}`);

  // The light bulb is the server's answer to textDocument/codeAction ("Edit with agent…") for the
  // selection: the language server is up and has the document. VS Code asks when the selection
  // changes; a selection made while the server is still starting gets no answer, so select again
  // (as a user would) until the light bulb shows.
  for (let attempt = 1; ; attempt++) {
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Control+Home");
    for (let i = 0; i < Number(opts.lines); i++) await page.keyboard.press("Shift+ArrowDown");
    try {
      await editor.locator(".lightBulbWidget").waitFor({ state: "visible", timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
  result.data.selection_status = await page.locator("#status\\.editor\\.selection").textContent();
  step(`selected ${opts.lines} lines; the server offers code actions`);

  await runCommand(page, "Agent: Edit Selection…");
  const title = page.locator(".quick-input-widget .quick-input-title");
  await title.filter({ hasText: "Agent: Edit Selection" }).waitFor({ state: "visible" });
  result.data.prompt = await page.locator(".quick-input-widget .quick-input-message").textContent();
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
  step("instruction sent");

  // While the agent works, its $/progress reports (the model's thinking summary first) show in the
  // status bar, where vscode-languageclient puts window progress.
  if (opts.thinking) {
    const progress = page.locator("footer .statusbar-item", { hasText: opts.thinking });
    await progress.first().waitFor({ state: "visible", timeout: 20_000 });
    result.data.progress = (await progress.first().textContent()).trim();
    await page.screenshot({ path: path.join(opts.out, "thinking.png") });
    step("the thinking summary showed as progress");
  }

  // The keys show on the hunk under the cursor (the cursor is below the last one, which is nearest).
  await waitForLenses(page, ["Accept (1/2) | Reject | Accept All | Reject All", "Accept (2/2) (Ctrl+Alt+Y) | Reject (Ctrl+Alt+N)"]);
  // Collapse the selection and move the pointer away so that the picture shows only the diff.
  // (Escape first hides the session's end notification if it is up; press until the selection goes.)
  await page.mouse.move(900, 650);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("Escape");
    try {
      await page.waitForFunction(() => !document.querySelector(".monaco-editor .selected-text"), undefined, { timeout: 2_000 });
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  result.data.pending = { lines: await renderedLines(page), lenses: await lensTexts(page), disk: disk() };
  await page.screenshot({ path: path.join(opts.out, "inline-diff.png") });
  step("inline diff shown");

  await editor.locator(".codelens-decoration a", { hasText: "Accept (1/2)" }).click();
  // Hunks keep the server's numbering ("change 2 of 2"), the name messages use, once others are resolved.
  await waitForLenses(page, ["Accept (2/2) (Ctrl+Alt+Y) | Reject (Ctrl+Alt+N)"]);
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
});
