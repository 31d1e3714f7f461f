// Drives the Strongbox web UI in headless Chromium against a freshly started, empty appliance:
// first-start setup of the administrator, a group, a collection with a write grant, a staff and
// an auditor account (all through the Admin page); the staff user uploads a PDF, watches its
// ingest progress, asks, reads the streamed answer, opens a citation and sees the cited region
// highlighted on the rendered page; the auditor finds that question in the Audit page and
// switches the interface to Korean; last, the disk fills (the server's I/O fault injector, switched
// on by creating <disk-full-switch>) and the Admin page says the appliance is read-only and why.
// Screenshots at laptop and tablet sizes go to <out-dir>. Exits non-zero on the first expectation
// that fails.
// Usage: node browser_test.mjs <base-url> <out-dir> <pdf> <disk-full-switch>
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [baseUrl, outDir, pdf, diskFull] = process.argv.slice(2);
if (!baseUrl || !outDir || !pdf || !diskFull) {
  console.error('usage: node browser_test.mjs <base-url> <out-dir> <pdf> <disk-full-switch>');
  process.exit(2);
}

const LAPTOP = { width: 1366, height: 768 };
const TABLET = { width: 820, height: 1180 };
const ADMIN = { name: 'admin', password: 'correct horse battery' };
const STAFF = { name: 'dana', password: 'staff password 1' };
const AUDITOR = { name: 'ava', password: 'auditor password 1' };
const GROUP = 'operations';
const COLLECTION = 'ops-manuals';
const QUESTION = 'How long are nightly backups kept?';

// Every English string needs its Korean counterpart; a missing one would show English mid-page.
const here = path.dirname(fileURLToPath(import.meta.url));
const { MESSAGES } = await import(path.join(here, '../../webui/assets/i18n.js'));
const missing = (a, b) => Object.keys(MESSAGES[a]).filter((key) => !(key in MESSAGES[b]));
assert.deepEqual(missing('en', 'ko'), [], 'English strings without a Korean translation');
assert.deepEqual(missing('ko', 'en'), [], 'Korean strings without an English original');

const started = Date.now();
const step = (what) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);
const shot = (page, name) => page.screenshot({ path: path.join(outDir, name), fullPage: false });

