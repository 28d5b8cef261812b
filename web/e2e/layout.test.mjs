// Narrow screens and colour themes: a phone sees the timeline on its first screen and can
// drag blocks with a finger, 1024 px has no sideways scrolling, and the light and dark themes
// (chosen in the header or taken from the system) keep text readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openFresh, screenshot, PATIENCE, rerun, waitText } from './harness.mjs';

const COL = 132; // px per step column, as in src/components/timeline.rs
const KEY = 'smmu-playground.theme'; // as in src/theme.rs
const env = useServerAndBrowser();

const open = (options) => openFresh(env, options);

/** The timeline's scroll box in the viewport, its scroll offset and the labels' width. */
function scrollBox(page) {
  return page.evaluate(() => {
    const s = document.querySelector('#timeline-scroll');
    const r = s.getBoundingClientRect();
    const label = s.querySelector('.lane-label').getBoundingClientRect().width;
    return { left: r.left, right: r.left + s.clientWidth, top: r.top, scroll: s.scrollLeft, label, width: s.clientWidth };
  });
}

/** Whether an element is wholly inside the part of the scroll box the labels leave free. */
async function inView(page, selector) {
  const box = await scrollBox(page);
  const r = await page.locator(selector).first().boundingBox();
  return r.x >= box.left + box.label - 1 && r.x + r.width <= box.right + 1;
}

test('a phone sees the timeline on its first screen, with room for two and a half steps', async () => {
  const { page, errors } = await open({ width: 390, height: 844, hasTouch: true });
  const top = await page.evaluate(() => document.querySelector('#timeline').getBoundingClientRect().top);
  assert.ok(top < 844, `the timeline starts at y=${top}`);
  const lane = await page.evaluate(() => document.querySelector('.lane:not(.cols)').getBoundingClientRect().top);
  assert.ok(lane < 844, `the first lane starts at y=${lane}`);
  const box = await scrollBox(page);
  const columns = (box.width - box.label) / COL;
  console.log(`390×844: timeline at y=${top.toFixed(0)}, first lane at y=${lane.toFixed(0)}, labels ${box.label} px, ${columns.toFixed(2)} columns in view`);
  assert.ok(columns >= 2.5, `${columns.toFixed(2)} columns in view (labels ${box.label} px of ${box.width})`);
  // The description starts folded there, and unfolds.
  assert.equal(await page.locator('details.about').getAttribute('open'), null);
  await page.click('details.about summary');
  await page.locator('#try').waitFor({ state: 'visible' });
  await page.click('details.about summary');
  await page.locator('#try').waitFor({ state: 'hidden' });
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth <= 390), 'no sideways scrolling');
  await screenshot(page, '08-phone');
  assert.deepEqual(errors, []);
});

/** The first block whose next step is another lane's: dropping it one column later changes the run. */
async function draggable(page) {
  const lanes = await page.$$eval('.block', (bs) =>
    bs.map((b) => [Number(b.dataset.index), Number(b.dataset.lane)]).sort((a, b) => a[0] - b[0]).map(([, l]) => l));
  return lanes.findIndex((l, i) => i + 1 < lanes.length && lanes[i + 1] !== l);
}

/** Touches with one finger through the browser's own touch input: pointerType "touch". */
function finger(cdp) {
  const touch = (type, x, y) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 1 }] });
  return { down: (x, y) => touch('touchStart', x, y), move: (x, y) => touch('touchMove', x, y), up: () => touch('touchEnd') };
}

