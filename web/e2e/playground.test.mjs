// The playground end to end: the seed race, dragging with the mouse, the fix switch, the
// exhaustive counts, keyboard stepping; it times re-simulation after a drop and saves
// screenshots to artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, collectErrors, screenshot, PATIENCE, waitText, settled, rerun, dragBlock, COL } from './harness.mjs';
const env = useServerAndBrowser();

async function open(width = 1280, height = 900) {
  const page = await env.browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(PATIENCE.timeout);
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('.block').first().waitFor(PATIENCE);
  return { page, errors };
}

/** Invariant ids violated by some block of the timeline. */
async function violated(page) {
  const all = await page.$$eval('.block', (bs) => bs.map((b) => b.dataset.violations).join(' '));
  return [...new Set(all.split(/\s+/).filter(Boolean))].sort();
}

/** Lane of each block, in step order (the DOM groups blocks by lane). */
async function lanesInOrder(page) {
  const bs = await page.$$eval('.block', (bs) => bs.map((b) => [Number(b.dataset.index), Number(b.dataset.lane)]));
  return bs.sort((a, b) => a[0] - b[0]).map(([, lane]) => lane);
}

async function runs(page) {
  return Number(await page.locator('#app-root').getAttribute('data-runs'));
}

/**
 * Drags a block with the mouse to a column and waits until the page has re-run the schedule.
 * Measures, with performance.now(), from the drop (mouse up) to the DOM holding the
 * re-simulated page (`dom`), and to the next animation frame after it is painted (`frame`).
 */
async function dragTo(page, block, column) {
  const before = await runs(page);
  await page.evaluate((before) => {
    window.__drop = null;
    new Promise((resolve) => {
      let t0 = 0;
      window.addEventListener('pointerup', () => (t0 = performance.now()), { capture: true, once: true });
      const root = document.querySelector('#app-root');
      const obs = new MutationObserver(() => {
        if (Number(root.dataset.runs) === before) return;
        obs.disconnect();
        const dom = performance.now() - t0;
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => resolve({ dom, frame: performance.now() - t0 });
          ch.port2.postMessage(0);
        });
      });
      obs.observe(root, { attributes: true, attributeFilter: ['data-runs'] });
    }).then((ms) => (window.__drop = ms));
  }, before);
  await dragBlock(page, block, column);
  // A drop that changes nothing never re-runs: the wait then fails with its cap.
  return (await page.waitForFunction(() => window.__drop, null, PATIENCE)).jsonValue();
}

