// Shared by the tests/js suites: the wasm modules (SIMD and baseline) through web/lib/qplay.js, the
// native CLI as the reference, a small reader for the stored zips both write, and the translation of
// a CLI command line into the API's options.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { createQplay } from '../../web/lib/qplay.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const data = path.join(repo, 'tests', 'data');
export const cliPath = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
export const wasmDir = process.env.QPLAY_WASM_DIR ?? path.join(repo, 'build', 'wasm', 'wasm');

export function requireBuilds() {
  assert.ok(fs.existsSync(cliPath), `no CLI at ${cliPath}: build it first (cmake --build build/native) or set QPLAY_CLI`);
  for (const f of ['qplay_simd.js', 'qplay_simd.wasm', 'qplay_baseline.js', 'qplay_baseline.wasm']) {
    assert.ok(fs.existsSync(path.join(wasmDir, f)),
      `no ${f} in ${wasmDir}: build it first (NODE_PATH=/usr/share/nodejs cmake --build build/wasm) or set QPLAY_WASM_DIR`);
  }
}

const modules = new Map();
/** One module instance per flavour ('simd' | 'baseline') and test file. */
export function qplay(flavour = 'simd') {
  if (!modules.has(flavour)) {
    modules.set(flavour, createQplay({ simd: flavour === 'simd' ? 'auto' : 'off', baseUrl: pathToFileURL(`${wasmDir}/`) }));
  }
  return modules.get(flavour);
}

export function fixture(name) {
  return new Uint8Array(fs.readFileSync(path.join(data, name)));
}

export function fixtureNames() {
  return fs.readdirSync(data).filter((f) => fs.statSync(path.join(data, f)).isFile()).sort();
}

