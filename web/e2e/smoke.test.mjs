import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, collectErrors, screenshot, PATIENCE } from './harness.mjs';

const env = useServerAndBrowser();

test('the page loads and mounts the app without errors', async () => {
  const page = await env.browser.newPage();
  const errors = collectErrors(page);
  await page.goto(env.server.url + '/');
  await page.locator('#app-root').waitFor(PATIENCE);
  assert.equal(await page.locator('#app-root h1').textContent(), 'smmu-playground');
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  const served = await page.request.get(env.server.url + icon);
  assert.equal(served.status(), 200, `the favicon ${icon} is served`);
  assert.match(served.headers()['content-type'], /image\/svg\+xml/);
  await screenshot(page, 'smoke');
  assert.deepEqual(errors, []);
});
