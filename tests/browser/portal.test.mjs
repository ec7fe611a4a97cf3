// The privacy portal (GET /portal/{tenant}, web/portal.html and portal.js) in
// headless Chromium, driven by playwright-core, against the real binary: a
// person asks for a code, the server's outbox delivers it to a fake Telnyx
// (a node:http server standing in for api.telnyx.com), a wrong code is
// refused on the page, the right one signs in, an access request is carried
// out at once and its export downloads once, a consent withdrawal is
// recorded, a consent is given and withdrawn with a click, and signing out
// ends the session.
//
// CTest runs this as browser.Portal (CMakeLists.txt); see harness.mjs for the
// environment. No step sleeps: every wait is playwright's auto-waiting or an
// explicit wait for a condition.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { BROWSER, Custodian, WAIT_MS, eventually, policyFile, steps } from './harness.mjs';

const TENANT = 'interjet';
const PHONE = '98450 55530';        // Meera's, on file as +919845055530
const PHONE_E164 = '+919845055530';

// A stand-in for Telnyx's messaging API: records every message sent.
function startTelnyx(sent) {
  const telnyx = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      try { sent.push(JSON.parse(body)); } catch { sent.push({ raw: body }); }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: { id: `tlx-${sent.length}` } }));
    });
  });
  return new Promise((resolve) =>
    telnyx.listen(0, '127.0.0.1', () => resolve({ telnyx, url: `http://127.0.0.1:${telnyx.address().port}` })));
}

// The Ed25519 public key of a fresh key pair, standard base64 (a Telnyx account's key).
function telnyxPublicKey() {
  const { publicKey } = generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}

