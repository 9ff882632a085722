// Turns a suite result (bench/suite.mjs) into the targets of the benchmark issue and markdown
// tables. Every ratio is the median over repetitions of the ratio within one repetition: the two
// timings in a pair ran seconds apart under the same machine load, which matters on a shared
// 2-core machine where the load changes from minute to minute.
import { median } from './suite.mjs';

const GB = 1e9;

function byId(list) {
  return Object.fromEntries(list.map((x) => [x.id, x]));
}

// median_i(num[i] / den[i]) over the repetitions both have.
function pairedRatio(num, den) {
  if (!num || !den) return null;
  const n = Math.min(num.length, den.length);
  if (n === 0) return null;
  const r = [];
  for (let i = 0; i < n; i++) r.push(num[i] / den[i]);
  return median(r);
}

export function analyze(result) {
  const c = byId(result.cases);
  const p = byId(result.peers);
  const s = (id) => c[id]?.simd?.samples;
  const b = (id) => c[id]?.baseline?.samples;
  const targets = [];
  const add = (group, name, value, goal, higherIsBetter, format) =>
    targets.push({ group, name, value, goal, met: value == null ? null : higherIsBetter ? value >= goal : value <= goal, format });

  add('limit', 'given params, per tensor, vs the stream pass (>= 90 %)', pairedRatio(s('stream'), s('given_tensor')), 0.9, true, 'percent');
  add('peer', 'given params, per tensor, vs onnxruntime-web QuantizeLinear (>= 3.5x)',
      pairedRatio(p.ort_quantize?.samples, s('given_tensor')), 3.5, true, 'times');
  const twoPass = s('read') && s('stream') ? s('read').map((v, i) => v + s('stream')[i]) : null;
  add('limit', 'dynamic, per tensor, vs the two-pass limit read + stream (>= 85 %)', pairedRatio(twoPass, s('dynamic_tensor')), 0.85, true, 'percent');
  add('peer', 'dynamic, per tensor, vs onnxruntime-web DynamicQuantizeLinear (for reference)',
      pairedRatio(p.ort_dynamic?.samples, s('dynamic_tensor')), 1, true, 'times');
  for (const kind of ['given', 'dynamic'])
    for (const g of ['channel0', 'channel1', 'block32', 'block128'])
      add('granularity', `${kind} ${g.replace('channel', 'per-channel axis ').replace('block', 'block ')} / ${kind} per-tensor (<= 1.5x)`,
          pairedRatio(s(`${kind}_${g}`), s(`${kind}_tensor`)), 1.5, false, 'times');
  for (const k of result.cases.filter((x) => x.group === 'kernel'))
    add('simd', `${k.label}: baseline / SIMD (>= 4x)`, pairedRatio(b(k.id), s(k.id)), 4, true, 'times');
  for (const id of ['given_tensor', 'dynamic_tensor', 'dequantize_tensor', 'evaluate'])
    if (c[id]) add('simd-api', `${c[id].label}: baseline / SIMD (API level, for reference)`, pairedRatio(b(id), s(id)), 4, true, 'times');
  return { targets };
}

function fmt(v, digits = 2) {
  return v == null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}
const gbps = (bytes, ms) => (ms ? bytes / (ms / 1e3) / GB : null);

function formatValue(t) {
  if (t.value == null) return '–';
  return t.format === 'percent' ? `${(t.value * 100).toFixed(0)} %` : `${t.value.toFixed(2)}x`;
}

// Markdown for one runtime's result: cases, peers, targets.
export function markdown(result, title) {
  const { targets } = analyze(result);
  const out = [];
  out.push(`### ${title}`, '');
  out.push(`${result.env.runtime}; ${result.env.cpu}; ${result.env.commit ? `commit ${result.env.commit}; ` : ''}` +
           `${result.reps} repetitions after ${result.warmup} warm-up, ` +
           `median per row${result.env.load ? `; load average at the start ${result.env.load}` : ''}; ${result.env.date}.`, '');
  out.push('| case | SIMD ms | SIMD GB/s | baseline ms | baseline GB/s | SIMD speed-up |');
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const cse of result.cases) {
    const sm = cse.simd?.median_ms, bm = cse.baseline?.median_ms;
    const speed = pairedRatio(cse.baseline?.samples, cse.simd?.samples);
    out.push(`| ${cse.label} | ` +
             `${fmt(sm)} | ${fmt(gbps(cse.bytes, sm))} | ${bm == null ? 'not run' : fmt(bm)} | ${fmt(gbps(cse.bytes, bm))} | ` +
             `${speed == null ? '–' : speed.toFixed(1) + 'x'} |`);
  }
  out.push('', '| peer (same data, same run) | ms | GB/s | codes differing from qplay |', '|---|---:|---:|---:|');
  for (const peer of result.peers) {
    const check = result.checks[peer.id];
    out.push(`| ${peer.label} | ${fmt(peer.median_ms)} | ${fmt(gbps(peer.bytes, peer.median_ms))} | ${check == null ? '–' : check} |`);
  }
  out.push('', '| target | measured | met |', '|---|---:|:---:|');
  for (const t of targets)
    out.push(`| ${t.name} | ${formatValue(t)} | ${t.met == null ? '–' : t.met ? 'yes' : '**no**'} |`);
  out.push('');
  return out.join('\n');
}

