// A patched scenario's link (made by the CLI) opens with the patch intact: the page says
// which variant runs patched, shows the patch and its diff, and runs the patched driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useServerAndBrowser, cliBinary, collectErrors, screenshot, waitText, PATIENCE } from './harness.mjs';

const env = useServerAndBrowser();

test('a link with the 9f7c6891 patch on pre opens patched, and the seed race holds', async () => {
  const code = execFileSync(cliBinary(), ['link', 'seed-race', '--patch', '9f7c6891'], { encoding: 'utf8' }).trim();
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${env.server.url}/#${code}`);
  await page.locator('#scenario-patch').waitFor(PATIENCE);
  await waitText(page, '#scenario-patch p', /^patched pre with 5 edits \(runs patched now\)/);
  const text = await page.locator('#patch-text').textContent();
  assert.match(text, /move arm_smmu_attach_dev arm_smmu_detach_dev#1 before set_domain#1/);
  assert.match(text, /\+mutex_unlock\(&arm_smmu_asid_lock\) {2}\/\* inserted \*\//);
  // The race's schedule, under pre patched with the fix: CPU1 waits, every invariant holds.
  await waitText(page, '#verdict-live', /^pre · seed-race: every invariant holds$/);
  await screenshot(page, 'patched-link');
  assert.deepEqual(errors, []);
  await context.close();
});
