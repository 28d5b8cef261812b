// The SMMU as an actor: the bit view of an STE, and a fetch dragged into the middle of an
// STE update, where a broken writer lets the SMMU read a torn entry and the real one does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openFresh, screenshot, rerun, dragBlock } from './harness.mjs';

const env = useServerAndBrowser();

/** The invariants the block of a lane's first step violates. */
async function violations(page, lane) {
  return (await page.locator(`.block[data-lane="${lane}"][data-nth="0"]`).getAttribute('data-violations')) || '';
}

test('the bit view shows the seed race STE; a fetch dragged between a store and its sync reads a torn entry', async () => {
  const { page, errors, context } = await openFresh(env, { width: 6000, height: 1400 });
  await page.locator('#bit-view > summary').click();
  await page.locator('#bit-view .field.used[data-field="Config"]').waitFor();
  assert.match(await page.locator('#bit-view .bits-meaning').textContent(), /^STE_A in memory: S1 → CD table/);

  await rerun(page, () => page.selectOption('#scenario', 'ste-fetch-q0-first'));
  await rerun(page, () => page.selectOption('#granularity', 'source'));
  const fetchA = page.locator('.block[data-lane="1"][data-nth="0"]');
  assert.match(await violations(page, 1), /torn/, 'the default schedule fetches mid-update');
  // Out of the update: to the end, where A's STE is written and synced.
  const n = await page.locator('.block').count();
  await rerun(page, () => dragBlock(page, fetchA, n - 1));
  assert.doesNotMatch(await violations(page, 1), /torn/, 'a fetch after the update reads the new STE');
  // Into the middle: after the store of the new q0 (CPU0's 20th step), before its sync.
  await rerun(page, () => dragBlock(page, fetchA, 20));
  assert.equal(await fetchA.getAttribute('data-index'), '20');
  assert.match(await violations(page, 1), /torn/);
  await fetchA.click();
  await page.locator('#bits-fetch[data-torn="true"]').waitFor();
  assert.equal(await page.locator('#bit-view tr[data-qword="0"] td[data-pending]').getAttribute('data-pending'), 'true');
  assert.match(await page.locator('#bits-fetch').textContent(), /S2 VMID 0, S2TTB at no table/);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await screenshot(page, '30-bit-view-torn', page.locator('#bit-view'));

  // The kernel's writer, fetched at the same point: q0 is pending, and either value is fine.
  await page.setViewportSize({ width: 6000, height: 1400 });
  await rerun(page, () => page.selectOption('#scenario', 'ste-fetch'));
  await page.locator('.block[data-lane="1"][data-nth="0"]').click();
  await page.locator('#bits-fetch[data-torn="false"]').waitFor();
  assert.equal(await page.locator('#bit-view tr[data-qword="0"] td[data-pending]').getAttribute('data-pending'), 'true');
  assert.doesNotMatch(await violations(page, 1), /torn/);
  assert.deepEqual(errors, []);
  await context.close();
});
