// The exhaustive check runs in a web worker: its wasm loads only when a check starts, the
// page stays responsive while it runs (it answers keys and keeps painting frames), Cancel
// stops it, and the counts are exact. Also reports the gzipped download of the page and of
// the worker, and the longest frame gap (a measurement, never asserted: speed is for
// benchmarks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { useServerAndBrowser, collectErrors, dist, PATIENCE, waitText, settled, rerun } from './harness.mjs';

const env = useServerAndBrowser();

const gz = async (name) => zlib.gzipSync(await fs.readFile(path.join(dist, name)), { level: 9 }).length;

// The budget keeps the explorer out of the page's own download (it is the worker's): the
// page is the model, the scheduler and the views (415 KB with the run overview, the causal
// chains, undo, move previews, the dark theme, the scenario library with its paragraphs,
// and the unmap, mm and walk-only paths), against 234 KB for the worker; patch mode (the
// unit rewriter, the step catalogue and the patch's text and diff) and the lock-use check
// brought the page to about 470 KB, the patch view to 482 KB, and the scenario editor (its
// forms, the JSON draft it edits by field paths, and the draft kept across a reload) to
// about 528 KB.
test('the page loads at most 550 KB of wasm and JS (gzip); the worker loads on the first check', async () => {
  const files = await fs.readdir(dist);
  const page = files.filter((f) => /^smmu-web-.*(\.js|_bg\.wasm)$/.test(f));
  const worker = files.filter((f) => /^explore_worker(\.js|_bg\.wasm)$/.test(f));
  assert.equal(page.length, 2, `${files}`);
  assert.equal(worker.length, 2, `${files}`);
  const pageKb = (await Promise.all(page.map(gz))).reduce((a, b) => a + b) / 1000;
  const workerKb = (await Promise.all(worker.map(gz))).reduce((a, b) => a + b) / 1000;
  console.log(`gzipped wasm+JS: page ${pageKb.toFixed(1)} KB, worker ${workerKb.toFixed(1)} KB (loaded when a check starts)`);
  assert.ok(pageKb <= 550, `page ${pageKb} KB`);

  const tab = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  tab.setDefaultTimeout(PATIENCE.timeout);
  const errors = collectErrors(tab);
  const requests = [];
  tab.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await tab.goto(env.server.url + '/');
  await tab.locator('.block').first().waitFor(PATIENCE);
  // Once the page has settled (permalink written), anything it loads on its own has started.
  await settled(tab);
  assert.deepEqual(requests.filter((r) => r.includes('explore_worker')), [], 'no worker before a check');
  const t0 = Date.now();
  await tab.click('#explore');
  await tab.waitForFunction(() => document.querySelector('#result-v6\\.9')?.dataset.total, null, PATIENCE);
  console.log(`every interleaving of seed-race (pre, fix, v6.9) in the worker: ${Date.now() - t0} ms including the worker's load`);
  assert.ok(requests.includes('/explore_worker_bg.wasm'), `${requests}`);
  const count = (id) => tab.$eval(id, (e) => [e.dataset.violating, e.dataset.total]);
  assert.deepEqual(await count('#result-pre'), ['57320550', '534628728']);
  assert.deepEqual(await count('#result-fix'), ['0', '5978820']);
  assert.deepEqual(errors, []);
});

test('the page stays responsive during a long check, and Cancel stops it', async () => {
  const tab = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  tab.setDefaultTimeout(PATIENCE.timeout);
  const errors = collectErrors(tab);
  await tab.goto(env.server.url + '/');
  await tab.locator('.block').first().waitFor(PATIENCE);
  await rerun(tab, () => tab.selectOption('#scenario', 'attach-storm-4'));
  // Longest gap between animation frames while the check runs.
  await tab.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    const tick = (t) => {
      window.__gaps.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await tab.click('#explore');
  await tab.locator('#explore-progress').waitFor();
  await tab.waitForFunction(() => /states/.test(document.querySelector('#explore-progress')?.textContent ?? ''), null, PATIENCE);
  // Step through the timeline while the worker counts: the page answers keys.
  await tab.locator('.block').first().focus();
  await tab.keyboard.press('Home');
  await waitText(tab, '#cursor-pos', 'initial state');
  await tab.keyboard.press(']');
  await waitText(tab, '#cursor-pos', /^step 0 of/);
  // Frames keep coming and the worker keeps reporting while the check runs.
  const progress = await tab.locator('#explore-progress').textContent();
  await tab.waitForFunction((before) => {
    const now = document.querySelector('#explore-progress')?.textContent;
    return window.__gaps.length > 30 && now && now !== before;
  }, progress);
  assert.equal(await tab.locator('#explore-progress').count(), 1, 'the check is still running');
  const gaps = await tab.evaluate(() => {
    window.__stop = true;
    return window.__gaps.slice(1);
  });
  const worst = Math.max(...gaps);
  console.log(`longest frame gap while the worker explores: ${worst.toFixed(1)} ms over ${gaps.length} frames`);
  await tab.click('#explore-cancel');
  await tab.locator('text=Cancelled.').waitFor();
  await tab.locator('#explore-progress').waitFor({ state: 'detached' });
  // The run the worker was on is forgotten: the page settles with no progress shown.
  await settled(tab);
  assert.equal(await tab.locator('#explore-progress').count(), 0, 'no progress after cancel');
  assert.deepEqual(errors, []);
});