test('first visit: the seed race before the fix violates inv2 and inv1', async () => {
  const { page, errors } = await open();
  assert.equal(await page.locator('#fix-switch').getAttribute('aria-checked'), 'false');
  assert.equal(await page.locator('#scenario').inputValue(), 'seed-race');
  const v = await violated(page);
  assert.ok(v.includes('inv1') && v.includes('inv2'), `violations: ${v}`);
  assert.equal(await page.locator('#inv-inv2').getAttribute('data-broken'), 'true', 'the cursor starts on the first violation');
  assert.match(await page.locator('#source-link').getAttribute('href'), /arm-smmu-v3-sva\.c#L\d+/);
  await screenshot(page, '01-seed-race-pre');
  assert.deepEqual(errors, []);
});

test('dragging CPU1 after CPU0 with the mouse clears the race; reset brings it back', async () => {
  // Wide enough that the whole mail-granularity timeline is on screen.
  const { page, errors } = await open(4400, 900);
  const n = await page.locator('.block').count();
  const ms = await dragTo(page, page.locator('.block[data-lane="1"][data-nth="0"]'), n - 1);
  console.log(`re-simulation after a drop (seed-race, mail): DOM updated ${ms.dom.toFixed(1)} ms, next frame ${ms.frame.toFixed(1)} ms`);
  const lanes = await lanesInOrder(page);
  assert.ok(lanes.indexOf(1) > lanes.lastIndexOf(0), `CPU1 is pushed after CPU0: ${lanes}`);
  // What the Try box says: inv1, inv2, inv3 and dma hold; only the fix's design rule breaks.
  assert.match(await page.locator('#try').textContent(), /Drag CPU1's first step to the end of the timeline/);
  assert.deepEqual(await violated(page), ['lock'], 'violations after the drag');
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, '02-cpu1-after-cpu0');
  await page.click('#reset');
  await page.waitForFunction(() => document.querySelector('.block[data-violations~="inv2"]'));
  assert.deepEqual(await violated(page), ['dma', 'inv1', 'inv2', 'inv3', 'lock'], 'Reset brings the race back');
  assert.deepEqual(errors, []);
});

test('the fix switch makes every invariant hold, and CPU1 waits for the lock', async () => {
  const { page, errors } = await open();
  await page.locator('#fix-switch').focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#fix-switch').getAttribute('aria-checked') === 'true');
  assert.deepEqual(await violated(page), []);
  const broken = await page.$$eval('.inv', (is) => is.filter((i) => i.dataset.first !== '').map((i) => i.id));
  assert.deepEqual(broken, [], 'no invariant is violated anywhere in the trace');
  // The thread's own interleaving, carried to the fix: CPU1 waits where it raced before.
  const waits = await page.$$eval('.block.waited', (bs) => bs.map((b) => [b.dataset.lane, b.getAttribute('title')]));
  assert.equal(waits.length, 1, JSON.stringify(waits));
  assert.equal(waits[0][0], '1', 'the waiting step is CPU1\'s');
  assert.match(waits[0][1], /asked for at position \d+; waited for arm_smmu_asid_lock held by CPU0/);
  const waited = page.locator('.block.waited').first();
  const index = Number(await waited.getAttribute('data-index'));
  await waited.click();
  await waitText(page, '#cursor-pos', new RegExp(`^step ${index} of`));
  await screenshot(page, '03-fix-waits');
  // Flipped back: the thread's interleaving races again.
  await rerun(page, () => page.click('#fix-switch'));
  assert.ok((await violated(page)).includes('inv2'));
  await rerun(page, () => page.click('#fix-switch'));
  await page.fill('#schedule', 'CPU0*6 CPU1*3');
  await page.press('#schedule', 'Enter');
  const mine = page.locator('.block.waited').first();
  await mine.waitFor();
  await mine.click();
  const cursor = await waitText(page, '#cursor-pos', new RegExp(`^step ${await mine.getAttribute('data-index')} of`));
  // The permalink in the address bar reopens exactly this run, cursor included.
  await settled(page);
  assert.match(page.url(), /#v1\./);
  const again = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await again.goto(page.url());
  await again.locator('.block.waited').first().waitFor(PATIENCE);
  assert.equal(await again.locator('#fix-switch').getAttribute('aria-checked'), 'true');
  assert.equal(await again.locator('#cursor-pos').textContent(), cursor);
  assert.equal(await again.locator('#executed').textContent(), await page.locator('#executed').textContent());
  assert.deepEqual(errors, []);
});

test('checking every interleaving gives the exact counts before and after the fix', async () => {
  const { page, errors } = await open();
  await page.click('#explore');
  await page.waitForFunction(() => document.querySelector('#result-v6\\.9')?.dataset.total, null, PATIENCE);
  const count = (id) => page.$eval(id, (e) => [e.dataset.violating, e.dataset.total]);
  assert.deepEqual(await count('#result-pre'), ['57320550', '534628728']);
  assert.deepEqual(await count('#result-fix'), ['0', '5978820']);
  // A found violation reads red, a complete clean run green; the count line says the counts.
  assert.equal(await page.locator('#result-pre').getAttribute('data-verdict'), 'violated');
  assert.match(await page.locator('#result-pre').getAttribute('class'), /\bbad\b/);
  assert.match(await page.locator('#result-fix').getAttribute('class'), /\bok\b/);
  assert.equal(await page.locator('#result-pre .count').textContent(), '57,320,550 of 534,628,728 interleavings violate');
  await page.locator('#danger-map').waitFor();
  assert.ok((await page.locator('#danger-map td.dc[title*="violate"]').count()) > 0, 'the danger map has counted cells');
  // The heat map is read against the base rate, rows name their steps, and the five most
  // dangerous orders are a list (what a screen reader reads) that loads a violating run.
  assert.match(await page.locator('.danger .scale').textContent(), /^Base rate: 10\.7% of all interleavings violate/);
  const rows = await page.$$eval('#danger-map th.drow .fnname', (ths) => ths.slice(0, 4).map((t) => t.textContent));
  assert.equal(new Set(rows).size, 4, `CPU0's first rows are told apart: ${rows}`);
  assert.equal(await page.locator('#top-orders li').count(), 5);
  await page.locator('.explore').scrollIntoViewIfNeeded();
  await screenshot(page, '04-every-interleaving');
  await page.locator('#top-orders .order').first().click();
  await waitText(page, '#loaded-note', /^Loaded a violating interleaving that runs CPU\d #\d+ .* before /);
  assert.ok((await violated(page)).some((v) => v !== 'lock'), 'the loaded run violates');
  // The shortest counterexample (CPU0*4 CPU1*6) also has the fewest switches: one button says so.
  assert.equal(await page.locator('#result-pre .load-fewest').count(), 0, 'no second button that does the same');
  assert.equal(await page.locator('#result-pre .load-shortest').textContent(), 'Load counterexample (shortest, fewest switches)');
  await page.locator('#result-pre .load-shortest').click();
  await page.waitForFunction(() => document.querySelector('.block[data-violations~="inv2"]'));
  assert.match(await page.locator('#executed').textContent(), /^CPU0\*\d+ CPU1\*\d+/, 'one context switch');
  // Loading says what was loaded, and brings the timeline into view.
  await waitText(page, '#loaded-note', 'Loaded the shortest counterexample of pre: 10 steps, 1 switch (also the fewest switches).');
  await page.waitForFunction(() => {
    const r = document.querySelector('#timeline').getBoundingClientRect();
    return r.top >= -1 && r.top < innerHeight;
  }, null, PATIENCE);
  assert.deepEqual(errors, []);
});

test('the keyboard moves blocks and steps the cursor', async () => {
  const { page, errors } = await open();
  const first = page.locator('.block[data-lane="1"][data-nth="0"]');
  const at = Number(await first.getAttribute('data-index'));
  await first.focus();
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((at) => document.activeElement?.dataset.index === String(at - 1), at);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.nth), '0');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.lane), '1');
  await page.keyboard.press('Home');
  await waitText(page, '#cursor-pos', 'initial state');
  await page.keyboard.press(']');
  await waitText(page, '#cursor-pos', /^step 0 of/);
  await page.keyboard.press('ArrowDown');
  await waitText(page, '#cursor-pos', /^step 1 of/);
  await page.keyboard.press('[');
  await waitText(page, '#cursor-pos', /^step 0 of/);
  await page.keyboard.press('End');
  const n = await page.locator('.block').count();
  await waitText(page, '#cursor-pos', `step ${n - 1} of ${n} (numbered from 0)`);
  // Outside the timeline, ↓ Home End are the page's own (scrolling); [ ] still step.
  await page.locator('#copy-link').focus();
  await page.keyboard.press('[');
  await waitText(page, '#cursor-pos', new RegExp(`^step ${n - 2} of`));
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('[');
  await waitText(page, '#cursor-pos', new RegExp(`^step ${n - 3} of`));
  const names = await page.$$eval('.cursor-ctl button', (bs) => bs.map((b) => b.getAttribute('aria-label')));
  assert.deepEqual(names, ['initial state', 'step back', 'step forward', 'last step']);
  assert.deepEqual(errors, []);
});