test('a touch drag on a phone moves a block and keeps it in view', async () => {
  const { page, errors, context } = await open({ width: 390, height: 844, hasTouch: true });
  const i = await draggable(page);
  const block = `#blk-${i}`;
  const [lane, nth] = await page.$eval(block, (b) => [b.dataset.lane, b.dataset.nth]);
  // Scroll so the block sits left of the middle of what the labels leave free, and its
  // target column right of it: the whole drag is far from the autoscroll edges.
  const box = await scrollBox(page);
  await page.evaluate(({ left }) => (document.querySelector('#timeline-scroll').scrollLeft = left),
    { left: i * COL + COL - (box.width - box.label) / 2 });
  const start = await page.locator(block).boundingBox();
  const scroll = (await scrollBox(page)).scroll;
  const [x, y] = [start.x + start.width / 2, start.y + start.height / 2];
  assert.ok(y < 844, `the block is on the first screen (y=${y})`);
  await page.evaluate(() => {
    window.__pointers = new Set();
    addEventListener('pointerdown', (e) => window.__pointers.add(e.pointerType), { capture: true });
  });
  const touch = finger(await context.newCDPSession(page));
  await touch.down(x, y);
  for (let k = 1; k <= 10; k++) await touch.move(x + (COL * k) / 10, y + (k % 2));
  await page.locator('.drop-ghost').waitFor();
  assert.equal(await page.evaluate(() => [...window.__pointers].join()), 'touch');
  assert.equal((await scrollBox(page)).scroll, scroll, 'a drag in the middle of the timeline does not scroll it');
  assert.ok(await inView(page, '.block.dragging'), 'the dragged block stays in view');
  assert.ok(await inView(page, '.drop-ghost'), 'and so does where it will land');
  await rerun(page, () => touch.up());
  const moved = `.block[data-lane="${lane}"][data-nth="${nth}"]`;
  assert.equal(await page.getAttribute(moved, 'data-index'), String(i + 1), 'the block moved one step later');
  await waitText(page, '#cursor-pos', new RegExp(`^step ${i + 1} of`));
  assert.ok(await inView(page, moved), 'the moved block is in view');
  assert.deepEqual(errors, []);
});

