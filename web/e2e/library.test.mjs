// The scenario library on the page: the picker groups the built-ins, is keyboard operable,
// and the chosen scenario's paragraph, mutations and expected verdicts follow it, on a wide
// screen and on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openFresh, rerun, waitText } from './harness.mjs';

const env = useServerAndBrowser();

const open = (options) => openFresh(env, options);

test('the picker groups the library and the expected verdicts follow the choice', async () => {
  const { page, errors, context } = await open();
  const groups = await page.$$eval('#scenario optgroup', (gs) =>
    gs.map((g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.value)]),
  );
  const labels = groups.map(([g]) => g);
  assert.equal(labels[0], 'The seed race');
  for (const g of ['Mutations', 'Lifecycle', 'Scaling']) assert.ok(labels.includes(g), `${g} in ${labels}`);
  assert.ok(groups[0][1].includes('seed-race'));
  // The seed race: racy before the fix, clean after.
  await waitText(page, '#scenario-expect li:nth-child(1)', /^pre inv1, inv2, inv3, dma$/);
  await waitText(page, '#scenario-expect li:nth-child(2)', /^fix clean$/);
  assert.equal(await page.locator('#scenario-expect li[aria-current="true"] .v').textContent(), 'pre');
  const described = await page.locator('#scenario').getAttribute('aria-describedby');
  assert.match(described, /scenario-desc/);
  // Keyboard: focus the picker and pick the next scenario with the arrow key.
  await page.focus('#scenario');
  const order = groups.flatMap(([, ids]) => ids);
  await rerun(page, () => page.keyboard.press('ArrowDown'));
  assert.equal(await page.locator('#scenario').inputValue(), order[order.indexOf('seed-race') + 1]);
  // The release race is still racy under the fix.
  await rerun(page, () => page.selectOption('#scenario', 'release-race'));
  await waitText(page, '#scenario-expect li:nth-child(2)', /^fix inv1, inv2, inv3, dma$/);
  // A mutation says what it changes.
  await rerun(page, () => page.selectOption('#scenario', 'stale-cd-reuse'));
  await waitText(page, '.intro .mutation', /no-cd-clear/);
  await waitText(page, '#scenario-desc', /without the CD\[0\] clear/);
  await waitText(page, '#scenario-expect li:nth-child(3)', /^v6\.9 inv1, inv3, dma$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a phone the expected verdicts wrap without sideways scrolling', async () => {
  const { page, errors, context } = await open({ width: 390, height: 844 });
  await rerun(page, () => page.selectOption('#scenario', 'list-before-cd-swapped'));
  await page.click('details.about summary');
  await page.locator('#scenario-expect').waitFor({ state: 'visible' });
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(wide <= 390, `page is ${wide} px wide`);
  const box = await page.locator('#scenario-expect').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
  assert.deepEqual(errors, []);
  await context.close();
});
