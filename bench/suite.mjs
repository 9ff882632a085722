// The benchmark suite, shared by the node runner (bench/run.mjs) and the page Chromium runs
// (bench/page.mjs): given the two bench modules (SIMD and baseline builds) and onnxruntime-web,
// it checks that every peer computes the same codes as the core, then times every case of both
// builds and every peer, interleaved repetition by repetition so that the ratios compare runs
// made under the same machine load. Each core case is timed inside wasm (bench.cpp); the JS
// peers with performance.now() around the call.
import { dynamicQuantizeLinearModel, quantizeLinearModel } from './onnx.mjs';

// Wraps one instantiated bench module (createQplayBench) with its C ABI.
export class BenchModule {
  constructor(module, flavour) {
    this.m = module;
    this.flavour = flavour;
    const count = module._bench_init();
    if (count < 0) throw new Error(`${flavour}: bench_init failed: ${this.#string(module._bench_error())}`);
    this.cases = JSON.parse(this.#string(module._bench_cases_json()));
    this.info = JSON.parse(this.#string(module._bench_info_json()));
    this.index = new Map(this.cases.map((c, i) => [c.id, i]));
  }
  #string(ptr) {
    return this.m.UTF8ToString(ptr);
  }
  // Milliseconds of one run of case `id`, timed in wasm.
  run(id) {
    const ms = this.m._bench_run(this.index.get(id));
    if (ms < 0) throw new Error(`${this.flavour}: ${this.#string(this.m._bench_error())}`);
    return ms;
  }
  elements() {
    return this.info.rows * this.info.cols;
  }
  // A JS-owned copy of the float32 input (the heap may move when it grows).
  input() {
    return new Float32Array(this.m.HEAPF32.buffer, this.m._bench_input(), this.elements()).slice();
  }
  // The core's uint8 codes: 0 given per tensor, 1 dynamic per tensor, 2/3 given per channel axis 0/1.
  referenceCodes(which) {
    const ptr = this.m._bench_reference_codes(which);
    if (!ptr) throw new Error(`${this.flavour}: ${this.#string(this.m._bench_error())}`);
    return new Uint8Array(this.m.HEAPU8.buffer, ptr, this.elements()).slice();
  }
  // Given params: which 0 tensor, 1 channel axis 0, 2 channel axis 1.
  params(which) {
    const n = which === 0 ? 1 : this.info.rows;
    const read = (kind) => new Float32Array(this.m.HEAPF32.buffer, this.m._bench_param_array(which, kind), n).slice();
    return { scale: read(0), zeroPoint: read(1) };
  }
  // Copies `data` into the heap where the input lives and returns the time taken (what any wasm
  // library pays when the tensor starts in JS, as it does for onnxruntime-web's session.run).
  copyIn(data) {
    const t0 = performance.now();
    this.m.HEAPF32.set(data, this.m._bench_input() / 4);
    return performance.now() - t0;
  }
  // Copies n code bytes out of the heap into a new JS array and returns the time taken.
  copyOut(which) {
    const ptr = this.m._bench_reference_codes(which);
    const t0 = performance.now();
    const out = new Uint8Array(this.m.HEAPU8.buffer, ptr, this.elements()).slice();
    const ms = performance.now() - t0;
    if (out.length !== this.elements()) throw new Error('copy out failed');
    return ms;
  }
}

// The plain JS peer: per-tensor uint8 with given params, as one would write it without a library,
// but exact: Math.fround gives the float32 quotient the core computes, ties go to even (Math.round
// sends them up), and the zero point is added after rounding (adding an odd zero point first moves
// the ties: 1.5 + 121 would round to 122, not 2 + 121). Uint8ClampedArray saturates to [0, 255].
export function quantizeJs(x, scale, zeroPoint, out) {
  for (let i = 0; i < x.length; i++) {
    const t = Math.fround(x[i] / scale);
    let r = Math.round(t);
    if (r - t === 0.5 && r % 2 !== 0) r -= 1;
    out[i] = r + zeroPoint;
  }
  return out;
}

function mismatches(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// The baseline (scalar) build runs the limits, every kernel row and the per-tensor API rows: what
// the SIMD-versus-baseline comparison needs. The other granularities and the range methods run in
// the SIMD build only (their drivers and kernels are the same; the scalar build takes about ten
// times as long, and the mse range alone repeats 300 passes over the tensor).
function baselineRuns(c) {
  return c.group === 'limit' || c.group === 'kernel' ||
    ['given_tensor', 'dynamic_tensor', 'dequantize_tensor', 'evaluate'].includes(c.id);
}

export const OWN_RUNNER_GROUPS = ['ggml', 'float'];

// opts: {simd, baseline: BenchModule, ort (the onnxruntime-web module), reps, warmup, quick, log}
export async function runSuite(opts) {
  const { simd, baseline, ort } = opts;
  const reps = opts.reps ?? 7;
  const warmup = opts.warmup ?? 1;
  const log = opts.log ?? (() => {});
  const quick = Boolean(opts.quick);
  if (JSON.stringify(simd.cases) !== JSON.stringify(baseline.cases))
    throw new Error('the SIMD and baseline bench modules list different cases');
  const n = simd.elements();
  const { rows, cols } = simd.info;
  const x = simd.input();
  const bytes = n * 4;

  // ---- peers, and the check that they compute what the core computes -------------------------
  log('checking the peers against the core');
  ort.env.wasm.numThreads = 1;
  const session = (model) => ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const tensorParams = simd.params(0);
  const channel0 = simd.params(1), channel1 = simd.params(2);
  const sessions = {
    ort_quantize: await session(quantizeLinearModel([n], tensorParams.scale, tensorParams.zeroPoint)),
    ort_dynamic: await session(dynamicQuantizeLinearModel([n])),
    ort_channel0: await session(quantizeLinearModel([rows, cols], channel0.scale, channel0.zeroPoint, 0)),
    ort_channel1: await session(quantizeLinearModel([rows, cols], channel1.scale, channel1.zeroPoint, 1)),
  };
  const ortRun = async (id) => {
    const shape = id === 'ort_quantize' || id === 'ort_dynamic' ? [n] : [rows, cols];
    const t0 = performance.now();
    const out = await sessions[id].run({ x: new ort.Tensor('float32', x, shape) });
    return { ms: performance.now() - t0, out };
  };
  const jsOut = new Uint8ClampedArray(n);
  const checks = {};
  const given = simd.referenceCodes(0);
  checks.js_loop = mismatches(quantizeJs(x, tensorParams.scale[0], tensorParams.zeroPoint[0], jsOut), given);
  checks.ort_quantize = mismatches((await ortRun('ort_quantize')).out.y.data, given);
  const dynamic = await ortRun('ort_dynamic');
  checks.ort_dynamic = mismatches(dynamic.out.y.data, simd.referenceCodes(1));
  checks.ort_dynamic_params = {
    ort: [dynamic.out.y_scale.data[0], dynamic.out.y_zero_point.data[0]],
    qplay: [simd.info.dynamic_scale, simd.info.dynamic_zero_point],
  };
  if (!quick) {
    checks.ort_channel0 = mismatches((await ortRun('ort_channel0')).out.y.data, simd.referenceCodes(2));
    checks.ort_channel1 = mismatches((await ortRun('ort_channel1')).out.y.data, simd.referenceCodes(3));
  }
  checks.baseline_given = mismatches(baseline.referenceCodes(0), given);
  log(`mismatching codes: ${JSON.stringify(checks)}`);

  // ---- timing ---------------------------------------------------------------------------------
  // The ggml formats and the float encoders have their own runner (bench/ggml.mjs).
  const caseIds = simd.cases
    .filter((c) => !OWN_RUNNER_GROUPS.includes(c.group))
    .map((c) => c.id)
    .filter((id) => !(quick && id.startsWith('range_')));
  const samples = { simd: {}, baseline: {}, peer: {} };
  for (const c of simd.cases.filter((c) => caseIds.includes(c.id))) {
    samples.simd[c.id] = [];
    if (baselineRuns(c)) samples.baseline[c.id] = [];
  }
  const peers = [
    ['js_loop', 'plain JS loop, per-tensor given params (exact)', async () => {
      const t0 = performance.now();
      quantizeJs(x, tensorParams.scale[0], tensorParams.zeroPoint[0], jsOut);
      return performance.now() - t0;
    }],
    ['ort_quantize', 'onnxruntime-web QuantizeLinear, per-tensor', async () => (await ortRun('ort_quantize')).ms],
    ['ort_dynamic', 'onnxruntime-web DynamicQuantizeLinear', async () => (await ortRun('ort_dynamic')).ms],
    ['ort_channel0', 'onnxruntime-web QuantizeLinear, per-axis 0', async () => (await ortRun('ort_channel0')).ms],
    ['ort_channel1', 'onnxruntime-web QuantizeLinear, per-axis 1', async () => (await ortRun('ort_channel1')).ms],
    ['copy_in', 'copy 64 MiB float32 from JS into the wasm heap', async () => simd.copyIn(x)],
    ['copy_out', 'copy 16 MiB of codes out of the wasm heap', async () => simd.copyOut(0)],
  ].filter(([id]) => !(quick && (id === 'ort_channel0' || id === 'ort_channel1')));
  for (const [id] of peers) samples.peer[id] = [];

  for (let rep = -warmup; rep < reps; rep++) {
    const started = performance.now();
    for (const id of caseIds) {
      const a = simd.run(id);
      if (rep >= 0) samples.simd[id].push(a);
      if (samples.baseline[id]) {
        const b = baseline.run(id);
        if (rep >= 0) samples.baseline[id].push(b);
      }
    }
    for (const [id, , run] of peers) {
      const ms = await run();
      if (rep >= 0) samples.peer[id].push(ms);
    }
    log(`${rep < 0 ? 'warm-up' : `repetition ${rep + 1}/${reps}`} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  const summarize = (values) => (values && values.length ? { median_ms: median(values), min_ms: Math.min(...values), samples: values } : null);
  return {
    elements: n,
    rows,
    cols,
    reps,
    warmup,
    info: { simd: simd.info, baseline: baseline.info },
    checks,
    cases: simd.cases
      .filter((c) => caseIds.includes(c.id))
      .map((c) => ({ ...c, simd: summarize(samples.simd[c.id]), baseline: summarize(samples.baseline[c.id]) })),
    peers: peers.map(([id, label]) => ({ id, label, bytes: id === 'copy_out' ? n : bytes, ...summarize(samples.peer[id]) })),
  };
}
