// A patched scenario's link (made by the CLI) opens with the patch intact: the page says
// which variant runs patched, shows the patch and its diff, and runs the patched driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useServerAndBrowser, cliBinary, collectErrors, screenshot, settled, rerun, waitText, openFresh, PATIENCE } from './harness.mjs';

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
  // The embed of the same link says it too, with the diff one click away.
  const embed = await context.newPage();
  await embed.goto(`${env.server.url}/#embed/${code}`);
  await waitText(embed, '#embed-root #scenario-patch p', /^patched pre with 5 edits \(runs patched now\)/);
  await waitText(embed, '#verdict', /^all invariants hold$/);
  assert.equal(await embed.locator('.embed-title').textContent(), 'attach_dev racing an SVA bind that shares the old domain\'s ASID');
  assert.equal(await embed.locator('#patch-text').isVisible(), false);
  await embed.locator('#scenario-patch summary').click();
  assert.match(await embed.locator('#patch-text').textContent(), /^@@ .* @@ arm_smmu_attach_dev$/m);
  await screenshot(embed, 'patched-embed');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the patch view: moving mutex_lock(&arm_smmu_asid_lock) changes the verdict, a preset fixes the race, the link keeps it', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  await waitText(page, '#verdict-live', /^pre · seed-race: violated: inv1/);
  await page.locator('#patch-view > summary').click();
  const row = page.locator('#pv-rows li', { hasText: 'asid_lock#1' });
  await row.waitFor(PATIENCE);
  // Keyboard: focus the row's ↑ and press Enter until the lock step is the first line. The
  // lock is then held across finalise, which takes it again: CPU0 waits on itself.
  for (let i = 0; i < 30 && !(await row.locator('.pv-up').isDisabled()); i++) {
    await row.locator('.pv-up').focus();
    await rerun(page, () => page.keyboard.press('Enter'));
  }
  await waitText(page, '#verdict-live', /deadlock at step/);
  assert.match(await page.locator('#pv-diff').textContent(), /move arm_smmu_attach_dev asid_lock#1 before sva_check#1/);
  // The real fix as a preset: every invariant holds.
  await page.locator('#pv-preset').selectOption('9f7c6891');
  await waitText(page, '#verdict-live', /^pre · seed-race: every invariant holds$/);
  // The inserted lock and unlock steps are marked in the timeline, and so are the steps of
  // the detach the preset moved (CPU0's first steps after the sva_lock pair).
  assert.equal(await page.locator('.block.patched').count(), 2);
  const moved = page.locator('.block.moved');
  assert.ok((await moved.count()) >= 1, 'the moved detach is marked');
  assert.match(await moved.first().getAttribute('title'), /moved by the patch/);
  await screenshot(page, '11-patch-view');
  await settled(page);
  const url = page.url();
  const again = await context.newPage();
  await again.goto(url);
  await again.locator('#scenario-patch').waitFor(PATIENCE);
  await waitText(again, '#verdict-live', /^pre · seed-race: every invariant holds$/);
  assert.match(await again.locator('#patch-text').textContent(), /insert arm_smmu_attach_dev unlock arm_smmu_asid_lock end/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('find a fix in the worker: progress, cancel, a finished search, and its first result loads', async () => {
  const { page, errors, context } = await openFresh(env);
  await waitText(page, '#verdict-live', /^pre · seed-race: violated: inv1/);
  await page.locator('#patch-view > summary').click();
  const ff = page.locator('#find-fix');
  // Start, see progress, cancel: nothing is reported from the unfinished search.
  await page.locator('#ff-run').click();
  await page.waitForFunction(() => Number(document.querySelector('#ff-progress')?.value) > 0, null, PATIENCE);
  await page.locator('#ff-cancel').click();
  await page.waitForFunction(() => document.querySelector('#find-fix').dataset.phase === 'cancelled', null, PATIENCE);
  await waitText(page, '#find-fix .ff-status', /^Cancelled: tried [\d,]+ of 14,287 candidates/);
  assert.equal(await page.locator('.ff-found').count(), 0);
  // Run it to the end (the condition is waited for, however long the machine takes).
  await page.locator('#ff-run').click();
  await page.waitForFunction(() => document.querySelector('#find-fix').dataset.phase === 'done', null, { timeout: 600000 });
  const summary = await page.locator('#ff-summary').textContent();
  assert.match(summary, /^14,287 candidates: 1,441 clean, 221 of them keeping the lock rule; 819 the script cannot express/);
  assert.match(summary, /Preset 9f7c6891 ranks #1,341, #171 of those keeping the lock rule\./);
  assert.equal(await ff.locator('.ff-found').count(), 10);
  assert.equal(await ff.locator('.ff-found[data-recheck="clean"]').count(), 10);
  // Those keeping the lock rule, then load the first: the seed race holds under it.
  await page.locator('#ff-lock-rule').check();
  await waitText(page, '#ff-results .ff-found div', /^#\d[\d,]* · \d edit\(s\), .* keeps the lock rule · re-checked clean over \d{1,3}(,\d{3})* interleavings Load$/);
  const edits = await ff.locator('.ff-found .ff-edits').first().textContent();
  await rerun(page, () => ff.locator('.ff-load').first().click());
  await waitText(page, '#verdict-live', /^pre · seed-race: every invariant holds$/);
  const diff = await page.locator('#pv-diff').textContent();
  for (const line of edits.split('\n')) assert.ok(diff.includes(line), `${line} in the patch view`);
  await screenshot(page, '12-find-fix', page.locator('#patch-view'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('dragging a line of the patch view moves it, as the buttons do', async () => {
  const { page, errors, context } = await openFresh(env);
  await page.locator('#patch-view > summary').click();
  const lock = page.locator('#pv-rows li', { hasText: 'asid_lock#1' });
  await lock.waitFor(PATIENCE);
  await rerun(page, () => lock.dragTo(page.locator('#pv-rows li').first()));
  await waitText(page, '#pv-diff', /move arm_smmu_attach_dev asid_lock#1 before sva_check#1/);
  await waitText(page, '#verdict-live', /deadlock at step/);
  await waitText(page, '#pv-rows li.moved', /asid_lock#1/);
  // Dragged back down below where it came from: a second move, after the line it lands on.
  const target = page.locator('#pv-rows li', { hasText: 'asid_unlock#1' });
  await rerun(page, () => page.locator('#pv-rows li', { hasText: 'asid_lock#1' }).dragTo(target));
  await waitText(page, '#pv-diff', /move arm_smmu_attach_dev asid_lock#1 after asid_unlock#1/);
  assert.deepEqual(errors, []);
  await context.close();
});
