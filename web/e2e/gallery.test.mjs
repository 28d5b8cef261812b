// The gallery (#gallery): every built-in's verdicts, computed in the page's worker, equal
// what `smmu-sim explore --json` prints for the same scenario, variant and state bound; runs
// past the bound say "too large to count here"; a second visit reads them from the cache.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useServerAndBrowser, cliBinary, screenshot, settled, PATIENCE } from './harness.mjs';

const env = useServerAndBrowser();
let cli;

// The release CLI, built by cargo (a no-op when it is fresh).
before(() => {
  cli = cliBinary();
});

function explore(id, variant, maxStates) {
  const args = ['explore', id, '--variant', variant, '--json', '--max-states', String(maxStates)];
  let text;
  try {
    text = execFileSync(cli, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    // Exit 1 (violated) and 3 (stopped at the bound) still print the report.
    if (e.status !== 1 && e.status !== 3) throw e;
    text = e.stdout;
  }
  return JSON.parse(text);
}

async function openGallery(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  await page.goto(env.server.url + '/#gallery');
  await page.locator('#gallery-root').waitFor(PATIENCE);
  return { page, errors };
}

const allDone = () =>
  document.querySelector('#gallery-root')?.dataset.finished === document.querySelector('#gallery-root')?.dataset.total;

test('the gallery shows every built-in with the CLI verdicts, and caches them', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  const { page, errors } = await openGallery(context);
  // Progress is shown while the runs go on, then every verdict is there.
  await page.locator('#gallery-status').waitFor(PATIENCE);
  await page.waitForFunction(allDone, null, PATIENCE);
  assert.match(await page.locator('#gallery-status').textContent(), /^All \d+ verdicts computed\.$/);
  const maxStates = Number(await page.locator('#gallery-root').getAttribute('data-max-states'));
  // The library by group, groups in the order of their first member: the picker's order.
  const library = JSON.parse(execFileSync(cli, ['scenarios', '--json'], { encoding: 'utf8' }));
  const groups = [...new Set(library.map((s) => s.group))];
  const ids = groups.flatMap((g) => library.filter((s) => s.group === g).map((s) => s.id));
  const cards = await page.$$eval('.g-card', (cs) => cs.map((c) => c.dataset.scenario));
  assert.deepEqual(cards, ids, 'every built-in, in the picker order');
  const headings = await page.$$eval('.g-group > h2', (hs) => hs.map((h) => h.textContent));
  assert.deepEqual(headings, groups);
  for (const s of library) {
    const card = page.locator(`.g-card[data-scenario="${s.id}"]`);
    assert.equal(await card.locator('.g-title').textContent(), s.title);
    assert.equal(await card.locator('.g-desc').textContent(), s.description);
  }
  let tooLarge = 0;
  for (const id of ids) {
    for (const variant of ['pre', 'fix', 'v6.9']) {
      const row = page.locator(`.g-card[data-scenario="${id}"] tr[data-variant="${variant}"]`);
      const got = await row.evaluate((r) => ({ ...r.dataset, text: r.textContent }));
      const want = explore(id, variant, maxStates);
      const what = `${id} ${variant}`;
      assert.equal(got.status, 'done', what);
      assert.equal(got.verdict, want.verdict, what);
      assert.equal(got.counts, want.counts, what);
      assert.equal(got.violated, want.violated_invariants.join(','), what);
      if (want.counts === 'exact') {
        assert.equal(got.states, want.unique_states, what);
        assert.equal(got.interleavings, want.interleavings, what);
        assert.equal(got.violating, want.violating_interleavings, what);
      } else {
        tooLarge += 1;
        assert.match(got.text, /too large to count here/, what);
        assert.doesNotMatch(got.text, /\bclean\b|\bsafe\b|\b0 violating/, what);
      }
    }
  }
  assert.ok(tooLarge > 0, 'the largest storms are past the bound');
  // Each card opens its permalink in the playground.
  const open = page.locator('.g-card[data-scenario="release-race"] .g-open a');
  assert.equal(await open.textContent(), 'Open in playground: release-race', 'a name for each link');
  await screenshot(page, 'gallery');
  // A second visit reads every verdict from the cache: none is computed again.
  const again = await openGallery(context);
  await again.page.waitForFunction(allDone, null, PATIENCE);
  assert.equal(await again.page.locator('#gallery-root').getAttribute('data-computed'), '0');
  await again.page.close();
  // The link opens the playground on that scenario.
  await open.click();
  await page.locator('.block').first().waitFor(PATIENCE);
  assert.equal(await page.locator('#scenario').inputValue(), 'release-race');
  assert.deepEqual([...errors, ...again.errors], []);
  await context.close();
});

test('the header links to the gallery; on a phone it fits the width and is keyboard operable', async () => {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  const page = await context.newPage();
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  await settled(page);
  await page.focus('#gallery-link');
  await page.keyboard.press('Enter');
  await page.locator('#gallery-root').waitFor(PATIENCE);
  await page.locator('.g-card').first().waitFor(PATIENCE);
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(wide <= 390, `page is ${wide} px wide`);
  // The saved session is listed too, under its own heading.
  await page.locator('#g-group-saved-in-this-browser').waitFor(PATIENCE);
  await page.waitForFunction(allDone, null, PATIENCE);
  await screenshot(page, 'gallery-phone');
  await page.focus('#playground-link');
  await page.keyboard.press('Enter');
  await page.locator('.block').first().waitFor(PATIENCE);
  await context.close();
});

test('axe finds no violation in the gallery, light or dark, while computing and when done', async () => {
  const { createRequire } = await import('node:module');
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  for (const colorScheme of ['light', 'dark']) {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true, colorScheme });
    context.setDefaultTimeout(PATIENCE.timeout);
    const { page } = await openGallery(context);
    await page.addScriptTag({ path: axePath });
    const audit = () =>
      page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes, e.g. ${v.nodes[0].target.join(' ')}`);
      });
    assert.deepEqual(await audit(), [], `${colorScheme}, on opening`);
    await page.waitForFunction(allDone, null, PATIENCE);
    assert.deepEqual(await audit(), [], `${colorScheme}, done`);
    await context.close();
  }
});
