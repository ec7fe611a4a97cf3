// The cookie banner (web/cookie-banner.js, served by GET /v1/cookies/banner.js)
// in headless Chromium, driven by playwright-core: a page on one origin
// includes the banner from custodian on another; the first visit shows it, a
// choice is recorded with custodian (a real cross-origin POST with a CORS
// preflight), a reload honours the stored choice without asking or posting
// again, and a visitor without storage is asked again.
//
// CTest runs this as browser.CookieBanner (CMakeLists.txt) with
//   CUSTODIAN_BINARY      the custodian executable under test
//   CUSTODIAN_SOURCE_DIR  the repository root (for examples/policies)
//   CHROMIUM              optional; the browser (default /usr/bin/chromium)
// By hand: node --test tests/browser/cookie_banner.test.mjs with those set.
// No step sleeps: every wait is playwright's auto-waiting or an explicit
// wait for a condition, so a slow (e.g. ASan) custodian only makes it slower.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

import { BROWSER, Custodian, WAIT_MS, eventually, policyFile, steps } from './harness.mjs';

const TENANT = 'interjet';
const ANALYTICS_LABEL = 'Browsing experience and analytics';  // examples/policies/interjet.yaml

let custodian;      // the data directory and the `custodian serve` child process
let site;           // the node:http server of the website (another origin)
let browser;
let api;            // http://127.0.0.1:PORT of custodian
let siteUrl;        // http://127.0.0.1:PORT/ of the website
let agentKey;       // an agent API key of the tenant, for the evidence
const state = steps();
const { step } = state;

// The website: one page that includes the banner from custodian's origin and
// records every `custodian-cookies` event the banner dispatches.
function startSite(bannerSrc) {
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Interjet (browser test)</title>
<script>
  window.cookieEvents = [];
  document.addEventListener('custodian-cookies', function (e) { window.cookieEvents.push(e.detail); });
</script>
<script src="${bannerSrc}" defer></script>
</head>
<body><h1>Interjet</h1><p>A page that includes custodian's cookie banner.</p></body>
</html>
`;
  return new Promise((resolve) => {
    site = createServer((req, res) => {
      if (req.url === '/' || req.url.startsWith('/?')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(page);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found\n');
      }
    });
    site.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${site.address().port}/`));
  });
}

// GET /v1/cookies/consents/{visitor} with the agent key: custodian's evidence.
async function evidence(visitor) {
  const r = await fetch(`${api}/v1/cookies/consents/${encodeURIComponent(visitor)}`,
                        { headers: { Authorization: `Bearer ${agentKey}` } });
  assert.equal(r.status, 200, await r.clone().text());
  const body = await r.json();
  assert.equal(body.visitor, visitor);
  return body.choices;
}

async function openSite(context) {
  const page = await context.newPage();
  const posts = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url() === `${api}/v1/cookies/consents`) posts.push(req);
  });
  await page.goto(siteUrl);
  return { page, posts };
}

// Clicks a banner button and waits for custodian's answer to the POST it makes.
async function choose(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${api}/v1/cookies/consents` &&
                                r.request().method() === 'POST'),
    page.locator(`#custodian-cookie-banner button[data-action="${action}"]`).click(),
  ]);
  return response;
}

const stored = (page) =>
  page.evaluate((key) => JSON.parse(window.localStorage.getItem(key) || 'null'),
                `custodian-cookies:${TENANT}`);