// ---- ggml formats and element encoders (bench/ggml.mjs) ------------------------------------------
// The issue's targets: `vs` names the reference (native: ggml's quantize_row_*_ref on this machine,
// same run; stream: the wasm stream pass, same run), `goal` the ratio to reach. The issue's own
// native _ref figures, for comparison with ours: Q8_0 1.06, Q4_0 5.7, Q4_K 0.06, Q6_K 0.10 GB/s.
export const GGML_TARGETS = {
  ggml_q8_0: { vs: 'native', goal: 5 },
  ...Object.fromEntries(['q8_1', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'iq4_nl', 'mxfp4'].map((t) => [`ggml_${t}`, { vs: 'stream', goal: 0.75 }])),
  ...Object.fromEntries(['q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k'].map((t) => [`ggml_${t}`, { vs: 'native', goal: 3 }])),
  ...Object.fromEntries(['fp8_e4m3fn', 'fp8_e5m2', 'nf4', 'mxfp4', 'mxfp8_e4m3'].map((id) => [id, { vs: 'stream', goal: 0.5 }])),
};

// Per case: medians and the paired ratios (wasm speed over the native _ref's, and over the stream
// pass's), each the median of the within-repetition ratios; `met` against GGML_TARGETS.
export function analyzeGgml(result) {
  return result.cases.map((c) => {
    const target = GGML_TARGETS[c.id] ?? null;
    const vsNative = pairedRatio(c.native, c.wasm);   // native ms / wasm ms = wasm speed / native speed
    const vsStream = pairedRatio(c.stream, c.wasm);   // stream ms / wasm ms = fraction of the stream pass
    const value = target ? (target.vs === 'native' ? vsNative : vsStream) : null;
    return {
      ...c,
      wasm_ms: median(c.wasm),
      stream_ms: median(c.stream),
      native_ms: c.native.length ? median(c.native) : null,
      vsNative,
      vsStream,
      wallVsNative: pairedRatio(c.wall.native, c.wall.wasm),
      wallVsStream: pairedRatio(c.wall.stream, c.wall.wasm),
      target,
      met: value == null ? null : value >= target.goal,
    };
  });
}

export function ggmlMarkdown(result) {
  const rows = analyzeGgml(result);
  const env = result.env;
  const out = ['### ggml formats and element encoders (node)', ''];
  out.push(`${env.runtime}; ${env.cpu}; commit ${env.commit}; SIMD build (${result.kernels} kernels); ` +
           `${result.reps} repetitions after ${result.warmup} warm-up, medians; ` +
           `load average (1, 5, 15 min) ${env.load} at the start, ${env.load_end} at the end; ${env.date}.`);
  out.push(result.native
    ? `Native peer: ggml ${String(result.native.ggml_commit ?? 'unknown').slice(0, 12)} quantize_row_*_ref, ` +
      `${result.native.compiler ?? 'gcc'}, ${result.native.cflags ?? ''}, run by bench/ggml.mjs within the same repetitions.`
    : 'Native peer: not run (no _ref timer built; see scripts/ggml_ref_bench.sh).');
  out.push('Times are CPU time (the process\'s, so waiting for a shared core does not count); the wall-clock ratios are given for comparison.');
  out.push('', '| format (API) | wasm ms | wasm GB/s | native _ref GB/s | wasm / _ref | of stream pass | target | met | wall: / _ref, of stream |',
           '|---|---:|---:|---:|---:|---:|---|:---:|---:|');
  const pct = (v) => (v == null ? '–' : `${(v * 100).toFixed(0)} %`);
  const times = (v) => (v == null ? '–' : `${v.toFixed(2)}x`);
  for (const r of rows) {
    const goal = r.target ? (r.target.vs === 'native' ? `>= ${r.target.goal}x _ref` : `>= ${r.target.goal * 100} % stream`) : 'for reference';
    out.push(`| ${r.label} | ${fmt(r.wasm_ms)} | ${fmt(gbps(r.bytes, r.wasm_ms), 3)} | ${fmt(gbps(r.bytes, r.native_ms), 3)} | ` +
             `${times(r.vsNative)} | ${pct(r.vsStream)} | ${goal} | ${r.met == null ? '–' : r.met ? 'yes' : '**no**'} | ` +
             `${times(r.wallVsNative)}, ${pct(r.wallVsStream)} |`);
  }
  const stream = median(rows.flatMap((r) => r.stream));
  out.push('', `Stream pass (wasm, read f32 + write u8, all repetitions): ${fmt(stream)} ms, ${fmt(gbps(result.elements * 4, stream))} GB/s.`, '');
  return out.join('\n');
}