test('re-simulation after a drop at source granularity', async () => {
  const { page, errors } = await open();
  await page.selectOption('#granularity', 'source');
  await page.waitForFunction(() => document.querySelectorAll('.block').length > 40);
  await page.locator('#cur-home').click();
  await waitText(page, '#cursor-pos', 'initial state');
  const samples = [];
  // Each drop moves the first step that follows another thread's step one column earlier,
  // which always changes the schedule.
  for (let k = 0; k < 9; k++) {
    const lanes = await lanesInOrder(page);
    const i = lanes.findIndex((l, j) => j > 0 && l !== lanes[j - 1]);
    samples.push(await dragTo(page, page.locator(`#blk-${i}`), i - 1));
  }
  const n = await page.locator('.block').count();
  const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const dom = samples.map((s) => s.dom);
  const frame = samples.map((s) => s.frame);
  console.log(`re-simulation after a drop (seed-race, source, ${n} steps): DOM updated ${fmt(dom)} ms (median ${median(dom).toFixed(1)}); next frame after repaint ${fmt(frame)} ms (median ${median(frame).toFixed(1)}); target <= 16 ms`);
  assert.deepEqual(errors, []);
});

test('the page says what a flush did, reads an invariant\'s status apart from where it breaks, and keeps a typo', async () => {
  const { page, errors } = await open();
  // The first visit opens on the flush of ASID 1, the first violation (inv2).
  const at = await page.locator('#cursor-pos').textContent();
  const n = await page.locator('.block').count();
  assert.match(at, new RegExp(`^step \\d+ of ${n} \\(numbered from 0\\)$`), 'the count is the number of steps');
  assert.match(await page.locator('#flush-note').textContent(), /^Invalidates ASID 1 in the IOTLB: no entry of ASID 1 was cached/);
  assert.equal(await page.locator('.details .empty').count(), 0, 'a flush never reads as "no object changed"');
  // inv2 breaks here; inv1 holds here and breaks later: the two read apart.
  assert.equal(await page.locator('#inv-inv2').getAttribute('data-broken'), 'true');
  assert.match(await page.locator('#first-inv2').textContent(), /^first at step \d+/);
  assert.equal(await page.locator('#inv-inv1').getAttribute('data-broken'), 'false');
  assert.match(await page.locator('#first-inv1').textContent(), /^violated later, first at step \d+/);
  assert.match(await page.locator('#first-inv1').getAttribute('class'), /\bapart\b/, 'not the red mark of a violation');
  // At the end of the run CD_A[0] no longer holds ASID 1: inv1 holds again, and says where it broke.
  await page.click('#cur-end');
  await waitText(page, '#first-inv1', /^violated earlier, first at step \d+/);
  assert.equal(await page.locator('#inv-inv1').getAttribute('data-broken'), 'false');
  // A typo in the schedule stays in the field with the error, to be corrected.
  await page.fill('#schedule', 'CPU0*4 CPU9');
  await page.press('#schedule', 'Enter');
  await page.locator('.intro .error').waitFor();
  assert.match(await page.locator('.intro .error').textContent(), /CPU9/);
  assert.equal(await page.locator('#schedule').inputValue(), 'CPU0*4 CPU9');
  assert.deepEqual(errors, []);
});

