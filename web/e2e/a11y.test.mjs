// Accessibility: an axe-core audit of the built page in each of its views reports no
// violation. axe is injected as a script, which the page's own policy would refuse, so the
// audit's browser context bypasses CSP (security.test.mjs checks the policy itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { useServerAndBrowser, PATIENCE, rerun, waitText } from './harness.mjs';

const env = useServerAndBrowser();
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function open(hash = '', ready = '.block', width = 1280, height = 900) {
  const context = await env.browser.newContext({ viewport: { width, height }, bypassCSP: true });
  context.setDefaultTimeout(PATIENCE.timeout);
  const page = await context.newPage();
  await page.goto(env.server.url + '/' + hash);
  await page.locator(ready).first().waitFor(PATIENCE);
  return { page, context };
}

/** The violations axe finds, one line each: rule, impact, count, first target. */
async function audit(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes, e.g. ${v.nodes[0].target.join(' ')}: ${v.nodes[0].failureSummary?.split('\n')[1]?.trim() ?? ''}`);
  });
  return result;
}

test('axe finds no violation on the first visit, with the fix, at source granularity, after a check, and in the embed', async () => {
  const { page, context } = await open();
  assert.deepEqual(await audit(page), [], 'first visit');
  await rerun(page, () => page.click('#fix-switch'));
  assert.deepEqual(await audit(page), [], 'with the fix');
  await rerun(page, () => page.selectOption('#granularity', 'source'));
  assert.deepEqual(await audit(page), [], 'source granularity');
  await rerun(page, () => page.selectOption('#granularity', 'mail'));
  await rerun(page, () => page.click('#fix-switch'));
  await page.click('#explore');
  await page.waitForFunction(() => document.querySelector('#result-v6\\.9')?.dataset.total, null, PATIENCE);
  await page.locator('#danger-map').waitFor();
  assert.deepEqual(await audit(page), [], 'after every interleaving was checked');
  await context.close();
  const embed = await open('#embed', '.ov-cell');
  assert.deepEqual(await audit(embed.page), [], 'the embed');
  await embed.context.close();
});

test('axe finds no violation in the patch view, while find-fix runs and with its results', async () => {
  const { page, context } = await open();
  await page.locator('#patch-view > summary').click();
  await page.locator('#pv-rows li').first().waitFor();
  assert.deepEqual(await audit(page), [], 'the patch view');
  await page.locator('#ff-run').click();
  await page.waitForFunction(() => Number(document.querySelector('#ff-progress')?.value) > 0, null, PATIENCE);
  assert.deepEqual(await audit(page), [], 'find-fix running');
  await page.waitForFunction(() => document.querySelector('#find-fix').dataset.phase === 'done', null, { timeout: 600000 });
  assert.deepEqual(await audit(page), [], 'find-fix results');
  await context.close();
});

test('keyboard: arrows in the kernel group, Tab in time order, focus kept on a check, verdicts announced', async () => {
  const { page, context } = await open();
  const active = () => page.evaluate(() => document.activeElement?.id);
  // One tab stop for the kernel group; arrows select and focus the next kernel.
  assert.deepEqual(await page.$$eval('[aria-labelledby="variant-label"] [role=radio]', (rs) => rs.map((r) => r.tabIndex)), [0, -1, -1]);
  await page.locator('#variant-pre').focus();
  await rerun(page, () => page.keyboard.press('ArrowRight'));
  assert.equal(await page.locator('#variant-fix').getAttribute('aria-checked'), 'true');
  assert.equal(await active(), 'variant-fix');
  await waitText(page, '#verdict-live', /^fix · seed-race: every invariant holds$/);
  await rerun(page, () => page.keyboard.press('ArrowLeft'));
  await waitText(page, '#verdict-live', /^pre · seed-race: violated: inv1 at step 14, inv2 at step 9/);
  // The theme group works the same way.
  assert.deepEqual(await page.$$eval('#theme [role=radio]', (rs) => rs.map((r) => r.tabIndex)), [0, -1, -1]);
  await page.locator('#theme-auto').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light', null, PATIENCE);
  assert.equal(await page.locator('#theme-light').getAttribute('aria-checked'), 'true');
  assert.equal(await active(), 'theme-light');
  // Tab walks the blocks in time order, whatever their lane.
  await page.locator('#blk-0').focus();
  for (let k = 1; k <= 5; k++) {
    await page.keyboard.press('Tab');
    await page.waitForFunction((k) => document.activeElement?.id === `blk-${k}`, k, PATIENCE);
  }
  await page.keyboard.press('Shift+Tab');
  await page.waitForFunction(() => document.activeElement?.id === 'blk-4', null, PATIENCE);
  // Starting a check keeps the focus on its button.
  await page.locator('#explore').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#result-pre')?.dataset.verdict, null, PATIENCE);
  assert.equal(await active(), 'explore');
  await context.close();
});

test('axe finds no violation in the scenario editor, filled and with a message at a field', async () => {
  const { page, context } = await open();
  await page.locator('#editor > summary').click();
  await page.locator('#ed-masters-0-name').waitFor();
  assert.deepEqual(await audit(page), [], 'the editor on the seed race');
  await page.fill('#ed-domains-0-id', '999');
  await page.press('#ed-domains-0-id', 'Tab');
  await page.locator('#ed-domains-0-id + .ed-msg').waitFor();
  assert.deepEqual(await audit(page), [], 'a message at a field');
  await page.click('#ed-start');
  await page.locator('#ed-threads .ed-msg').waitFor();
  assert.deepEqual(await audit(page), [], 'an empty topology');
  await context.close();
});