describe('cookie banner in headless Chromium', () => {
  let context;   // the first visitor's browser profile (kept across steps)
  let page;
  let posts;
  let first;     // the first visitor's stored record
  let policyVersion;

  before(async () => {
    custodian = new Custodian();
    custodian.run('init');
    custodian.run('tenant', 'create', TENANT, '--policy', policyFile(TENANT));
    agentKey = JSON.parse(custodian.run('apikey', 'create', TENANT, '--role', 'agent',
                                        '--name', 'browser-test', '--json')).key;
    assert.ok(agentKey, 'apikey create printed no key');
    api = await custodian.serve();
    siteUrl = await startSite(`${api}/v1/cookies/banner.js?tenant=${TENANT}`);
    assert.notEqual(new URL(siteUrl).origin, new URL(api).origin);
    browser = await chromium.launch({ executablePath: BROWSER, headless: true,
                                      args: ['--headless', '--no-sandbox'] });
    context = await browser.newContext();
    context.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    // Always, whatever failed above: the browser, the website, the server.
    await browser?.close().catch(() => {});
    if (site) {
      const closed = new Promise((r) => site.close(r));
      site.closeAllConnections();
      await closed;
    }
    await custodian?.stop(state.failed);
  });

  step('(a) the first visit shows the banner with the policy\'s categories', async () => {
    ({ page, posts } = await openSite(context));
    const banner = page.locator('#custodian-cookie-banner');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('role'), 'dialog');
    assert.match(await banner.innerText(), new RegExp(ANALYTICS_LABEL));
    const necessary = banner.locator('input[data-category="strictly_necessary"]');
    assert.equal(await necessary.isChecked(), true);
    assert.equal(await necessary.isDisabled(), true);
    const analytics = banner.locator('input[data-category="analytics"]');
    assert.equal(await analytics.isChecked(), false);
    assert.equal(await analytics.isEnabled(), true);
    for (const action of ['all', 'none', 'chosen']) {
      assert.equal(await banner.locator(`button[data-action="${action}"]`).count(), 1, action);
    }
    assert.equal(await page.evaluate(() => window.custodianCookies), undefined);
    assert.equal(await stored(page), null);
  });

  step('(b) "Save my choices" records the choice with custodian, cross-origin', async () => {
    await page.locator('#custodian-cookie-banner input[data-category="analytics"]').check();
    const response = await choose(page, 'chosen');
    assert.equal(response.status(), 201, await response.text());
    // A real cross-origin request: the page's origin is not custodian's.
    const origin = await response.request().headerValue('origin');
    assert.equal(origin, new URL(siteUrl).origin);
    assert.notEqual(origin, new URL(api).origin);
    assert.equal(await response.headerValue('access-control-allow-origin'), '*');

    await page.locator('#custodian-cookie-banner').waitFor({ state: 'detached' });
    await page.waitForFunction(() => window.custodianCookies !== undefined);
    const exposed = await page.evaluate(() => window.custodianCookies);
    assert.deepEqual(exposed.choices, { strictly_necessary: true, analytics: true });
    assert.equal(exposed.tenant, TENANT);
    assert.match(exposed.visitor, /^[0-9a-f]{32}$/);
    policyVersion = exposed.policy_version;
    assert.ok(policyVersion);
    first = await stored(page);
    assert.deepEqual(first, exposed);
    assert.deepEqual(await page.evaluate(() => window.cookieEvents), [exposed]);
    assert.equal(posts.length, 1);

    const recorded = await evidence(first.visitor);
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0].policy_version, policyVersion);
    assert.deepEqual(recorded[0].choices, { strictly_necessary: true, analytics: true });
    // The JSON POST needed a CORS preflight, and custodian answered it.
    await eventually('the preflight in the access log', () =>
      custodian.accessLog().some((l) => l.method === 'OPTIONS' && l.route === '/v1/cookies/consents'));
  });

  step('(c) a reload honours the stored choice: no banner, no new record', async () => {
    await page.reload();
    await page.waitForFunction(() => window.custodianCookies !== undefined);
    // The banner script has run (it exposed the choice) and took the stored path.
    assert.equal(await page.locator('#custodian-cookie-banner').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.custodianCookies), first);
    assert.deepEqual(await page.evaluate(() => window.cookieEvents), [first]);
    assert.equal(posts.length, 1, 'the reload posted a choice again');
    assert.equal((await evidence(first.visitor)).length, 1);
  });

  step('(d) a fresh browser profile is asked again; "Reject all" is recorded', async () => {
    const fresh = await browser.newContext();
    fresh.setDefaultTimeout(WAIT_MS);
    try {
      const { page: other } = await openSite(fresh);
      const banner = other.locator('#custodian-cookie-banner');
      await banner.waitFor({ state: 'visible' });
      const response = await choose(other, 'none');
      assert.equal(response.status(), 201, await response.text());
      await banner.waitFor({ state: 'detached' });
      await other.waitForFunction(() => window.custodianCookies !== undefined);
      const exposed = await other.evaluate(() => window.custodianCookies);
      assert.deepEqual(exposed.choices, { strictly_necessary: true, analytics: false });
      assert.notEqual(exposed.visitor, first.visitor);
      const recorded = await evidence(exposed.visitor);
      assert.equal(recorded.length, 1);
      assert.deepEqual(recorded[0].choices, { strictly_necessary: true, analytics: false });
      assert.equal((await evidence(first.visitor)).length, 1);
    } finally {
      await fresh.close();
    }
  });

  step('(e) a choice stored for another policy version asks again, same visitor', async () => {
    // As if the choice had been made under an older policy.
    await page.evaluate(([key, record]) => window.localStorage.setItem(key, JSON.stringify(record)),
                        [`custodian-cookies:${TENANT}`, { ...first, policy_version: '1999.1' }]);
    await page.reload();
    const banner = page.locator('#custodian-cookie-banner');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => window.custodianCookies), undefined);
    const response = await choose(page, 'all');
    assert.equal(response.status(), 201, await response.text());
    await banner.waitFor({ state: 'detached' });
    await page.waitForFunction(() => window.custodianCookies !== undefined);
    const exposed = await page.evaluate(() => window.custodianCookies);
    assert.equal(exposed.visitor, first.visitor);  // the visitor id is kept
    assert.equal(exposed.policy_version, policyVersion);
    const recorded = await evidence(first.visitor);
    assert.equal(recorded.length, 2);  // append-only: both choices are evidence
  });
});
