// Shared setup of the browser tests: the project's own dev server (scripts/serve.mjs, strict CSP)
// on a free port, Debian's chromium driven by playwright-core (never a downloaded browser), and a
// page guard that records every request leaving 127.0.0.1, every CSP violation and every console
// error, so each test can assert that none happened.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const data = path.join(repo, 'tests', 'data');
export const screenshots = path.join(repo, 'build', 'screenshots');
export const cli = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
const chromiumPath = process.env.QPLAY_CHROMIUM ?? '/usr/bin/chromium';

// Launch flags for Debian's chromium in a container (shared/reference/toolchain.md).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function checkPrerequisites() {
  const missing = [];
  if (!fs.existsSync(chromiumPath)) missing.push(`${chromiumPath} (bash scripts/bootstrap.sh --browser installs it)`);
  for (const f of ['wasm/qplay_simd.js', 'wasm/qplay_simd.wasm', 'wasm/qplay_baseline.wasm', 'vendor/uPlot.esm.js', 'vendor/katex/katex.mjs']) {
    if (!fs.existsSync(path.join(repo, 'web', f))) missing.push(`web/${f} (bash scripts/build.sh web stages it)`);
  }
  if (!fs.existsSync(cli)) missing.push(`${cli} (bash scripts/build.sh native builds it)`);
  if (missing.length) throw new Error(`e2e prerequisites missing:\n  ${missing.join('\n  ')}`);
}

// Starts scripts/serve.mjs on port 0 and resolves with its origin once it prints where it listens.
export function startServer() {
  const child = spawn(process.execPath, [path.join(repo, 'scripts', 'serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${out}`)), 10000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /http:\/\/localhost:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        // The server binds 127.0.0.1 only; "localhost" may resolve to ::1 first.
        resolve({ origin: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
      }
    });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
}

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
}

// A fresh context and page with the guards installed. `issues` collects what must stay empty.
export async function openPage(browser, origin, { colorScheme = 'light', locale = 'en-US', viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, locale, acceptDownloads: true });
  const issues = { outside: [], csp: [], errors: [] };
  const allowed = new URL(origin);
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.host === allowed.host) return route.continue();
    issues.outside.push(u.href);
    return route.abort();
  });
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.host !== allowed.host && !issues.outside.includes(u.href)) issues.outside.push(u.href);
  });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') issues.errors.push(m.text()); });
  page.on('pageerror', (e) => issues.errors.push(e.message));
  page.issues = issues;
  page.cspViolations = () => page.evaluate(() => window.__cspViolations);
  return page;
}

// Runs the native CLI in tests/data (so the input file name recorded in params.json is the same
// bare name the page uploads) and returns the bytes of the written bundle.
export function cliBundle(tmpDir, args, ext = 'npz') {
  const out = path.join(tmpDir, `cli-${Date.now()}-${Math.random().toString(16).slice(2)}.${ext}`);
  const r = spawnSync(cli, ['quantize', ...args.slice(0, 1), '-o', out, ...args.slice(1)], { cwd: data, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qplay ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return fs.readFileSync(out);
}

// The message of a CLI run that must fail (run in tests/data): its stderr without `qplay: error: `.
export function cliError(args) {
  const r = spawnSync(cli, args, { cwd: data, encoding: 'utf8' });
  if (r.status === 0) throw new Error(`qplay ${args.join(' ')} succeeded, a failure was expected`);
  return r.stderr.trim().replace(/^qplay: error: /, '');
}

// A page or a locator (one part of the page) to build/screenshots/NAME.
export async function screenshot(target, name, options = {}) {
  fs.mkdirSync(screenshots, { recursive: true });
  await target.screenshot({ path: path.join(screenshots, name), ...options });
}
