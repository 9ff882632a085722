#!/usr/bin/env node
// Runs the benchmark suite in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is downloaded). A small static server on 127.0.0.1 serves the bench
// page, the bench modules from the wasm build and onnxruntime-web from node_modules, with
// cross-origin isolation headers so that performance.now() has its fine resolution. Prints the
// tables and writes bench/results/chromium.json (read by bench/report.mjs).
//
//   node bench/browser.mjs [--reps N] [--quick] [--out FILE]   (options as bench/run.mjs)
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { markdown } from './analyze.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CHROMIUM = process.env.QPLAY_CHROMIUM ?? '/usr/bin/chromium';
// The flags shared/reference/toolchain.md lists for Debian's chromium under playwright-core.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// The checkout measured ("abc1234" or "abc1234-dirty"), so a results table names its code.
function commitOf(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function parseArgs(argv) {
  const opts = { reps: 7, quick: false, out: path.join(here, 'results', 'chromium.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--quick') opts.quick = true;
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else {
      process.stderr.write(`browser.mjs: unknown option '${a}'\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.reps) || opts.reps < 1) {
    process.stderr.write('browser.mjs: --reps needs a positive integer\n');
    process.exit(2);
  }
  return opts;
}

// URL prefix -> directory. Nothing outside these directories is served.
const ROUTES = [
  ['/bench/', here],
  ['/build/', process.env.QPLAY_BENCH_DIR ?? path.join(root, 'build', 'wasm', 'bench')],
  ['/ort/', path.join(root, 'node_modules', 'onnxruntime-web', 'dist')],
];
const MIME = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json' };

function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let file = null;
    if (url.pathname === '/') file = path.join(here, 'page.html');
    for (const [prefix, dir] of ROUTES) {
      if (!file && url.pathname.startsWith(prefix)) {
        const candidate = path.resolve(dir, '.' + path.posix.normalize('/' + decodeURIComponent(url.pathname.slice(prefix.length))));
        if (candidate.startsWith(dir + path.sep)) file = candidate;
      }
    }
    const info = file && (await stat(file).catch(() => null));
    if (!info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      // Cross-origin isolation: 5 us performance.now() instead of 100 us.
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const opts = parseArgs(process.argv.slice(2));
const log = (line) => process.stderr.write(`${line}\n`);
const server = await serve();
const port = server.address().port;
let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  page.on('console', (msg) => log(msg.text()));
  page.on('pageerror', (err) => log(`page error: ${err.message}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
  const result = await page.evaluate((o) => window.runBench(o), { reps: opts.reps, quick: opts.quick });
  result.env = {
    runtime: `Chromium ${browser.version()} (headless, ${CHROMIUM})`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`,
    load: os.loadavg().map((v) => v.toFixed(1)).join(' '),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    commit: commitOf(root),
  };
  await mkdir(path.dirname(opts.out), { recursive: true });
  await writeFile(opts.out, JSON.stringify(result, null, 1) + '\n');
  process.stdout.write(markdown(result, 'Chromium') + '\n');
  log(`bench (chromium): wrote ${path.relative(process.cwd(), opts.out)}`);
} finally {
  await browser?.close();
  server.close();
}