test('at 1024 px nothing overflows sideways, with every panel shown', async () => {
  const { page, errors } = await open({ width: 1024, height: 768 });
  await page.click('#explore');
  await page.locator('#danger-map').waitFor(PATIENCE);
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(wide <= 1024, `the page is ${wide} px wide`);
  // Panels clip what overflows them (they contain their paint): nothing may be cut off.
  const cut = await page.$$eval('.panel, .intro, .timeline, .share', (es) =>
    es.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}`));
  assert.deepEqual(cut, []);
  assert.deepEqual(errors, []);
});

/** The body's computed background colour. */
function background(page) {
  return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
}

/** Which theme the page shows: `data-theme` on <html> and the toggle that is checked. */
function chosen(page) {
  return page.evaluate(() => [
    document.documentElement.getAttribute('data-theme'),
    document.querySelector('#theme [aria-checked="true"]')?.id,
  ]);
}

const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(13, 17, 23)';

test('the theme toggle switches the colours, and the choice survives a reload', async () => {
  const { page, errors } = await open({ colorScheme: 'light' });
  assert.deepEqual(await chosen(page), [null, 'theme-auto']);
  assert.equal(await background(page), LIGHT_BG);
  await page.click('#theme-dark');
  assert.deepEqual(await chosen(page), ['dark', 'theme-dark']);
  assert.equal(await background(page), DARK_BG);
  await page.reload();
  await page.locator('.block').first().waitFor(PATIENCE);
  assert.deepEqual(await chosen(page), ['dark', 'theme-dark'], 'the choice is kept');
  assert.equal(await background(page), DARK_BG);
  await page.locator('#timeline').scrollIntoViewIfNeeded();
  await screenshot(page, '09-dark');
  // Light beats a dark system; auto follows it.
  await page.click('#theme-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.deepEqual(await chosen(page), ['light', 'theme-light']);
  assert.equal(await background(page), LIGHT_BG);
  await page.click('#theme-auto');
  assert.deepEqual(await chosen(page), [null, 'theme-auto']);
  assert.equal(await background(page), DARK_BG);
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), null, 'auto stores nothing');
  assert.deepEqual(errors, []);
});

test('a stored value that is no theme opens the page following the system', async () => {
  const { page, errors } = await open({ colorScheme: 'light' });
  for (const bad of ['{"theme":', 'DARK', 'x'.repeat(100000)]) {
    await page.evaluate(({ k, bad }) => localStorage.setItem(k, bad), { k: KEY, bad });
    await page.reload();
    await page.locator('.block').first().waitFor(PATIENCE);
    assert.deepEqual(await chosen(page), [null, 'theme-auto'], bad.slice(0, 20));
    assert.equal(await background(page), LIGHT_BG);
  }
  assert.deepEqual(errors, []);
});

/** The palette's custom properties as the page computes them now. */
function palette(page) {
  return page.evaluate(() => {
    const css = getComputedStyle(document.documentElement);
    const names = [...document.styleSheets].flatMap((s) => [...s.cssRules])
      .flatMap((r) => [r, ...(r.cssRules ? [...r.cssRules] : [])])
      .flatMap((r) => (r.style ? [...r.style] : [])).filter((n) => n.startsWith('--'));
    return Object.fromEntries([...new Set(names)].sort().map((n) => [n, css.getPropertyValue(n).trim()]));
  });
}

test('with no stored choice a dark system gets the dark palette, the same as choosing dark', async () => {
  const { page, errors } = await open({ colorScheme: 'dark' });
  assert.deepEqual(await chosen(page), [null, 'theme-auto']);
  assert.equal(await background(page), DARK_BG);
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), 'dark');
  const system = await palette(page);
  await page.click('#theme-dark');
  assert.deepEqual(await palette(page), system, 'the two dark blocks of theme.css agree');
  await page.click('#theme-light');
  assert.notEqual((await palette(page))['--panel'], system['--panel']);
  assert.deepEqual(errors, []);
});

/** WCAG contrast of each element's text against the background it is drawn on. */
function contrasts(page, selectors) {
  return page.evaluate((selectors) => {
    const rgba = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [r, g, b, a];
    };
    const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat(1);
    // Background layers from the element up to the first opaque one, composed.
    const backdrop = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0) layers.push(c);
        if (c && c[3] >= 1) break;
      }
      return layers.reduceRight((under, top) => over(top, under), [255, 255, 255, 1]);
    };
    const lum = (c) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    return selectors.map((s) => {
      const el = document.querySelector(s);
      if (!el) return [s, null];
      const bg = backdrop(el);
      return [s, ratio(over(rgba(getComputedStyle(el).color), bg), bg)];
    });
  }, selectors);
}

// Body text and the main colour pairs: ink, muted, links and the coloured states.
const TEXT = [
  'body', '.intro h2', '.intro .desc', '.intro .try', '.intro .keys', '.share .lbl', 'button#copy-link',
  '.lane-name', '.lane.dma .lane-name', '.lane-title', '.colnum:not(.cur)', '.colnum.cur', '.legend',
  '.block:not(.viol):not(.auto) .fn', '.block:not(.viol):not(.auto) .lbl', '.block.viol .fn', '.block.viol .lbl',
  '.badge:not(.lock)', '.badge.lock', '.chip.bad', '.chip.ok', '.ov-name', '#cursor-pos',
  '.details .fn', '.details .chain', '#source-link', '.viols li', 'th', 'td', 'tr.changed td',
  '.pill.ok', '.inv.bad .pill.bad', '.inv .msg', '.inv .src', '.why-fn', '.why-what', '#explore',
  '.brand .sub', '.ctl', '.fix-note', '.switch-label', '.seg.on', '.seg:not(.on)',
];

// With the fix, CPU1 waits for the lock: the amber pairs.
const WAITED = ['.block.waited .fn', '.block.waited .lbl', '.wait-icon', '.waitnote', '.pill.ok'];

/** Every pair's contrast, logged; the ones under 4.5:1 and those not on the page. */
async function check(page, theme, selectors) {
  const ratios = await contrasts(page, selectors);
  const missing = ratios.filter(([, r]) => r === null).map(([s]) => s);
  const low = ratios.filter(([, r]) => r !== null && r < 4.5).map(([s, r]) => `${s} ${r.toFixed(2)}`);
  const min = ratios.reduce((m, p) => (p[1] !== null && p[1] < m[1] ? p : m), ['', Infinity]);
  console.log(`${theme}: lowest contrast ${min[1].toFixed(2)} (${min[0]}); ${ratios.map(([s, r]) => `${s} ${r?.toFixed(1)}`).join(', ')}`);
  return { missing, low };
}

for (const theme of ['light', 'dark']) {
  test(`text contrast meets WCAG AA (4.5:1) in the ${theme} theme`, async () => {
    const { page, errors } = await open({ colorScheme: theme === 'dark' ? 'light' : 'dark' });
    await page.click(`#theme-${theme}`);
    // Step 2 breaks an invariant and changes a row of the state: every pair is on the page.
    await page.click('#blk-2');
    await waitText(page, '#cursor-pos', /^step 2 of/);
    assert.deepEqual(await check(page, theme, TEXT), { missing: [], low: [] });
    await rerun(page, () => page.click('#fix-switch'));
    await page.locator('.block.waited').click();
    await page.locator('.waitnote').waitFor();
    assert.deepEqual(await check(page, theme, WAITED), { missing: [], low: [] });
    assert.deepEqual(errors, []);
  });
}
