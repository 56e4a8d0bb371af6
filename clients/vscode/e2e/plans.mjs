// Drives the "Agent Plans" tree view of the agentls extension in a real VS Code workbench (code-server).
//
//   node plans.mjs --url http://127.0.0.1:PORT/ --workspace DIR --out DIR \
//                  [--instruction "add sub, a bounded add and tests"] [--chromium /usr/bin/chromium]
//
// The scenario is what a person does: "New Plan…" from the view's title bar, type the task in the
// input box, see the plan and its steps in the tree; "Run Plan (Apply Without Review)" from the plan's
// context menu, see every step reach done with its cost; "Roll Back to Before This Step" (the inline
// action) on step 2, confirm in the dialog, see steps 2 and 3 pending again. Every step waits for
// what the user would see, never for a fixed time.
//
// It writes DIR/result.json (the tree's rows at each stage: depth, label, description, icon) and
// DIR/plans.png (the tree view after the run) and DIR/plans-rolled-back.png; on failure
// DIR/failure.png and a non-zero exit. The caller (tests/e2e/test_vscode.py) starts code-server and
// the fake model, and checks the files on disk.
import path from "node:path";

import { drive, parseOptions, treeRows, waitForRows } from "./lib.mjs";

const opts = parseOptions("plans.mjs", {
  instruction: { type: "string", default: "add sub, a bounded add and tests" },
});

const VIEW = "Agent Plans";

/** A picture of the view: its title bar and its rows, not the empty space below them. */
async function shootView(pane, file) {
  const box = await pane.boundingBox();
  const bottom = await pane.locator(".monaco-list-row").evaluateAll((rows) => Math.max(...rows.map((r) => r.getBoundingClientRect().bottom)));
  const height = Math.min(box.height, bottom - box.y + 12);
  await pane.page().screenshot({ path: file, clip: { x: box.x, y: box.y, width: box.width, height } });
}

await drive(opts, async ({ page, result, step }) => {
  const pane = page.locator(".pane").filter({ has: page.locator(".pane-header .title", { hasText: new RegExp(`^${VIEW}$`) }) });
  const header = pane.locator(".pane-header");
  await header.waitFor({ state: "visible" });
  // The view starts expanded; make sure, then give it the room the folder tree would take.
  if ((await header.getAttribute("aria-expanded")) !== "true") await header.click();
  const folders = page.locator(".pane-header[aria-label*='Explorer Section']").first();
  if ((await folders.count()) && (await folders.getAttribute("aria-expanded")) === "true") await folders.click();
  // Widen the side bar (drag its edge) so that the steps' descriptions fit in the picture.
  const sidebar = await page.locator(".part.sidebar").boundingBox();
  await page.mouse.move(sidebar.x + sidebar.width, sidebar.y + sidebar.height / 2);
  await page.mouse.down();
  await page.mouse.move(sidebar.x + 720, sidebar.y + sidebar.height / 2, { steps: 10 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector(".part.sidebar").getBoundingClientRect().width > 600);
  step(`${VIEW} view shown`);

  // "New Plan…" from the view's title bar (its actions show when the pointer is over the view).
  await header.hover();
  await header.locator('.action-label[aria-label="New Plan…"]').click();
  const title = page.locator(".quick-input-widget .quick-input-title");
  await title.filter({ hasText: "Agent: New Plan" }).waitFor({ state: "visible" });
  result.data.prompt = await page.locator(".quick-input-widget .quick-input-message").textContent();
  await page.keyboard.type(opts.instruction);
  await page.keyboard.press("Enter");
  step("task sent");

  // The plan (its document opens for review) and its three steps, pending.
  await waitForRows(page, VIEW, "(rows) => rows.length === 4 && rows[0].description.startsWith('draft')");
  await page.locator(".tabs-container .tab.active .label-name", { hasText: /\.md$/ }).waitFor();
  result.data.drafted = await treeRows(pane);
  result.data.plan_tab = await page.locator(".tabs-container .tab.active .label-name").textContent();
  step("plan drafted");

  const planRow = pane.locator(".monaco-list-row[aria-level='1']").first();
  // A context menu opened while the tree re-renders (a planUpdated arriving) can lose the click:
  // open it again until the plan leaves "draft" (as a user would).
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("Escape"); // a menu left open by an earlier attempt would swallow the click
    await page.locator(".context-view.monaco-menu-container").waitFor({ state: "hidden" }).catch(() => undefined);
    await planRow.click({ button: "right" });
    const item = page.getByRole("menuitem", { name: "Run Plan (Apply Without Review)" });
    try {
      await item.waitFor({ state: "visible", timeout: 10_000 }); // the right-click itself can be lost too
    } catch (error) {
      if (attempt >= 5) throw error;
      continue;
    }
    await item.hover();
    await item.click();
    try {
      await waitForRows(page, VIEW, "(rows) => rows.length === 4 && !rows[0].description.startsWith('draft')", 20_000);
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  step("plan started with auto-apply");

  await waitForRows(
    page,
    VIEW,
    "(rows) => rows.length === 4 && rows[0].description.startsWith('done ·') && rows.slice(1).every((r) => r.description.startsWith('done ·'))",
  );
  await page.mouse.move(900, 650);
  result.data.done = await treeRows(pane);
  await shootView(pane, path.join(opts.out, "plans.png"));
  step("every step done");

  const step2 = pane.locator(".monaco-list-row[aria-level='2']").filter({
    has: page.locator(".label-name", { hasText: /^2\. / }),
  });
  await step2.hover();
  await step2.locator('.action-label[aria-label="Roll Back to Before This Step"]').click();
  const dialog = page.locator(".monaco-dialog-box");
  await dialog.waitFor({ state: "visible" });
  result.data.confirm = await dialog.locator(".dialog-message-row").textContent();
  await dialog.getByRole("button", { name: "Roll Back" }).click();
  const note = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "rolled back to before step 2" });
  await note.waitFor({ state: "visible" });
  result.data.rollback_message = await note.textContent();
  await waitForRows(
    page,
    VIEW,
    "(rows) => rows.length === 4 && ['done', 'pending', 'pending'].every((s, i) => rows[i + 1].description.split(' ')[0] === s)",
  );
  await page.mouse.move(900, 650);
  result.data.rolled_back = await treeRows(pane);
  await shootView(pane, path.join(opts.out, "plans-rolled-back.png"));
  step("rolled back to before step 2");
});
