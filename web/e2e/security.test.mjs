// Links from strangers: the page's Content-Security-Policy, names that look like markup, and
// hostile links that must leave the page on the default scenario with a banner, alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { useServerAndBrowser, collectErrors, screenshot, PATIENCE, rerun, dist, cliBinary } from './harness.mjs';

const env = useServerAndBrowser();

let bin;

/**
 * Runs the release CLI (built once, wherever cargo's target directory is) and returns its
 * output. Exit 1 (the run violates an invariant) is a result, not a failure.
 */
function cli(args) {
  bin ??= process.env.SMMU_SIM ?? cliBinary();
  const run = spawnSync(bin, args, { encoding: 'utf8' });
  assert.ok(run.status === 0 || run.status === 1, `smmu-sim ${args.join(' ')}: exit ${run.status}: ${run.stderr}`);
  return run.stdout.trim();
}

/** Writes scenario JSON to a temporary file and returns the permalink fragment the CLI makes of it. */
function linkOf(scenario, schedule) {
  const file = path.join(fs.mkdtempSync('/tmp/smmu-e2e-'), 'scenario.json');
  fs.writeFileSync(file, JSON.stringify(scenario));
  return cli(['link', file, ...(schedule ? ['--schedule', schedule] : [])]);
}

/** Every string value equal to `from`, anywhere in `value`, replaced by `to`. */
function rename(value, from, to) {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => rename(v, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v, from, to)]));
  }
  return value;
}

const seed = () => JSON.parse(cli(['export', 'seed-race', '--format', 'json']));

/** The DEFLATEd postcard payload of a `v1.` link, as bytes, and back. */
const payload = (link) => zlib.inflateRawSync(Buffer.from(link.slice(3), 'base64url'));
const relink = (bytes) => 'v1.' + zlib.deflateRawSync(bytes).toString('base64url');

/** Replaces every occurrence of `from` in the payload by `to` (of the same length). */
function patch(link, from, to) {
  assert.equal(Buffer.from(from).length, Buffer.from(to).length);
  const bytes = payload(link);
  let at = bytes.indexOf(Buffer.from(from));
  assert.ok(at >= 0, `${from} is in the payload`);
  for (; at >= 0; at = bytes.indexOf(Buffer.from(from), at + 1)) Buffer.from(to).copy(bytes, at);
  return relink(bytes);
}

/** A page that records CSP violations and whether any injected script ran. */
async function open(hash) {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(PATIENCE.timeout);
  const errors = collectErrors(page);
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(env.server.url + '/' + hash);
  await page.locator('.block').first().waitFor(PATIENCE);
  return { page, errors };
}

test('the built page carries a strict Content-Security-Policy and runs under it', async () => {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const policy = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(policy, 'a CSP meta element in dist/index.html');
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy precedes every script');
  const script = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.match(policy, /default-src 'none'/);
  assert.doesNotMatch(script, /'unsafe-inline'|'unsafe-eval'|\*|https?:/, script);
  assert.match(script, /'sha256-[A-Za-z0-9+/=]+'/, 'the start-up script is allowed by its hash');

  const { page, errors } = await open('');
  await rerun(page, () => page.click('#fix-switch'));
  await page.click('#explore');
  await page.waitForFunction(() => document.querySelector('#result-v6\\.9')?.dataset.total, null, PATIENCE);
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'the page itself needs nothing the policy refuses');
  assert.deepEqual(errors, []);
  await page.close();
});

test('names written as markup are shown as text and run no script', async () => {
  const pwn = (n) => `<img src=x onerror="window.__pwned=${n}">`;
  let scenario = seed();
  scenario = rename(scenario, scenario.masters[0].name, pwn(1));
  scenario = rename(scenario, scenario.domains[0].name, `<script>window.__pwned=2</script>`);
  scenario = rename(scenario, scenario.page_tables[0].name, `"><svg onload=window.__pwned=3>`);
  const { page, errors } = await open('#' + linkOf(scenario));
  const text = await page.locator('#app-root').textContent();
  assert.ok(text.includes(pwn(1)), 'the master name is shown as it was written');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no injected script ran');
  assert.equal(await page.locator('#app-root img, #app-root script, #app-root svg[onload]').count(), 0, 'no element came from a name');
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  await screenshot(page, 'security-markup-names');
  assert.deepEqual(errors, []);
  await page.close();
});

/** Hostile links: each opens the first-visit page with a banner naming what is wrong. */
function hostileLinks() {
  const good = cli(['link', 'seed-race', '--schedule', 'CPU0 CPU1']);
  const named = linkOf(rename(seed(), seed().page_tables[0].name, 'PTNAMEXX'));
  const bytes = payload(good);
  // The payload ends with the run-length schedule of the whole run, [(thread, count)...],
  // then the cursor (None = 0): the last run is DMA_B's one step, (3, 1).
  assert.deepEqual([...bytes.subarray(-3)], [3, 1, 0], 'the run ends with one step of thread 3');
  const foreign = Buffer.from(bytes);
  foreign[foreign.length - 3] = 99;
  return [
    ['a schedule naming thread 99', '#' + relink(foreign), /thread/],
    ['a name with a terminal escape', '#' + patch(named, 'PTNAMEXX', 'PT\x1b[31mX'), /control characters/],
    ['bytes after the payload', '#' + good + 'ZZZZ', /damaged/],
    ['a deflate bomb', '#v1.' + zlib.deflateRawSync(Buffer.alloc(1 << 20)).toString('base64url'), /larger than 64 KiB/],
    ['a version past u32', '#v99999999999.AAAA', /newer version/],
    ['a link past the length limit', '#v1.' + 'A'.repeat(200 * 1024), /./],
    ['not base64', '#v1.<script>alert(1)</script>', /damaged/],
  ];
}

test('every hostile link shows the default scenario with a banner, and the page stays usable', async () => {
  for (const [what, hash, banner] of hostileLinks()) {
    const { page, errors } = await open(hash);
    const shown = await page.locator('#link-error').textContent();
    assert.match(shown, banner, `${what}: ${shown}`);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(shown), `${what}: the banner has no control characters`);
    assert.equal(await page.locator('#scenario').inputValue(), 'seed-race', what);
    await rerun(page, () => page.click('#fix-switch'));
    assert.equal(await page.locator('#fix-switch').getAttribute('aria-checked'), 'true', `${what}: the fix switch still works`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, what);
    assert.deepEqual(errors, [], what);
    await page.close();
  }
});