const browser = await chromium.launch({
  executablePath: process.env.STRONGBOX_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: LAPTOP, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // CSP violations, script errors and failed requests surface here; a finished page has none.
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  // Nothing may leave the appliance: every request goes to the page's own origin.
  const origin = new URL(baseUrl).origin;
  page.on('request', (req) => { if (!req.url().startsWith(origin)) problems.push(`foreign request: ${req.url()}`); });

  const navTexts = () => page.$$eval('#nav a', (links) => links.map((a) => a.textContent));
  const signIn = async (user) => {
    await page.waitForSelector('#login-name');
    await page.fill('#login-name', user.name);
    await page.fill('#login-password', user.password);
    await page.click('#auth-submit');
    await page.waitForSelector('#logout', { state: 'visible' });
  };
  const signOut = async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-name');
  };

  // ---- first start: the setup page creates the administrator ----
  step('setup');
  await page.goto(baseUrl);
  // The page is drawn once /api/v1/me answers, after the load event goto waits for.
  await page.waitForSelector('#setup-name');
  assert.equal(await page.title(), 'Set up Strongbox · Strongbox');
  // The sign-in page refuses to be skipped: any route leads back to setup while no user exists.
  // Mark the form drawn so far, so that the fields filled below are the redrawn ones.
  await page.$eval('#setup-name', (input) => { input.dataset.drawn = 'before'; });
  await page.goto(`${baseUrl}#/audit`);
  await page.waitForSelector('#setup-name:not([data-drawn])');
  assert.equal(new URL(page.url()).hash, '#/setup');
  await page.fill('#setup-name', ADMIN.name);
  await page.fill('#setup-password', ADMIN.password);
  await page.fill('#setup-password-again', `${ADMIN.password}x`);
  await page.click('#auth-submit');
  await page.waitForSelector('#auth-error:has-text("passwords differ")');
  await page.fill('#setup-password-again', ADMIN.password);
  await page.click('#auth-submit');
  await page.waitForSelector('#nav-admin');
  assert.deepEqual(await navTexts(), ['Ask', 'Documents', 'Audit', 'Admin']);

  // ---- admin: group, collection, grant, accounts ----
  step('admin: group, collection, grant, users');
  await page.click('#nav-admin');
  await page.fill('#new-group-name', GROUP);
  await page.click('#add-group button[type=submit]');
  await page.waitForSelector(`#groups li:text-is("${GROUP}")`);
  await page.click('#tab-collections');
  await page.fill('#new-collection-name', COLLECTION);
  await page.click('#add-collection button[type=submit]');
  const card = `section[data-collection="${COLLECTION}"]`;
  await page.selectOption(`${card} select[data-group="${GROUP}"]`, 'write');
  await page.click(`${card} .form-actions button`);
  await page.waitForSelector(`.toast:has-text("Access to ${COLLECTION} saved")`);
  await page.click('#tab-users');
  for (const [user, role, groups] of [[STAFF, 'staff', [GROUP]], [AUDITOR, 'auditor', []]]) {
    await page.fill('#new-user-name', user.name);
    await page.fill('#new-user-password', user.password);
    await page.selectOption('#new-user-role', role);
    for (const g of groups) await page.check(`#new-user-groups input[value="${g}"]`);
    await page.click('#add-user button[type=submit]');
    await page.waitForSelector(`#users tr[data-user="${user.name}"]`);
  }
  assert.equal(await page.inputValue(`#users tr[data-user="${STAFF.name}"] .groups-input`), GROUP);
  await shot(page, 'laptop-admin-users.png');

  // The settings form labels each setting from the server's declaration: words and a unit, the
  // help beside it, the range on the input.
  await page.click('#tab-settings');
  await page.waitForSelector('#setting-session_hours');
  assert.equal(await page.textContent('label[for="setting-session_hours"]'), 'Session length (hours)');
  assert.equal(await page.getAttribute('#setting-session_hours', 'max'), '720');
  await page.waitForSelector('.field-hint:has-text("How long a console sign-in lasts")');
  const order = await page.$$eval('#settings-form input', (inputs) => inputs.map((i) => i.name));
  assert.deepEqual(order.slice(0, 2), ['top_k', 'min_question_coverage'], 'settings follow the declared order');
  await page.fill('#setting-session_hours', '12');
  await page.click('#settings-save');
  await page.waitForSelector('#settings-status:has-text("Restart Strongbox to apply: session_hours")');
  await shot(page, 'laptop-admin-settings.png');
  await signOut();

  // ---- staff: upload a PDF and follow its ingest ----
  step('staff: upload');
  await signIn(STAFF);
  assert.deepEqual(await navTexts(), ['Ask', 'Documents'], 'staff see only what they may use');
  await page.click('#nav-documents');
  await page.waitForSelector(`#doc-collection option[value="${COLLECTION}"]`, { state: 'attached' });
  await page.selectOption('#doc-collection', COLLECTION);
  await page.setInputFiles('#file-input', pdf);
  const upload = `#uploads li.upload[data-name="${path.basename(pdf)}"]`;
  await page.waitForSelector(upload);
  await page.waitForSelector(`${upload}:is([data-state="added"], [data-state="new_version"], [data-state="failed"])`,
    { timeout: 40000 });
  assert.equal(await page.getAttribute(upload, 'data-state'), 'added',
    `ingest failed: ${await page.textContent(upload)}`);
  assert.match(await page.textContent(`${upload} .upload-detail`), /4 of 4 pages/);
  await page.waitForSelector(`#documents tr:has-text("${path.basename(pdf)}")`);
  await shot(page, 'laptop-documents.png');

  // ---- staff: ask, watch the answer stream in, open the citation ----
  step('staff: ask');
  await page.click('#nav-ask');
  await page.waitForSelector(`#collection option[value="${COLLECTION}"]`, { state: 'attached' });
  // Record how the answer area changes while the stream arrives: preview text first, then the
  // final answer with its sentence marks. Mutation records keep every step even when several
  // events arrive in one network read.
  await page.evaluate(() => {
    window.answerSteps = [];
    const kind = (node) => (node.nodeType === 1 && node.classList.contains('streaming') ? 'preview'
      : node.nodeType === 1 && node.querySelector('.sentence') ? 'final' : null);
    new MutationObserver((records) => {
      for (const record of records) {
        const inPreview = record.target.nodeType === 1 ? record.target.closest('.streaming')
          : record.target.parentElement && record.target.parentElement.closest('.streaming');
        if (inPreview) window.answerSteps.push('preview');
        for (const node of record.addedNodes) {
          const k = kind(node);
          if (k) window.answerSteps.push(k);
        }
      }
    }).observe(document.getElementById('answer'), { childList: true, subtree: true, characterData: true });
  });
  await page.fill('#question', QUESTION);
  await page.press('#question', 'Enter');
  await page.waitForSelector('#answer button.cite');
  await page.waitForSelector('#progress', { state: 'hidden' });
  const steps = await page.evaluate(() => window.answerSteps);
  assert.ok(steps.includes('preview'), `the answer streams in before it is final (saw ${steps.join(',')})`);
  assert.equal(steps[steps.length - 1], 'final');
  assert.match(await page.textContent('#answer'), /35 days/);
  // A quote is supported by construction: the page says it is quoted and how sure the answer is.
  assert.ok(await page.$('#answer .sentence.quoted'), 'quoted sentences are marked as quotes');
  assert.match(await page.textContent('#answer-meta'), /quoted verbatim, (high|medium) confidence/);
  assert.ok(await page.$eval('#support-legend', (e) => e.hidden), 'no supported/unsupported legend for quotes');
  assert.match(await page.textContent('#sources li.source .location'), /operations-guide\.pdf/);
  await page.waitForSelector(`#history .history-question:text-is("${QUESTION}")`);

  await page.click('#answer button.cite >> nth=0');
  await page.waitForSelector('#page-figure.loaded .page-highlight');
  assert.equal(await page.getAttribute('#viewer', 'data-kind'), 'pdf');
  // The highlight sits where the cited box is on the page: its offset within the rendered image
  // is the box's PDF coordinates scaled by image size / page size.
  const geometry = await page.evaluate(() => {
    const image = document.getElementById('page-image').getBoundingClientRect();
    const marks = [...document.querySelectorAll('#page-figure .page-highlight')];
    return marks.map((mark) => {
      const r = mark.getBoundingClientRect();
      return { box: { ...mark.dataset }, image: { x: image.x, y: image.y, w: image.width, h: image.height },
        mark: { x: r.x, y: r.y, w: r.width, h: r.height } };
    });
  });
  const view = await page.evaluate(async () => {
    const chunk = document.getElementById('page-image').src.match(/source\/(\d+)\//)[1];
    const response = await fetch(`/api/v1/source/${chunk}`);
    return response.json();
  });
  assert.ok(geometry.length >= 1, 'at least one highlighted region');
  for (const { box, image, mark } of geometry) {
    const sx = image.w / view.page_width;
    const sy = image.h / view.page_height;
    assert.ok(Math.abs(mark.x - image.x - Number(box.x0) * sx) < 1.5, 'highlight left edge');
    assert.ok(Math.abs(mark.y - image.y - Number(box.y0) * sy) < 1.5, 'highlight top edge');
    assert.ok(Math.abs(mark.w - (Number(box.x1) - Number(box.x0)) * sx) < 1.5, 'highlight width');
    assert.ok(mark.w > 4 && mark.h > 4, 'highlight has a visible size');
    assert.ok(mark.y + mark.h <= image.y + image.h + 0.5 && mark.x + mark.w <= image.x + image.w + 0.5, 'inside the page');
  }
  // The page image is the real rendering: a PNG whose aspect ratio is the PDF page's.
  const natural = await page.$eval('#page-image', (img) => ({ w: img.naturalWidth, h: img.naturalHeight }));
  assert.ok(Math.abs(natural.w / natural.h - view.page_width / view.page_height) < 0.01, 'page image keeps the page shape');
  await page.waitForTimeout(300);  // let the scroll into view settle before the picture
  await shot(page, 'laptop-ask-citation.png');

  await page.setViewportSize(TABLET);
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `tablet layout scrolls sideways by ${overflow} px`);
  await page.waitForSelector('#page-figure.loaded .page-highlight');
  await shot(page, 'tablet-ask-citation.png');
  await page.click('#viewer-close');
  await shot(page, 'tablet-ask.png');
  await page.setViewportSize(LAPTOP);
  await signOut();

  // ---- auditor: the question is in the audit trail ----
  step('auditor: audit record');
  await signIn(AUDITOR);
  assert.deepEqual(await navTexts(), ['Audit'], 'auditors see only the audit trail');
  await page.waitForSelector('#audit-filters');
  await page.fill('#audit-text', 'nightly backups');
  await page.click('#audit-search');
  // The unfiltered list drawn on arrival holds this question too: wait for the filter to narrow it.
  await page.waitForFunction((question) => {
    const rows = [...document.querySelectorAll('#audit-records tr.record-row')];
    return rows.length === 1 && rows[0].textContent.includes(question);
  }, QUESTION);
  const row = `#audit-records tr.record-row:has-text("${QUESTION}")`;
  assert.match(await page.textContent(row), new RegExp(STAFF.name));
  await page.click(row);
  await page.waitForSelector('#record-citations li');
  assert.match(await page.textContent('#audit-record'), /35 days/);
  assert.match(await page.getAttribute('#export-csv', 'href'), /format=csv.*text=nightly/);
  await shot(page, 'laptop-audit.png');

  // ---- Korean, remembered for this user by the server ----
  step('auditor: Korean');
  await page.selectOption('#language', 'ko');
  await page.waitForSelector('#nav-audit:text-is("감사")');
  assert.equal(await page.textContent('.page-audit h1'), '감사');
  assert.equal(await page.textContent('#logout'), '로그아웃');
  assert.equal(await page.getAttribute('html', 'lang'), 'ko');
  await page.reload();
  await page.waitForSelector('#nav-audit:text-is("감사")');
  await page.setViewportSize(TABLET);
  await page.click(row);
  await page.waitForSelector('#record-citations li');
  await shot(page, 'tablet-audit-ko.png');
  await page.setViewportSize(LAPTOP);
  await signOut();
  assert.equal(await page.textContent('#auth-submit'), '로그인');
  assert.deepEqual(problems, [], 'the page logged errors or reached outside the appliance');

  // ---- admin: the disk fills; the change is refused and the Admin page says why ----
  step('admin: full disk');
  await signIn(ADMIN);
  await page.click('#nav-admin');
  await page.click('#tab-collections');
  fs.writeFileSync(diskFull, '');
  await page.fill('#new-collection-name', 'overflow');
  await page.click('#add-collection button[type=submit]');
  await page.waitForSelector('#add-collection .notice-error:has-text("read-only")');
  await page.reload();
  await page.waitForSelector('#read-only-banner', { state: 'visible' });
  assert.match(await page.textContent('#read-only-reason'), /create collection overflow: database or disk is full/);
  await page.waitForSelector('#status.warn #status-text:has-text("read-only, disk full")');
  await page.waitForSelector(`section[data-collection="${COLLECTION}"]`);
  assert.equal(await page.$('section[data-collection="overflow"]'), null, 'the refused collection was not created');
  await shot(page, 'laptop-admin-read-only.png');
  fs.unlinkSync(diskFull);
  // The browser reports the refusal (507) as a failed resource; nothing else may have gone wrong.
  assert.deepEqual(problems.filter((p) => !/status of 507/.test(p)), [], 'the page logged errors or reached outside the appliance');
  step(`browser test passed; screenshots in ${outDir}`);
} catch (err) {
  failed = true;
  console.error(`browser test failed: ${err.stack || err.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