describe('privacy portal in headless Chromium', () => {
  const state = steps();
  const { step } = state;
  const sent = [];  // messages the fake Telnyx received
  let custodian;
  let telnyx;
  let browser;
  let page;
  let api;
  let adminKey;
  let subject;

  // The newest portal code sent to the phone on file.
  const codes = () => sent.filter((m) => m.to === PHONE_E164 && /portal code is \d{6}/.test(m.text))
    .map((m) => /portal code is (\d{6})/.exec(m.text)[1]);

  before(async () => {
    custodian = new Custodian();
    custodian.run('init');
    custodian.run('tenant', 'create', TENANT, '--policy', policyFile(TENANT));
    adminKey = JSON.parse(custodian.run('apikey', 'create', TENANT, '--role', 'admin',
                                        '--name', 'browser-test', '--json')).key;
    let url;
    ({ telnyx, url } = await startTelnyx(sent));
    const settings = join(custodian.dir, 'channels.json');
    writeFileSync(settings, JSON.stringify({
      telnyx: { public_key: telnyxPublicKey(), api_key: 'KEY-test', base_url: url, from: '+918040001000' },
    }));
    custodian.run('channels', 'set', TENANT, settings);
    api = await custodian.serve();
    const added = await fetch(`${api}/v1/subjects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ fields: { 'user.name': 'Meera Iyer', 'user.contact.phone_number': PHONE },
                             external_id: 'CUST-BROWSER' }),
    });
    assert.equal(added.status, 201, await added.clone().text());
    subject = (await added.json()).id;
    browser = await chromium.launch({ executablePath: BROWSER, headless: true,
                                      args: ['--headless', '--no-sandbox'] });
    const context = await browser.newContext({ acceptDownloads: true });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (telnyx) {
      const closed = new Promise((r) => telnyx.close(r));
      telnyx.closeAllConnections();
      await closed;
    }
    await custodian?.stop(state.failed);
  });

  step('(a) the page shows the organization and asks for a contact', async () => {
    const response = await page.goto(`${api}/portal/${TENANT}`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    assert.equal(await page.title(), 'Interjet privacy portal');
    await page.locator('#contact-form').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#home').isVisible(), false);
  });

  step('(b) a code goes to the phone on file; a wrong one is refused on the page', async () => {
    await page.locator('#contact-kind').selectOption('phone');
    await page.locator('#contact').fill(PHONE);
    await page.locator('#contact-form button').click();
    await page.locator('#code-form').waitFor({ state: 'visible' });
    assert.match(await page.locator('#code-sent').innerText(),
                 /If this number is on file with us, a code is on its way to it/);
    const code = await eventually('the code to reach Telnyx', () => codes()[0]);
    await page.locator('#code').fill(code === '000000' ? '111111' : '000000');
    await page.locator('#code-form button').click();
    await page.locator('#start-error', { hasText: 'wrong or expired code (4 attempts left)' })
      .waitFor();
  });

  step('(c) the right code signs in and shows the rights and choices', async () => {
    await page.locator('#code').fill(codes()[0]);
    await page.locator('#code-form button').click();
    await page.locator('#home').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#no-requests').isVisible(), true);
    const types = await page.locator('#request-type option').evaluateAll(
      (options) => options.map((o) => o.value));
    assert.deepEqual(types, ['access', 'correction', 'erasure', 'consent_withdrawal', 'grievance']);
    assert.ok(await page.locator('#consents tbody tr').count() > 0);
    // The session cookie is HttpOnly: the page's script cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
  });

  step('(d) an access request is carried out at once and downloads once', async () => {
    await page.locator('#request-type').selectOption('access');
    await page.locator('#request-form button').click();
    await page.locator('#request-result', { hasText: 'completed' }).waitFor();
    const link = page.locator('#requests tbody tr a', { hasText: 'Download your data' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /^custodian-export-req_[a-z2-9]+\.zip$/);
    const again = await fetch(new URL(await link.getAttribute('href'), api));
    assert.equal(again.status, 410);
  });

  step('(e) a consent withdrawal is recorded in the ledger', async () => {
    await page.locator('#request-type').selectOption('consent_withdrawal');
    await page.locator('#purpose-field').waitFor({ state: 'visible' });
    await page.locator('#request-form button').click();
    await page.locator('#request-result', { hasText: 'completed' }).waitFor();
    // The list is drawn again after the answer: wait for the second row.
    await page.locator('#requests tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('#requests tbody tr').count(), 2);
    const r = await fetch(`${api}/v1/requests?open=false`,
                          { headers: { Authorization: `Bearer ${adminKey}` } });
    const mine = (await r.json()).requests.filter((q) => q.subject === subject);
    assert.deepEqual(mine.map((q) => [q.type, q.state]).sort(),
                     [['access', 'completed'], ['consent_withdrawal', 'completed']]);
  });

  step('(f) a consent is given and withdrawn with one click each', async () => {
    const row = page.locator('#consents tbody tr[data-purpose="marketing.communications"]');
    await row.locator('button', { hasText: 'Give consent' }).click();
    await page.locator('#consent-result', { hasText: 'consent given' }).waitFor();
    await row.locator('button', { hasText: 'Withdraw consent' }).waitFor();
    assert.match(await row.innerText(), /granted/);
    await row.locator('button', { hasText: 'Withdraw consent' }).click();
    await page.locator('#consent-result', { hasText: 'consent withdrawn' }).waitFor();
    await row.locator('button', { hasText: 'Give consent' }).waitFor();
    const r = await fetch(`${api}/v1/subjects/${subject}/consents`,
                          { headers: { Authorization: `Bearer ${adminKey}` } });
    const history = (await r.json()).history.filter((e) => e.purpose === 'marketing.communications');
    assert.deepEqual(history.map((e) => [e.state, e.source]).slice(-2),
                     [['granted', 'portal'], ['withdrawn', 'portal']]);
  });

  step('(g) signing out ends the session', async () => {
    await page.locator('#sign-out').click();
    await page.locator('#start-error', { hasText: 'You are signed out.' }).waitFor();
    assert.equal(await page.locator('#home').isVisible(), false);
    const status = await page.evaluate(async (tenant) =>
      (await fetch(`/v1/portal/${tenant}/me`, { credentials: 'same-origin' })).status, TENANT);
    assert.equal(status, 401);
  });
});