test('why it broke: each invariant\'s causal chain links to its steps, and the state panel marks what it names', async () => {
  const { page, errors } = await open();
  // The chain the thread tells, derived from the trace: A leaves z's list, share_asid's walk
  // skips A, the flush, A's DMA refills ASID 1 from PT_z, CD_B[1] installs ASID 1, B hits it.
  const steps = (inv) => page.$$eval(`#why-${inv} .why-step`, (bs) => bs.map((b) => Number(b.textContent.replace('step ', ''))));
  assert.deepEqual(await steps('dma'), [2, 7, 9, 10, 14, 15]);
  assert.match(await page.locator('#why-dma li').first().textContent(), /list_del/);
  // At the cursor's step (the flush), the CD that still uses ASID 1 is the row inv2 names.
  assert.ok((await page.locator('#t-cd tr[data-named~="inv2"]').count()) >= 1, 'inv2 names a CD row');
  // Following inv1's chain to its last step: both CDs holding ASID 1 are marked.
  const inv1 = await steps('inv1');
  await page.locator('#why-inv1 .why-step').last().click();
  await waitText(page, '#cursor-pos', new RegExp(`^step ${inv1.at(-1)} of`));
  assert.equal(await page.locator('#t-cd tr[data-named~="inv1"]').count(), 2, 'inv1 names the two CDs');
  await page.locator('#why-dma .why-step').last().click();
  await waitText(page, '#cursor-pos', /^step 15 of/);
  assert.equal(await page.locator('#t-iotlb tr[data-named~="dma"]').count(), 1, 'dma names the stale IOTLB entry');
  await page.locator('#why').scrollIntoViewIfNeeded();
  await screenshot(page, '06-why-it-broke');
  assert.deepEqual(errors, []);
});

test('the verdict chips and the overview show the whole run at 1024 px', async () => {
  const { page, errors } = await open(1024, 768);
  const n = await page.locator('.block').count();
  assert.equal(await page.locator('.ov-cell').count(), n, 'every step is in the overview');
  // list_del (CPU0) and the flush (CPU1) are on screen together.
  const box = async (i) => page.locator(`.ov-cell[aria-label^="step ${i} "]`).boundingBox();
  const listDel = Number(await page.locator('.block', { hasText: 'list_del(A)' }).first().getAttribute('data-index'));
  const flush = Number(await page.locator('.block', { hasText: 'tlb_inv_asid' }).first().getAttribute('data-index'));
  for (const i of [0, listDel, flush, n - 1]) {
    const b = await box(i);
    assert.ok(b && b.x >= 0 && b.x + b.width <= 1024, `step ${i} of the overview is on screen: ${JSON.stringify(b)}`);
  }
  assert.match(await page.locator('#chip-inv2').textContent(), new RegExp(`^inv2 broken at step ${flush}$`));
  await page.click('#chip-inv1');
  await waitText(page, '#cursor-pos', /^step 14 of/);
  await screenshot(page, '07-overview-1024');
  await rerun(page, () => page.click('#fix-switch'));
  for (const inv of ['inv1', 'inv2', 'inv3', 'dma']) {
    assert.equal(await page.locator(`#chip-${inv}`).textContent(), `${inv} holds`);
  }
  assert.deepEqual(errors, []);
});

