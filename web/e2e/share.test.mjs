// Sharing end to end: copy a link and reopen it, damaged and newer-version links, mail text,
// JSON export and import, and the embed inside an iframe of another page.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs/promises';
import { useServerAndBrowser, collectErrors, screenshot, PATIENCE, rerun, settled, waitText } from './harness.mjs';

const env = useServerAndBrowser();
let host; // a plain page on another origin that embeds the playground

after(async () => {
  await new Promise((resolve) => (host ? host.close(resolve) : resolve()));
});

/** A page whose clipboard the test can read. */
async function open(hash = '', width = 1280, height = 900) {
  const context = await env.browser.newContext({ viewport: { width, height } });
  context.setDefaultTimeout(PATIENCE.timeout);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/' + hash);
  await page.locator('.block').first().waitFor(PATIENCE);
  return { page, errors, context };
}

/** Block labels in step order: what a user reads on the timeline. */
async function timeline(page) {
  const bs = await page.$$eval('.block', (bs) => bs.map((b) => [Number(b.dataset.index), `${b.dataset.lane}:${b.querySelector('.lbl').textContent}`]));
  return bs.sort((a, b) => a[0] - b[0]).map(([, l]) => l);
}

async function violated(page) {
  const all = await page.$$eval('.block', (bs) => bs.map((b) => b.dataset.violations).join(' '));
  return [...new Set(all.split(/\s+/).filter(Boolean))].sort();
}

async function copied(page) {
  await page.locator('#share-status.ok').waitFor();
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, await page.locator('#share-out').inputValue(), 'the field shows what was copied');
  return clip;
}

