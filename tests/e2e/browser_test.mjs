// Drives the Strongbox web UI in headless Chromium: ask, read the cited answer, open a citation,
// see the passage highlighted in its source, and see the refusal state. Exits non-zero on the
// first expectation that fails. Usage: node browser_test.mjs <base-url> <screenshot-dir>
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';

const [baseUrl, shotDir] = process.argv.slice(2);
if (!baseUrl || !shotDir) {
  console.error('usage: node browser_test.mjs <base-url> <screenshot-dir>');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.STRONGBOX_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(15000);
  // CSP violations and script errors surface here; a finished page has none.
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });

  await page.goto(baseUrl);
  assert.equal(await page.title(), 'Strongbox');
  await page.waitForSelector('#status.ok');
  assert.match(await page.textContent('#status-text'), /3 documents/);

  // Ask with the keyboard, as people do.
  await page.fill('#question',
    'Is there a role for leukocyte and CRP measurements in the diagnosis of acute appendicitis in the elderly?');
  await page.press('#question', 'Enter');
  await page.waitForSelector('#answer button.cite');
  await page.waitForSelector('#progress', { state: 'hidden' });
  const answer = await page.textContent('#answer');
  assert.match(answer, /appendicitis/i);
  assert.match(answer, /\[1\]/);
  const sources = await page.$$eval('#sources li.source', (items) => items.map((li) => ({
    location: li.querySelector('.location').textContent,
    quote: li.querySelector('blockquote').textContent,
  })));
  assert.ok(sources.length >= 1, 'the numbered source list is shown');
  assert.match(sources[0].location, /^pubmed-10340286\.txt lines \d+-\d+$/);
  assert.ok(await page.isHidden('#refusal'), 'an answered question shows no refusal');

  // Clicking the first citation opens the viewer with the quoted sentence highlighted in context.
  await page.click('#answer button.cite >> nth=0');
  await page.waitForSelector('#viewer-body mark');
  const words = (text) => text.trim().split(/\s+/).join(' ');
  assert.equal(words(await page.textContent('#viewer-body mark')), words(sources[0].quote));
  assert.ok((await page.$$('#viewer-body .context')).length >= 1, 'surrounding paragraphs are shown');
  assert.equal(await page.textContent('#viewer-title'), sources[0].location);
  assert.match(await page.textContent('#viewer-meta'), /pubmed-10340286\.txt/);
  assert.ok(await page.$eval('#source-1', (li) => li.classList.contains('active')), 'the cited source is marked');
  await page.screenshot({ path: path.join(shotDir, 'webui-answer.png'), fullPage: true });

  // A question the documents do not address shows the refusal state.
  await page.fill('#question', 'What is the boiling point of tungsten?');
  await page.click('#ask-button');
  await page.waitForSelector('#refusal', { state: 'visible' });
  assert.match(await page.textContent('#refusal'), /Not found in the indexed documents/);
  assert.ok(await page.isHidden('#viewer'), 'a new question closes the source viewer');
  assert.ok(await page.isHidden('#sources-section'), 'a refusal lists no sources');
  await page.screenshot({ path: path.join(shotDir, 'webui-refusal.png'), fullPage: true });

  assert.deepEqual(problems, [], 'the page logged errors');
  console.log(`browser test passed; screenshots in ${shotDir}`);
} catch (err) {
  failed = true;
  console.error(`browser test failed: ${err.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
