// Times the War Room's views in a real Chromium, as a user opens them:
//
//   node page_load.mjs URL RUNS SESSION_ID
//
// Each run opens a fresh browser context (no cache, no cookie), follows the token URL and waits for what a user
// waits for: the sessions table with its first page of rows and the "50 of N" count; then the usage view's cost
// chart (30 days), a session's timeline, and a deep "Load more". Prints one line: "result <json>" with the
// milliseconds of every run.
const [url, runs, sessionId] = process.argv.slice(2);
const { chromium } = await import(process.env.PLAYWRIGHT_CORE);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
const result = { load: [], usage: [], session: [], more: [], count: "", errors: [] };
const since = async (action) => { const t = performance.now(); await action(); return performance.now() - t; };
try {
  for (let i = 0; i < Number(runs); i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on("pageerror", (e) => result.errors.push(e.message));
    result.load.push(await since(async () => {
      await page.goto(url);
      await page.locator("[data-testid=session-row]").nth(0).waitFor();
      await page.waitForFunction(() => /\d+ of \d+/.test(
        document.querySelector("[data-testid=sessions-count]")?.textContent || ""));
    }));
    result.count = await page.locator("[data-testid=sessions-count]").innerText();
    const rows = await page.locator("[data-testid=session-row]").count();
    result.more.push(await since(async () => {
      await page.click("[data-testid=load-more]");
      await page.waitForFunction((n) => document.querySelectorAll("[data-testid=session-row]").length > n, rows);
    }));
    result.usage.push(await since(async () => {
      await page.evaluate(() => { location.hash = "#/usage"; });
      await page.locator("[data-testid=usage-chart-cost]").waitFor();
    }));
    result.session.push(await since(async () => {
      await page.evaluate((id) => { location.hash = `#/sessions/${id}`; }, sessionId);
      await page.locator("[data-testid=timeline-item]").nth(1).waitFor();
    }));
    await context.close();
  }
} catch (error) {
  result.error = String(error && error.stack || error);
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdout.write("result " + JSON.stringify(result) + "\n");
}