test('undo and redo walk the edits, and Back steps back through them without leaving the page', async () => {
  const { page, errors } = await open(4400, 900);
  await settled(page);
  const n = await page.locator('.block').count();
  assert.equal(await page.locator('#undo').isDisabled(), true, 'nothing to undo on a first visit');
  await dragTo(page, page.locator('.block[data-lane="1"][data-nth="0"]'), n - 1);
  await page.waitForFunction(() => !document.querySelector('.block[data-violations~="inv2"]'));
  await rerun(page, () => page.click('#undo'));
  assert.ok((await violated(page)).includes('inv2'), 'undo brings the race back');
  await rerun(page, () => page.click('#redo'));
  assert.ok(!(await violated(page)).includes('inv2'), 'redo moves CPU1 after CPU0 again');
  await page.locator('#copy-link').focus();
  await rerun(page, () => page.keyboard.press('Control+z'));
  assert.ok((await violated(page)).includes('inv2'), 'Ctrl+Z undoes');
  await rerun(page, () => page.keyboard.press('Control+Shift+z'));
  assert.ok(!(await violated(page)).includes('inv2'), 'Ctrl+Shift+Z redoes');
  // Back: the run before the last edit, on the same page.
  await settled(page);
  const origin = new URL(page.url()).origin;
  await rerun(page, () => page.goBack());
  assert.equal(new URL(page.url()).origin, origin, 'Back stays on the playground');
  assert.ok((await violated(page)).includes('inv2'), 'Back shows the run before the edit');
  assert.deepEqual(errors, []);
});

test('a drop previews where the block really lands, says why it differs, and marks what it pushed', async () => {
  const { page, errors } = await open(4400, 900);
  const flush = page.locator('.block', { hasText: 'tlb_inv_asid' }).first();
  const box = await flush.boundingBox();
  const index = Number(await flush.getAttribute('data-index'));
  const x = (col) => box.x - 4 - index * COL + col * COL + COL / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 20, y);
  await page.mouse.down();
  await page.mouse.move(x(index + 1), y, { steps: 4 });
  await page.mouse.move(x(16), y, { steps: 8 });
  // While dragging: the ghost sits where the step would run, and says so.
  const lands = await waitText(page, '.drop-ghost .lands', /^lands at \d+, not 16$/);
  const at = Number(lands.match(/lands at (\d+)/)[1]);
  assert.ok(at < 16, lands);
  await rerun(page, () => page.mouse.up());
  const note = await page.locator('#move-note').textContent();
  assert.match(note, new RegExp(`^CPU1's arm_smmu_share_asid runs at step ${at}, not 16: its thread's later steps keep their order after it`));
  assert.equal(Number(await page.locator('.block', { hasText: 'tlb_inv_asid' }).first().getAttribute('data-index')), at, 'it landed where the preview said');
  const shifted = await page.$$eval('.block.shifted', (bs) => bs.map((b) => b.dataset.lane));
  assert.ok(shifted.length > 0 && shifted.every((l) => l !== '1'), `other lanes' pushed blocks are marked: ${shifted}`);
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, '10-move-note');
  assert.deepEqual(errors, []);
});

test('blocks are readable: 12 px text, no label clipped, identifiers never broken', async () => {
  const { page, errors } = await open(4400, 900);
  const blocks = await page.$$eval('.block .lbl', (ls) => ls.map((l) => {
    const s = getComputedStyle(l);
    // Lines of each unbreakable piece (between <wbr> break points): one piece, one line.
    const pieces = [...l.querySelectorAll('.tok')].map((n) => {
      const r = document.createRange();
      r.selectNodeContents(n);
      return new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
    });
    return { text: l.textContent, size: parseFloat(s.fontSize), clipped: l.scrollHeight > l.clientHeight + 1, split: pieces.some((k) => k > 1), tokens: pieces.length };
  }));
  assert.ok(blocks.length > 20 && blocks.every((b) => b.tokens > 0), 'every label is made of tokens');
  assert.deepEqual(blocks.filter((b) => b.size < 12).map((b) => b.text), [], 'label text is at least 12 px');
  assert.deepEqual(blocks.filter((b) => b.clipped).map((b) => b.text), [], 'no label is clipped');
  assert.deepEqual(blocks.filter((b) => b.split).map((b) => b.text), [], 'no identifier breaks across lines');
  const badge = await page.$eval('.badge', (b) => parseFloat(getComputedStyle(b).fontSize));
  assert.ok(badge >= 10, `badges are ${badge} px`);
  assert.deepEqual(errors, []);
});
