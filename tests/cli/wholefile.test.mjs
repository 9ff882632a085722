// `qplay quantize MODEL --all`: whole-file mode end to end — the bundles read back (numpy for .npz,
// the header JSON for .safetensors), the per-tensor parts against single-tensor runs, the report,
// overrides and the errors. Run: node --test tests/cli/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
const data = path.join(repo, 'tests', 'data');
const python = '/usr/bin/python3';
let tmp;

before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first or set QPLAY_CLI`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-all-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function qplay(...args) {
  const r = spawnSync(cli, args, { cwd: data, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

// {name: {dtype, shape, bytes}} and the metadata of a .safetensors.
function readSafetensors(file) {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    tensors[name] = { dtype: t.dtype, shape: t.shape, bytes: bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) };
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

const out = (name) => path.join(tmp, name);

test('--all writes every tensor: quantized parts equal single-tensor runs, kept tensors unchanged', () => {
  const flags = ['--dtype', 'int4', '--granularity', 'block', '--block-size', '4', '--axis', '-1'];
  const r = qplay('quantize', 'model_tiny.safetensors', '--all', '-o', out('all.safetensors'), ...flags);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  assert.match(r.stdout, /^input {6}model_tiny\.safetensors \(safetensors, 6 tensors\)\ntensors {4}4 quantized, 2 kept\n/);
  const all = readSafetensors(out('all.safetensors'));
  const input = readSafetensors(path.join(data, 'model_tiny.safetensors'));
  for (const name of ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.up_proj.weight', 'lm_head.weight']) {
    const one = qplay('quantize', 'model_tiny.safetensors', '--tensor', name, '-o', out('one.safetensors'), ...flags);
    assert.equal(one.status, 0, one.stderr);
    const single = readSafetensors(out('one.safetensors'));
    for (const part of ['codes', 'scale', 'zero_point']) {
      assert.deepEqual(all.tensors[`${name}.${part}`], single.tensors[`${name}.${part}`], `${name}.${part}`);
    }
    const scheme = JSON.parse(all.metadata[`qplay.params.${name}`]);
    const params = JSON.parse(single.metadata[`qplay.params.${name}`]);
    assert.deepEqual(scheme.options, params.options);
    assert.deepEqual(scheme.codes, params.codes);
    assert.equal(scheme.params.count, params.params.count);
    assert.deepEqual(scheme.params.shape, params.params.shape);
  }
  for (const name of ['model.layers.0.input_layernorm.weight', 'position_ids']) assert.deepEqual(all.tensors[name], input.tensors[name]);
  assert.equal(Object.keys(all.tensors).length, 4 * 3 + 2);
});

test('--all to .npz: numpy reads every member and the codes dequantize near the input', () => {
  const r = qplay('quantize', 'model_tiny.gguf', '--all', '-o', out('all.npz'), '--dtype', 'int8', '--granularity', 'channel');
  assert.equal(r.status, 0, r.stderr);
  const check = spawnSync(python, ['-c', `
import json, sys, numpy as np
z = np.load(sys.argv[1])
names = sorted(z.files)
assert 'blk.0.attn_norm.weight' in names, names
for t in ['token_embd.weight', 'blk.0.ffn_up.weight', 'output.weight']:
    c, s, zp = z[t + '.codes'], z[t + '.scale'], z[t + '.zero_point']
    assert c.dtype == np.int8 and s.shape == (c.shape[0],), (c.dtype, s.shape)