test('a copied link opens the same timeline and verdict in a new page', async () => {
  const { page, errors, context } = await open();
  // Make it a run of its own: the fix, CPU0 first.
  await page.click('#fix-switch');
  await page.fill('#schedule', 'CPU0*6 CPU1*3');
  await page.press('#schedule', 'Enter');
  await page.locator('.block.waited').first().waitFor();
  await page.click('#copy-link');
  const url = await copied(page);
  assert.ok(url.startsWith(env.server.url + '/#v1.'), url);
  const again = await context.newPage();
  await again.goto(url);
  await again.locator('.block.waited').first().waitFor(PATIENCE);
  assert.deepEqual(await timeline(again), await timeline(page));
  assert.deepEqual(await violated(again), await violated(page));
  assert.equal(await again.locator('#fix-switch').getAttribute('aria-checked'), 'true');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the mail text has a Link: line and lines of at most 72 columns', async () => {
  const { page, errors, context } = await open();
  await page.click('#copy-mail');
  const text = await copied(page);
  const link = text.split('\n').find((l) => l.startsWith('Link: '));
  assert.ok(link && link.includes(env.server.url + '/#v1.'), `Link line: ${link}`);
  const long = text.split('\n').filter((l) => !l.startsWith('Link: ') && [...l].length > 72);
  assert.deepEqual(long, []);
  assert.ok(/^[\x00-\x7f]*$/.test(text), 'ASCII only');
  assert.ok(text.includes('Thread: https://lore.kernel.org/r/'), 'the thread is linked');
  assert.match(text, /^Schedule: CPU0\*\d+ CPU1\*\d+/m, 'the named schedule');
  await screenshot(page, 'share-mail');
  // The copied text can be closed, with its button or Escape.
  await page.click('#share-out-close');
  await page.locator('#share-out').waitFor({ state: 'detached' });
  await page.click('#copy-mail');
  await copied(page);
  await page.locator('#share-out').focus();
  await page.keyboard.press('Escape');
  await page.locator('#share-out').waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('damaged and newer-version links show a banner and the default scenario', async () => {
  const { page: good, context } = await open();
  await good.click('#copy-link');
  const url = await copied(good);
  const code = url.split('#')[1];
  const cases = [
    ['#v1.garbage!!', /this link is damaged/],
    ['#' + code.slice(0, code.length - 12), /this link is damaged/],
    ['#' + code.slice(0, 10) + (code[10] === 'A' ? 'B' : 'A') + code.slice(11), /this link is damaged/],
    ['#v9.' + code.slice(3), /from a newer version of the playground/],
  ];
  for (const [hash, banner] of cases) {
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(env.server.url + '/' + hash);
    await page.locator('.block').first().waitFor(PATIENCE);
    assert.match(await page.locator('#link-error').textContent(), banner, hash);
    assert.ok(await page.locator('#link-error').isVisible());
    assert.equal(await page.locator('#scenario').inputValue(), 'seed-race');
    assert.ok((await violated(page)).includes('inv2'), 'the seed race before the fix');
    if (hash.startsWith('#v9')) await screenshot(page, 'share-newer-link');
    assert.deepEqual(errors, []);
    await page.close();
  }
  await context.close();
});

test('a reload keeps the session; a link wins over it; a corrupt save is a notice', async () => {
  const { page, errors, context } = await open();
  await rerun(page, () => page.click('#fix-switch'));
  await page.fill('#schedule', 'CPU0*6 CPU1*3');
  await rerun(page, () => page.press('#schedule', 'Enter'));
  await page.keyboard.press('End');
  await settled(page);
  const before = await timeline(page);
  const cursor = await page.locator('#cursor-pos').textContent();
  // A new tab on the bare address: the saved session, not the first visit.
  const bare = await context.newPage();
  await bare.goto(env.server.url + '/');
  await bare.locator('.block.waited').first().waitFor(PATIENCE);
  assert.equal(await bare.locator('#fix-switch').getAttribute('aria-checked'), 'true');
  assert.deepEqual(await timeline(bare), before);
  assert.equal(await bare.locator('#cursor-pos').textContent(), cursor);
  assert.equal(await bare.locator('#link-error').count(), 0);
  await bare.close();
  // A link wins over the saved session.
  const linked = await context.newPage();
  await linked.goto(env.server.url + '/#v1.garbage');
  await linked.locator('#link-error').waitFor(PATIENCE);
  assert.equal(await linked.locator('#fix-switch').getAttribute('aria-checked'), 'false', 'a broken link shows the first visit');
  await linked.close();
  // ...and that broken link did not overwrite the saved session.
  const still = await context.newPage();
  await still.goto(env.server.url + '/');
  await still.locator('.block.waited').first().waitFor(PATIENCE);
  // A corrupt save: the first visit, with a notice, and no crash.
  await still.evaluate(() => localStorage.setItem('smmu-playground.session.v1', 'v1.\u0000not-a-link'));
  await still.reload();
  await still.locator('#link-error').waitFor(PATIENCE);
  assert.match(await still.locator('#link-error').textContent(), /could not be restored/);
  assert.equal(await still.locator('#scenario').inputValue(), 'seed-race');
  assert.equal(await still.locator('#fix-switch').getAttribute('aria-checked'), 'false');
  assert.deepEqual(errors, []);
  await context.close();
});

test('exported JSON imports back; bad input shows the error', async () => {
  const { page, errors, context } = await open();
  await rerun(page, () => page.selectOption('#scenario', 'attach-storm-2'));
  const want = await timeline(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const json = await fs.readFile(await download.path(), 'utf8');
  assert.match(json, /"schedules"/);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
  assert.match(await fs.readFile(await svg.path(), 'utf8'), /^<svg/);

  await rerun(page, () => page.selectOption('#scenario', 'seed-race'));
  await page.click('#import');
  await page.fill('#import-text', '{"format": 1, "id": ');
  await page.click('#import-go');
  await waitText(page, '#import-error', /scenario JSON/);
  await page.fill('#import-text', 'v1.AAAA');
  await page.click('#import-go');
  await waitText(page, '#import-error', /this link is damaged/);
  await screenshot(page, 'share-import-error');
  await page.fill('#import-text', json);
  await page.click('#import-go');
  await page.locator('#import-dialog').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#scenario').inputValue(), 'attach-storm-2');
  assert.deepEqual(await timeline(page), want);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the embed renders in an iframe of another page', async () => {
  const { page, errors, context } = await open();
  await page.click('#embed');
  const snippet = await copied(page);
  assert.match(snippet, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/#embed\/v1\.[^"]+" width="\d+" height="\d+" title="[^"]+"/);
  const link = snippet.match(/#embed\/(v1\.[^"]+)"/)[1];
  host = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html><head><title>a thread</title></head>
<body style="font: 14px sans-serif; margin: 24px; max-width: 820px">
<p>On the attach/SVA race in arm-smmu-v3: here is the interleaving.</p>
${snippet}
<p>With the fix applied the same order waits on arm_smmu_asid_lock.</p>
</body></html>`);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  const hostPage = await context.newPage();
  const hostErrors = collectErrors(hostPage);
  await hostPage.setViewportSize({ width: 880, height: 560 });
  await hostPage.goto(`http://127.0.0.1:${host.address().port}/`);
  const frame = hostPage.frameLocator('iframe');
  await frame.locator('.ov-cell').first().waitFor(PATIENCE);
  // The whole run fits the 760 px frame, lanes named, with the first violation's message.
  const n = await page.locator('.block').count();
  assert.equal(await frame.locator('.ov-cell').count(), n, 'every step is in the embed');
  const right = await frame.locator('.ov-cell').evaluateAll((cs) => Math.max(...cs.map((c) => c.getBoundingClientRect().right)));
  const width = await frame.locator('body').evaluate((b) => b.clientWidth);
  assert.ok(right <= width, `the last step is inside the frame: ${right} <= ${width}`);
  assert.deepEqual(await frame.locator('.ov-name').allTextContents(), ['CPU0', 'CPU1', 'DMA_A', 'DMA_B']);
  assert.match(await frame.locator('#first-violation').textContent(), /^inv2 at step 9: ASID 1 flushed while CD_A\[0\] still uses it/);
  const verdict = frame.locator('#verdict');
  const want = await page.$$eval('.inv[data-broken]', (is) => is.filter((i) => i.dataset.first !== '' && i.id !== 'inv-lock').map((i) => i.id.slice(4)));
  assert.match(await verdict.textContent(), /^VIOLATED: inv1, inv2/);
  assert.equal(await verdict.textContent(), `VIOLATED: ${want.join(', ')}`, 'the same verdict as the invariant panel');
  assert.ok(await verdict.isVisible());
  assert.equal(await frame.locator('header.top .controls').count(), 0, 'no full-page controls');
  const href = await frame.locator('#open-playground').getAttribute('href');
  assert.equal(href, `${env.server.url}/#${link}`);
  await screenshot(hostPage, '05-embed');
  // The fix switch still works in the embed; blocks cannot be dragged.
  await frame.locator('#fix-switch').click();
  await frame.locator('#verdict.ok').waitFor();
  assert.equal(await verdict.textContent(), 'all invariants hold');
  // The default embed.
  const plain = await context.newPage();
  await plain.goto(env.server.url + '/#embed');
  await plain.locator('#verdict').waitFor(PATIENCE);
  assert.equal(await plain.locator('#verdict').textContent(), `VIOLATED: ${want.join(', ')}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(hostErrors, []);
  await context.close();
});

test('when the clipboard is refused, the link is selected in a read-only field', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE.timeout);
  await context.addInitScript(() => {
    navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
  });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  await page.click('#copy-link');
  await page.locator('#share-status.warn').waitFor();
  assert.match(await page.locator('#share-status').textContent(), /did not allow the clipboard/);
  const sel = await page.evaluate(() => {
    const el = document.activeElement;
    return { id: el.id, readOnly: el.readOnly, selected: el.value.slice(el.selectionStart, el.selectionEnd) };
  });
  assert.equal(sel.id, 'share-out');
  assert.ok(sel.readOnly);
  assert.ok(sel.selected.startsWith(env.server.url + '/#v1.'), sel.selected);
  await screenshot(page, 'share-clipboard-refused');
  assert.deepEqual(errors, []);
  await context.close();
});