let tmp;
let counter = 0;
function tmpFile() {
  tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-js-'));
  counter += 1;
  return path.join(tmp, `cli${counter}.npz`);
}
process.on('exit', () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs `qplay quantize INPUT -o OUT args...` in tests/data: {bytes} or {error} (the message alone).
 * suffix picks the writer by OUT's name ('.gguf'); the default writes an .npz.
 */
export function runCli(input, args, suffix = '') {
  const out = tmpFile() + suffix;
  const r = spawnSync(cliPath, ['quantize', input, '-o', out, ...args], { cwd: data, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status === 0) {
    const bytes = new Uint8Array(fs.readFileSync(out));
    fs.rmSync(out);
    return { bytes };
  }
  const m = /^qplay: error: (.*)\n$/.exec(r.stderr);
  assert.ok(m, `the CLI failed without its one error line (exit ${r.status}): ${JSON.stringify(r.stderr)}`);
  return { error: m[1], status: r.status };
}

// ---- zip and .npy, just enough for the stored archives qplay and numpy write ---------------------

/** Members of a zip archive in central-directory order: [{name, method, data}] (data only when stored). */
export function readZip(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  assert.ok(end >= 0, 'not a zip archive');
  const count = dv.getUint16(end + 10, true);
  let p = dv.getUint32(end + 16, true);
  const members = [];
  const decoder = new TextDecoder();
  for (let k = 0; k < count; k++) {
    assert.equal(dv.getUint32(p, true), 0x02014b50, 'bad central directory entry');
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    members.push({ name, method, data: method === 0 ? bytes.subarray(start, start + csize) : null });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** A little-endian f4 or i4 .npy as {shape, values: Float32Array}. */
export function readNpyF32(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getUint16(8, true);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  const start = 10 + headerLen;
  for (let i = 0; i < n; i++) {
    if (descr === '<f4') values[i] = dv.getFloat32(start + 4 * i, true);
    else if (descr === '<i4') values[i] = dv.getInt32(start + 4 * i, true);
    else throw new Error(`readNpyF32: unsupported descr ${descr}`);
  }
  return { shape, values };
}

/** The API's `params` option from a --params file, as the CLI reads it. */
export function paramsFromNpz(name) {
  const members = Object.fromEntries(readZip(fixture(name)).map((m) => [m.name, m.data]));
  const scale = readNpyF32(members['scale.npy']);
  const params = { scale: scale.values, shape: scale.shape, files: [name] };
  if (members['zero_point.npy']) params.zeroPoint = readNpyF32(members['zero_point.npy']).values;
  return params;
}

// ---- CLI command line -> API call ------------------------------------------------------------------

const FLAG_TO_KEY = {
  '--dtype': 'dtype', '--mode': 'mode', '--granularity': 'granularity', '--range': 'range',
  '--rounding': 'rounding', '--zero-point-domain': 'zeroPointDomain', '--profile': 'profile',
  '--tensor': 'tensor', '--scale': 'scale', '--zero-point': 'zeroPoint',
  // Integers cross as JS numbers (the spelling of "-1" and -1 is the same to the core).
  '--axis': 'axis', '--group-size': 'groupSize', '--block-size': 'blockSize', '--bins': 'bins',
  '--bits': 'bits', '--pack': 'pack', '--scale-rule': 'scaleRule', '--format': 'format',
};
const NUMERIC = new Set(['axis', 'groupSize', 'blockSize', 'bins', 'bits']);

/** Splits CLI quantize options into {options, paramsFile, calibrate, observer}. */
export function cliToApi(args) {
  const options = {};
  let paramsFile;
  let calibrate;
  let observer;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--narrow') options.narrow = true;
    else if (flag === '--reduce-range') options.reduceRange = true;
    else if (flag === '--saturate' || flag === '--no-saturate') options.saturate = flag === '--saturate';
    else if (flag === '--double-quant') options.doubleQuant = true;
    else if (flag === '--params') paramsFile = args[++i];
    else if (flag === '--observer') observer = args[++i];
    else if (flag === '--calibrate') {
      calibrate = [];
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) calibrate.push(args[++i]);
    } else if (flag in FLAG_TO_KEY) {
      const key = FLAG_TO_KEY[flag];
      const text = args[++i];
      options[key] = NUMERIC.has(key) && /^-?\d+$/.test(text) ? Number(text) : text;
    } else {
      throw new Error(`cliToApi: no translation for ${flag}`);
    }
  }
  return { options, paramsFile, calibrate, observer };
}

/**
 * The API's run of `qplay quantize INPUT args...`: open, calibrate or --params when asked, quantize,
 * export. {bytes, result} or {error} (the thrown message).
 */
export function runApi(qp, input, args) {
  try {
    const { options, paramsFile, calibrate, observer } = cliToApi(args);
    qp.open(fixture(input), { fileName: input });
    if (paramsFile) options.params = paramsFromNpz(paramsFile);
    if (calibrate) {
      const { fileName, ...calibrationOptions } = options;
      options.params = qp.calibrate(calibrate.map((f) => ({ bytes: fixture(f), fileName: f })),
        observer ?? 'minmax', calibrationOptions);
    }
    const result = qp.quantize(undefined, options);
    return { bytes: qp.export(result, 'npz'), result };
  } catch (err) {
    assert.ok(err instanceof Error, `threw a non-Error: ${err}`);
    return { error: err.message };
  }
}

/** Whether a zip fixture holds deflated members (open() needs them inflated first: Qplay#inflate). */
export function hasDeflatedMembers(name) {
  const bytes = fixture(name);
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  try {
    return readZip(bytes).some((m) => m.method !== 0);
  } catch {
    return false;
  }
}

/** Bundle bytes with params.json's "kernels" value replaced, member by member. */
export function bundleMembers(bytes) {
  return readZip(bytes).map((m) => ({
    name: m.name,
    data: m.name === 'params.json'
      ? new TextDecoder().decode(m.data).replace(/"kernels": "[^"]*"/, '"kernels": "*"')
      : Buffer.from(m.data).toString('hex'),
  }));
}