print(len(names))
`, out('all.npz')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stdout.trim(), String(3 * 4 + 1));  // codes, scale, zero_point, params.json; the kept norm
});

test('--report writes a CSV row per tensor; --json prints the same rows', () => {
  const r = qplay('quantize', 'model_tiny.safetensors', '--all', '-o', out('r.safetensors'), '--report', out('r.csv'),
    '--override', 'lm_head.*:keep', '--override', '*norm*:--dtype uint8 --granularity tensor');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /report {5}.*r\.csv\n/);
  const rows = fs.readFileSync(out('r.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(rows[0], ['name', 'shape', 'dtype', 'action', 'scheme', 'params', 'mse', 'sqnr_db', 'max_abs_error',
    'bits_per_element', 'bytes_before', 'bytes_after']);
  const byName = Object.fromEntries(rows.slice(1).map((row) => [row[0], row]));
  assert.equal(byName['lm_head.weight'][3], 'kept');
  assert.equal(byName['model.layers.0.input_layernorm.weight'][4], 'uint8 tensor');
  assert.equal(byName.position_ids[3], 'kept');
  assert.equal(byName['model.embed_tokens.weight'][1], '16x8');
  assert.ok(Number(byName['model.embed_tokens.weight'][7]) > 30, 'int8 SQNR above 30 dB');
  const json = qplay('quantize', 'model_tiny.safetensors', '--all', '-o', out('r.safetensors'), '--json',
    '--override', 'lm_head.*:keep', '--override', '*norm*:--dtype uint8 --granularity tensor');
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout).tensors;
  assert.equal(report.length, rows.length - 1);
  for (const t of report) assert.equal(String(t.bytes_after), byName[t.name][11]);
});

test('whole-file errors: usage (exit 2), data naming the tensor (exit 1), no partial output left', () => {
  const cases = [
    [['model_tiny.safetensors', '-o', out('x.safetensors'), '--report', 'r.csv'], 2, '--report needs --all (the per-tensor report of whole-file mode)'],
    [['model_tiny.safetensors', '-o', out('x.safetensors'), '--override', 'a:keep'], 2, '--override needs --all'],
    [['model_tiny.safetensors', '--all', '--tensor', 'lm_head.weight', '-o', out('x.safetensors')], 2, '--all quantizes every tensor; drop --tensor (or --override to pick)'],
    [['model_tiny.safetensors', '--all', '--scale', '0.1', '-o', out('x.safetensors')], 2, "--scale does not apply to --all (each tensor's params are computed from the tensor)"],
    [['model_tiny.safetensors', '--all', '-o', out('x.safetensors'), '--override', 'nocolon'], 2, "invalid --override 'nocolon' (expected 'PATTERN:keep' or 'PATTERN:--dtype int8 ...')"],
    [['model_tiny.safetensors', '--all', '-o', out('x.safetensors'), '--override', 'a:--granularity block'], 2, "--override 'a': --granularity block needs --block-size"],
    [['model_tiny.safetensors', '--all', '-o', out('x.safetensors'), '--override', 'a:'], 2, "--override 'a:' has no options (use 'PATTERN:keep' to keep tensors)"],
    [['model_tiny.safetensors', '--all', '--granularity', 'channel', '--axis', '3', '-o', out('x.safetensors')], 1, "model_tiny.safetensors: tensor 'lm_head.weight': --axis 3 is out of range for shape (16, 8) (allowed -2..1)"],
    [['st_outside.safetensors', '--all', '-o', out('x.safetensors')], 1, null],
  ];
  for (const [args, status, message] of cases) {
    const r = qplay('quantize', ...args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    const line = /^qplay: error: (.*)\n$/.exec(r.stderr);
    assert.ok(line, r.stderr);
    if (message) assert.equal(line[1], message);
    assert.ok(!fs.existsSync(out('x.safetensors')), 'no output after a failure');
  }
});

test('--all --format q4_k -o OUT.gguf: ggml blocks per tensor, as the single-tensor .gguf stores them', () => {
  const r = qplay('quantize', 'model_ggml.safetensors', '--all', '--format', 'q4_k', '-o', out('all.gguf'),
    '--override', 'blk.1.*:--format q8_0');
  assert.equal(r.status, 0, r.stderr);
  const info = qplay('info', out('all.gguf'));
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /blk\.0\.ffn_up\.weight +Q4_K -> float32 +\(2, 256\)/);
  assert.match(info.stdout, /blk\.1\.attn_q\.weight +Q8_0 -> float32 +\(2, 64\)/);
  assert.match(info.stdout, /output_norm\.weight +float32 +\(64,\)/);
  // The blocks of each tensor equal the single-tensor -o X.gguf run's (same data, same type).
  const check = (name, format) => {
    const one = qplay('quantize', 'model_ggml.safetensors', '--tensor', name, '--format', format, '-o', out('one.gguf'));
    assert.equal(one.status, 0, one.stderr);
    const dump = (file) => spawnSync(python, ['-c', `
import struct, sys
b = open(sys.argv[1], 'rb').read()
n_t, n_kv = struct.unpack_from('<QQ', b, 8)
p = 24
def s(p):
    n, = struct.unpack_from('<Q', b, p); return b[p + 8:p + 8 + n].decode(), p + 8 + n
def skip(p, t):
    if t == 8: return s(p)[1]
    if t == 9:
        et, n = struct.unpack_from('<IQ', b, p); p += 12
        for _ in range(n): p = skip(p, et)
        return p
    return p + {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}[t]
for _ in range(n_kv):
    k, p = s(p); t, = struct.unpack_from('<I', b, p); p = skip(p + 4, t)
infos = []
for _ in range(n_t):
    name, p = s(p); nd, = struct.unpack_from('<I', b, p); p += 4 + 8 * nd
    typ, off = struct.unpack_from('<IQ', b, p); p += 12; infos.append((name, off))
start = (p + 31) // 32 * 32
offs = sorted(o for _, o in infos) + [len(b) - start]
for name, off in infos:
    if name == sys.argv[2]:
        end = min(o for o in offs if o > off)
        sys.stdout.write(b[start + off:start + end].hex())
`, file, name], { encoding: 'utf8' }).stdout;
    assert.ok(dump(out('one.gguf')).length > 0);
    assert.equal(dump(out('all.gguf')), dump(out('one.gguf')), name);
  };
  check('blk.0.ffn_up.weight', 'q4_k');
  check('blk.1.attn_q.weight', 'q8_0');
  const bad = qplay('quantize', 'model_ggml.safetensors', '--all', '--format', 'q4_k', '-o', out('x.gguf'));
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, "qplay: error: tensor 'blk.1.attn_q.weight': gguf: shape (2, 64) cannot be stored as Q4_K: the last dim 64 (ggml's ne[0]) must be a multiple of its block size 256\n");
  assert.ok(!fs.existsSync(out('x.gguf')));
});
