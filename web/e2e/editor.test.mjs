// The scenario editor end to end: build a race from an empty topology by clicking and typing
// only, see its verdict (equal to the CLI's on the same scenario), copy its link, reopen it,
// and get the same scenario and verdict; a bad field shows its message there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { useServerAndBrowser, cliBinary, collectErrors, screenshot, settled, rerun, waitText, PATIENCE } from './harness.mjs';

const env = useServerAndBrowser();

/** The scenario the test builds, as the editor's defaults and the test's edits make it. */
const BUILT = {
  format: 1, id: 'custom', title: 'Two masters, a bind and an attach', description: '', variant: 'pre', granularity: 'mail', asid_bits: 8,
  page_tables: [{ name: 'PT0', map: [[0x1000, 0xa000]] }],
  processes: [{ name: 'P0', cpu_asid: 1, page_table: 'PT0' }],
  domains: [{ name: 'd0', stage: 's1', page_table: 'PT0', id: 1 }, { name: 'd1', stage: 's1', page_table: 'PT0', id: null }],
  masters: [{ name: 'M0', domain: 'd0', sva: false, ats: false, ssids: 2 }, { name: 'M1', domain: 'd0', sva: true, ats: false, ssids: 2 }],
  threads: [
    { name: 'CPU0', calls: [{ fn: 'attach_dev', master: 'M0', domain: 'd1' }] },
    { name: 'CPU1', calls: [{ fn: 'sva_set_dev_pasid', master: 'M1', pasid: 1, process: 'P0' }] },
  ],
  dma: [],
};

async function cliVerdicts() {
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'editor-')), 'built.json');
  await fs.writeFile(file, JSON.stringify(BUILT));
  const cli = cliBinary();
  const run = (variant) => {
    try {
      return JSON.parse(execFileSync(cli, ['explore', file, '--variant', variant, '--json'], { encoding: 'utf8' }));
    } catch (e) {
      return JSON.parse(e.stdout); // exit 1: violated
    }
  };
  return { pre: run('pre'), fix: run('fix') };
}

/** Types into a field and leaves it, which commits it (a change event). */
async function type(page, id, text) {
  await page.fill(`#${id}`, text);
  await page.press(`#${id}`, 'Tab');
}

async function explored(page) {
  await page.click('#explore');
  await page.waitForFunction(() => document.querySelector('#result-fix')?.dataset.total, null, PATIENCE);
  const count = (id) => page.$eval(id, (e) => ({ ...e.dataset }));
  return { pre: await count('#result-pre'), fix: await count('#result-fix') };
}

function assertVerdicts(got, want) {
  for (const v of ['pre', 'fix']) {
    assert.equal(got[v].violating, String(want[v].violating_interleavings), v);
    assert.equal(got[v].total, String(want[v].interleavings), v);
  }
  assert.equal(got.pre.verdict, 'violated');
}

test('a race built from scratch in the editor runs, checks as the CLI does, and travels as a link', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 1000 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  await page.click('#editor summary');
  await page.click('#ed-start');
  await waitText(page, '#ed-error', /^Not applied: a scenario has 1 to \d+ threads .* \(at threads\)/);
  assert.match(await page.locator('#ed-threads .ed-msg').textContent(), /a scenario has 1 to/);
  for (const list of ['page_tables', 'processes', 'domains', 'domains', 'masters', 'masters']) {
    await page.click(`.ed-add-${list}`);
  }
  await page.locator('#ed-masters-1-name').waitFor();
  await type(page, 'ed-title', BUILT.title);
  await type(page, 'ed-domains-0-id', '1');
  await page.selectOption('#ed-masters-0-domain', 'd0');
  await page.selectOption('#ed-masters-1-domain', 'd0');
  await page.check('#ed-masters-1-sva');
  await page.click('.ed-add-threads');
  await page.click('#ed-threads-0 .ed-add-call');
  await page.selectOption('#ed-threads-0-calls-0-domain', 'd1');
  await page.click('.ed-add-threads');
  await page.selectOption('#ed-threads-1-calls-new', 'sva_set_dev_pasid');
  // The last valid edit applies: the page runs the new scenario.
  await page.click('#ed-threads-1 .ed-add-call');
  await page.locator('#ed-threads-1-calls-0-master').waitFor();
  await rerun(page, () => page.selectOption('#ed-threads-1-calls-0-master', 'M1'));
  await waitText(page, '#ed-status', /^Applied: the page runs Two masters, a bind and an attach \(custom\)/);
  const lanes = await page.$$eval('.lane-name', (ls) => ls.map((l) => l.textContent));
  assert.ok(lanes.some((l) => l.includes('CPU0')) && lanes.some((l) => l.includes('CPU1')), lanes.join());
  const want = await cliVerdicts();
  assertVerdicts(await explored(page), want);
  await screenshot(page, '13-editor', page.locator('#editor'));

  // A bad value is refused at its field, and the page keeps the last valid scenario.
  const runs = await page.locator('#app-root').getAttribute('data-runs');
  await type(page, 'ed-domains-0-id', 'one');
  await waitText(page, '#ed-domains-0-id + .ed-msg', "'one' is not a number");
  assert.equal(await page.locator('#ed-domains-0-id').inputValue(), 'one', 'what was typed stays');
  await type(page, 'ed-domains-0-id', '300');
  await waitText(page, '#ed-domains-0-id + .ed-msg', /ASID 300 is out of range 1\.\.=255 \(asid_bits 8/);
  assert.equal(await page.locator('#ed-domains-0-id').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#ed-error').textContent(), /\(at domains\.0\.id\)/);
  assert.equal(await page.locator('#app-root').getAttribute('data-runs'), runs, 'nothing re-ran');
  // The unfinished draft survives a reload, message and all.
  await page.waitForFunction(() => localStorage.getItem('smmu-playground.draft.v1')?.includes('300'), null, PATIENCE);
  await page.reload();
  await page.locator('.block').first().waitFor(PATIENCE);
  await page.click('#editor summary');
  assert.equal(await page.locator('#ed-domains-0-id').inputValue(), '300');
  await waitText(page, '#ed-domains-0-id + .ed-msg', /ASID 300 is out of range/);
  await rerun(page, () => type(page, 'ed-domains-0-id', '1'));
  await page.locator('#ed-status').waitFor();

  await settled(page);
  await page.click('#copy-link');
  await page.locator('#share-status.ok').waitFor();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  const again = await context.newPage();
  const errors2 = collectErrors(again);
  await again.goto(url);
  await again.locator('.block').first().waitFor(PATIENCE);
  await again.click('#editor summary');
  assert.equal(await again.locator('#ed-title').inputValue(), BUILT.title);
  assert.equal(await again.locator('#ed-masters-1-sva').isChecked(), true);
  assert.equal(await again.locator('#ed-threads-1-calls-0-master').inputValue(), 'M1');
  assertVerdicts(await explored(again), want);
  // A corrupt saved draft is dropped with a notice; the saved session still opens.
  await again.evaluate(() => localStorage.setItem('smmu-playground.draft.v1', '{"masters": [1,'));
  await again.goto(env.server.url + '/');
  await again.locator('.block').first().waitFor(PATIENCE);
  await waitText(again, '#link-error', /The unfinished scenario saved in this browser could not be restored: it is not JSON/);
  await again.click('#editor summary');
  assert.equal(await again.locator('#ed-title').inputValue(), BUILT.title, 'the session is the built scenario');
  assert.deepEqual(errors, []);
  assert.deepEqual(errors2, []);
  await context.close();
});
