// Drives the War Room in a real Chromium (Playwright's client), as a person watches it:
//
//   node drive.mjs URL OUT_DIR WORKSPACE PLAN_ID SIGNIN_URL
//
// 1. The sessions view shows a session another process runs, live (spinner), then its end.
// 2. Its page shows the timeline growing and the change as a rendered diff.
// 3. A plan's graph: prints "plan-open"; the caller finishes step 1 in the store; the node turns done.
// 4. Checkpoints: the earliest one's diff, Restore…, confirm; prints "restored" when the page says so.
// 5. A screenshot of every main view (light), the sessions view dark and at 420 px wide; the dark one is
//    opened with SIGNIN_URL, a one-time sign-in link (as an editor opens the page), in a new browser context.
// Every wait is for what a user would see. The last stdout line is "result <json>".
import fs from "node:fs";
import path from "node:path";

const [url, out, workspace, planId, signin] = process.argv.slice(2);
const { chromium } = await import(process.env.PLAYWRIGHT_CORE);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
const errors = [];
const result = {};
const say = (line) => process.stdout.write(line + "\n");
const shot = (page, name) => page.screenshot({ path: path.join(out, `${name}.png`) });

async function watch(context) {
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error" && !/40[49]|409/.test(m.text())) errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return page;
}
const go = (page, hash) => page.evaluate((h) => { location.hash = h; }, hash);
const ws = encodeURIComponent(workspace);

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  const page = await watch(context);
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector("[data-testid=sessions-table]");
  result.loadMs = Date.now() - started;

  // 1. live: the session appears while it runs
  const running = page.locator("[data-testid=session-row][data-status=running]");
  await running.first().waitFor({ timeout: 20000 });
  result.liveSpinner = await running.first().locator("[data-testid=live-spinner]").count();
  await shot(page, "sessions-live");
  const sessionId = await running.first().getAttribute("data-session-id");
  result.sessionId = sessionId;

  // 2. its page: the timeline grows to the end, the change is a diff
  await running.first().click();
  await page.waitForSelector("[data-testid=timeline]");
  await page.locator("[data-testid=timeline-item][data-kind=SessionEnded]").waitFor({ timeout: 30000 });
  await page.locator("[data-testid=change][data-path='calc.py'] [data-testid=diff]").waitFor({ timeout: 15000 });
  result.timelineKinds = await page.locator("[data-testid=timeline-item]").evaluateAll(
    (items) => items.map((i) => i.dataset.kind));
  result.diffText = await page.locator("[data-testid=change][data-path='calc.py'] [data-testid=diff]").innerText();
  await shot(page, "session");
  await go(page, "#/sessions");
  await page.locator(`[data-testid=session-row][data-session-id='${sessionId}']`).waitFor();
  result.statusAfter = await page.locator(`[data-testid=session-row][data-session-id='${sessionId}']`)
    .getAttribute("data-status");

  // 3. the plan graph updates as a step finishes
  await go(page, `#/plans/${planId}`);
  await page.locator("[data-testid=plan-step][data-step-id='1'][data-status=running]").waitFor();
  result.planSteps = await page.locator("[data-testid=plan-step]").count();
  say("plan-open");
  await page.locator("[data-testid=plan-step][data-step-id='1'][data-status=done]").waitFor({ timeout: 15000 });
  await page.locator("[data-testid=plan-step][data-step-id='2'][data-status=running]").waitFor({ timeout: 15000 });
  await page.locator("[data-testid=plan-step][data-step-id='2']").click();
  await shot(page, "plan");

  // 4. restore a checkpoint from the page
  await go(page, `#/checkpoints?workspace=${ws}`);
  const rows = page.locator("[data-testid=checkpoint-row]");
  await rows.first().waitFor();
  await rows.last().click();
  await page.locator("[data-testid=checkpoint-diff]").waitFor();
  result.checkpointDiff = await page.locator("[data-testid=checkpoint-diff]").innerText();
  await page.click("[data-testid=restore-button]");
  await page.locator("[data-testid=confirm-dialog]").waitFor();
  await shot(page, "checkpoints-confirm");
  await page.click("[data-testid=confirm-yes]");
  await page.locator("[data-testid=restore-result]").waitFor({ timeout: 20000 });
  result.restoreText = await page.locator("[data-testid=restore-result]").innerText();
  await shot(page, "checkpoints-restored");
  say("restored");

  // 5. every main view
  for (const [name, hash, ready] of [
    ["usage", "#/usage", "usage-chart-cost"], ["health", "#/health", "health-api-key"],
    ["memory", `#/memory?workspace=${ws}`, "memory-file"],
    ["explorer", `#/explorer?workspace=${ws}&q=ad`, "symbol-result"], ["plans", "#/plans", "plan-row"]]) {
    await go(page, hash);
    await page.locator(`[data-testid=${ready}]`).first().waitFor({ timeout: 15000 });
    await shot(page, name);
  }
  const dark = await watch(await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" }));
  await dark.goto(signin);
  await dark.locator("[data-testid=session-row]").first().waitFor();
  result.signedInWithCode = !dark.url().includes("code=");
  const reused = await dark.context().browser().newContext();  // the link is good once
  const again = await reused.newPage();
  result.codeReusedStatus = (await again.goto(signin)).status();
  await reused.close();
  await shot(dark, "sessions-dark");
  const narrow = await watch(await browser.newContext({ viewport: { width: 420, height: 800 } }));
  await narrow.goto(url.split("#")[0] + `#/sessions/${sessionId}`);
  await narrow.locator("[data-testid=timeline-item]").first().waitFor();
  await shot(narrow, "session-narrow");
  result.errors = errors;
  say("result " + JSON.stringify(result));
} catch (error) {
  const pages = browser.contexts().flatMap((c) => c.pages());
  if (pages.length) await pages[0].screenshot({ path: path.join(out, "failure.png") }).catch(() => {});
  result.error = String(error && error.stack || error);
  result.errors = errors;
  say("result " + JSON.stringify(result));
  process.exitCode = 1;
} finally {
  await browser.close();
  fs.writeFileSync(path.join(out, "result.json"), JSON.stringify(result, null, 2));
}
