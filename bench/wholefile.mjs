#!/usr/bin/env node
// Times the page's whole-file mode on a large .safetensors file in headless Chromium with 1 and
// with 2 workers, and samples the browser's memory while it runs. Writes the figures as JSON.
//
//   /usr/bin/python3 bench/make_big_safetensors.py /tmp/qplay-big.safetensors    (>= 1 GiB, once)
//   node bench/wholefile.mjs [--file /tmp/qplay-big.safetensors] [--reps 3] [--workers 1,2]
//                            [--dtype int8] [--out bench/results/wholefile.json]
//
// Each repetition opens a fresh page, gives it the file (setInputFiles: Chromium reads it from
// disk, File.slice by File.slice), picks the worker count and runs "Quantize all"; the worker
// counts alternate within a repetition so both see the same machine load. The time is the page's
// own (from the click to the last byte written, data-seconds). The output goes through the File
// System Access path the page uses in Chromium (showSaveFilePicker + createWritable), with the
// picker replaced by a writable that counts the bytes and drops them, so disk speed stays out of
// the figures. Memory: every 100 ms the proportional set size (Pss, /proc/PID/smaps_rollup) of all
// the browser's processes is summed; the peak and the idle level before the run are reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launch, openPage, repo } from '../tests/e2e/harness.mjs';

function parseArgs(argv) {
  const o = { file: '/tmp/qplay-big.safetensors', reps: 3, workers: [1, 2], dtype: 'int8', out: path.join(repo, 'bench', 'results', 'wholefile.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--file') o.file = v();
    else if (a === '--reps') o.reps = Number(v());
    else if (a === '--workers') o.workers = v().split(',').map(Number);
    else if (a === '--dtype') o.dtype = v();
    else if (a === '--out') o.out = v();
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

// The browser's processes (renderers, GPU and utility processes): the chromium processes among
// this script's descendants (playwright starts the browser as a child).
function browserPids(root = process.pid) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    try {
      if (/chrom/.test(fs.readFileSync(`/proc/${p}/comm`, 'utf8'))) out.push(p);
    } catch {
      // ended
    }
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

function pssBytes(pids) {
  let total = 0;
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // ended
    }
  }
  return total;
}

// CPU time (user + system, all threads) the browser's processes have used so far, in seconds.
function cpuSeconds(pids) {
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // ended
    }
  }
  return ticks / 100;  // USER_HZ
}

function sampler() {
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, pssBytes(browserPids())); }, 100);
  return { stop: () => { clearInterval(timer); return peak; } };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function once(browser, origin, o, workers) {
  const page = await openPage(browser, origin);
  // The File System Access path with a counting, discarding file (see the header).
  await page.context().addInitScript(() => {
    window.showSaveFilePicker = async ({ suggestedName }) => ({
      name: suggestedName,
      async createWritable() {
        window.__written = 0;
        return {
          // The page writes {type: 'write', position, data} (chunks at their offsets).
          async write(chunk) { window.__written += chunk.data.byteLength; },
          async close() {},
          async abort() {},
        };
      },
    });
  });
  await page.goto(`${origin}/#dtype=${o.dtype}`);
  await page.waitForFunction(() => Number(document.querySelector('quant-playground')?.dataset.runs ?? 0) > 0 && document.querySelector('quant-playground').idle, null, { timeout: 60000 });
  const pg = page.locator('quant-playground');
  await pg.getByLabel('Choose a file…').setInputFiles(o.file);
  await page.waitForSelector('.qp-wf-table tbody tr', { timeout: 120000 });
  const rows = await page.locator('.qp-wf-table tbody tr').count();
  // The first tensor also opens in the single-tensor view: let that run finish first.
  await page.waitForFunction(() => Number(document.querySelector('quant-playground').dataset.runs) > 1 && document.querySelector('quant-playground').idle, null, { timeout: 120000 });
  await pg.getByLabel('Workers').selectOption(String(workers));
  await new Promise((r) => setTimeout(r, 500));
  const idle = pssBytes(browserPids());
  const cpu0 = cpuSeconds(browserPids());
  const mem = sampler();
  const load = os.loadavg();
  await pg.getByRole('button', { name: /^Quantize all/ }).click();
  await page.waitForFunction(() => Number(document.querySelector('.qp-wholefile')?.dataset.runs ?? 0) > 0, null, { timeout: 1800000 });
  const peak = mem.stop();
  const cpu = cpuSeconds(browserPids()) - cpu0;
  const error = await page.locator('.qp-wholefile .qp-error').textContent();
  if (error) throw new Error(`the run failed: ${error}`);
  const r = await page.evaluate(() => {
    const el = document.querySelector('.qp-wholefile');
    return { seconds: Number(el.dataset.seconds), outputBytes: Number(el.dataset.outputBytes), written: window.__written, timing: JSON.parse(el.dataset.timing) };
  });
  if (r.written !== r.outputBytes) throw new Error(`wrote ${r.written} bytes of ${r.outputBytes}`);
  await page.context().close();
  return { workers, rows, ...r, cpuSeconds: cpu, idlePss: idle, peakPss: peak, loadavg: load, loadavgAfter: os.loadavg() };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.file)) throw new Error(`${o.file} is missing: /usr/bin/python3 bench/make_big_safetensors.py ${o.file}`);
  const size = fs.statSync(o.file).size;
  const server = await startServer();
  const browser = await launch();
  const runs = [];
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      // Alternate the order so neither count always runs first.
      const order = rep % 2 ? [...o.workers].reverse() : o.workers;
      for (const w of order) {
        const r = await once(browser, server.origin, o, w);
        runs.push({ rep, ...r });
        const ms = Object.entries(r.timing).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ');
        console.log(`rep ${rep} workers ${w}: ${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(1)} s; summed s: ${ms}), ${(size / 1e6 / r.seconds).toFixed(0)} MB/s, peak Pss ${(r.peakPss / 2 ** 20).toFixed(0)} MiB (idle ${(r.idlePss / 2 ** 20).toFixed(0)} MiB), load ${r.loadavg.map((x) => x.toFixed(2)).join(' ')}`);
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
  const by = (w) => runs.filter((r) => r.workers === w);
  const summary = Object.fromEntries(o.workers.map((w) => [w, {
    medianSeconds: median(by(w).map((r) => r.seconds)),
    medianCpuSeconds: median(by(w).map((r) => r.cpuSeconds)),
    medianPeakPss: median(by(w).map((r) => r.peakPss)),
    maxPeakPss: Math.max(...by(w).map((r) => r.peakPss)),
    medianIdlePss: median(by(w).map((r) => r.idlePss)),
  }]));
  const speedups = [...new Set(runs.map((r) => r.rep))].map((rep) => {
    const one = runs.find((r) => r.rep === rep && r.workers === o.workers[0]);
    const two = runs.find((r) => r.rep === rep && r.workers === o.workers[1]);
    return one && two ? one.seconds / two.seconds : null;
  }).filter(Boolean);
  const result = {
    file: { path: o.file, bytes: size }, dtype: o.dtype, cpus: os.cpus().length, date: new Date().toISOString(),
    runs, summary, medianSpeedup: speedups.length ? median(speedups) : null,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ summary, medianSpeedup: result.medianSpeedup }, null, 2));
}

await main();
