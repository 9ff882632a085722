// The playground's module worker: all computation happens here, through the wasm core's JS API
// (lib/qplay.js), so the page never blocks. Protocol (every message {type, id, ...}):
//
//   page -> worker                                  worker -> page
//   init     {simd}                                 ready    {info}          build info
//   open     {name, bytes: ArrayBuffer}             opened   {tensors}       [{name, dtype, shape}]
//   dataset  {key, values: Float32Array, shape}     stored   {}              synthetic / pasted data
//   values   {tensor}                               values   {values}        a tensor of the open file as float32
//   quantize {source, options, calibration}         result   {result}        see `summarize` below
//   sweep    {source, options, calibration, points} progress {done, total}, then swept {points}
//   export   {resultId, format: 'npz' | 'json'}     exported {bytes}
//   any failure                                     error    {message}       the core's message
//
// `source` is {tensor: name} (a tensor of the open file) or {dataset: key}; `calibration` is null
// or {sources: [source...], observer, files}. Large arrays travel as transferred ArrayBuffers; the
// worker keeps the last few results so an export needs no second run.
import { createQplay } from './lib/qplay.js';

let qp = null;
const datasets = new Map();
const results = new Map();
const KEEP_RESULTS = 3;
let nextResultId = 1;

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

function sourceOf(src) {
  if (typeof src.tensor === 'string') return src.tensor;
  const d = datasets.get(src.dataset);
  if (!d) throw new Error(`no data named '${src.dataset}' was sent to the worker`);
  return { values: d.values, shape: d.shape };
}

// Static calibrated params are computed by the core's observers over the calibration sources and
// passed to quantize as the params of the run.
function quantize(req, override = {}) {
  const options = { ...req.options, ...override };
  for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
  if (req.calibration) {
    options.params = qp.calibrate(req.calibration.sources.map(sourceOf), {
      observer: req.calibration.observer,
      files: req.calibration.files,
      ...pick(options, ['dtype', 'mode', 'narrow', 'reduceRange', 'granularity', 'axis', 'groupSize', 'blockSize', 'zeroPointDomain', 'profile']),
    });
  }
  return qp.quantize(sourceOf(req.source), options);
}

function pick(o, keys) {
  const out = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const first = (o, ...names) => {
  for (const n of names) if (o && o[n] !== undefined) return o[n];
  return undefined;
};

function metricsOf(m) {
  return {
    mse: first(m, 'mse'),
    rmse: first(m, 'rmse'),
    sqnrDb: first(m, 'sqnrDb', 'sqnr_db', 'sqnr'),
    maxAbsError: first(m, 'maxAbsError', 'max_abs_error'),
    meanAbsError: first(m, 'meanAbsError', 'mean_abs_error'),
    cosine: first(m, 'cosine'),
    clipRate: first(m, 'clipRate', 'clip_rate'),
    bitsPerElement: first(m, 'bitsPerElement', 'bits_per_element'),
    bytesBefore: Number(first(m, 'bytesBefore', 'bytes_before')),
    bytesAfter: Number(first(m, 'bytesAfter', 'bytes_after')),
    elements: Number(first(m, 'elements') ?? 0),
    finite: Number(first(m, 'finite') ?? 0),
    nan: Number(first(m, 'nan') ?? 0),
    posInf: Number(first(m, 'posInf', 'pos_inf') ?? 0),
    negInf: Number(first(m, 'negInf', 'neg_inf') ?? 0),
    saturated: Number(first(m, 'saturated') ?? 0),
  };
}

function histogramOf(hist) {
  return { lo: hist.lo, hi: hist.hi, counts: Float64Array.from(hist.counts, Number) };
}

// What the page gets from a run: copies of the arrays (the worker keeps the originals for export),
// the metrics, the histograms and the param layout.
function summarize(id, r) {
  const p = r.params ?? {};
  const copy = (a) => (a ? a.slice() : null);
  const out = {
    id,
    codes: copy(r.codes),
    scale: Float32Array.from(r.scale),
    zeroPoint: Float32Array.from(r.zeroPoint),
    paramShape: Array.from(first(p, 'shape', 'paramShape') ?? first(r, 'paramShape') ?? (r.scale.length === 1 ? [] : [r.scale.length]), Number),
    dequantized: copy(r.dequantized),
    metrics: metricsOf(r.metrics),
    histograms: {
      original: histogramOf(r.histograms.original),
      dequantized: histogramOf(r.histograms.dequantized),
      error: histogramOf(r.histograms.error),
    },
    qmin: Number(first(p, 'qmin') ?? first(r, 'qmin')),
    qmax: Number(first(p, 'qmax') ?? first(r, 'qmax')),
    floatZeroPoint: Boolean(first(p, 'floatZeroPoint', 'float_zero_point') ?? first(r, 'floatZeroPoint')),
    groupMin: copy(first(r, 'groupMin') ?? first(p, 'groupMin')),
    groupMax: copy(first(r, 'groupMax') ?? first(p, 'groupMax')),
    groupMse: copy(first(r, 'groupMse') ?? first(r.metrics, 'groupMse')),
  };
  const transfer = [out.codes, out.scale, out.zeroPoint, out.dequantized, out.groupMin, out.groupMax, out.groupMse,
    out.histograms.original.counts, out.histograms.dequantized.counts, out.histograms.error.counts]
    .filter((a) => a && a.buffer).map((a) => a.buffer);
  return { out, transfer };
}

function keep(result) {
  const id = nextResultId++;
  results.set(id, result);
  while (results.size > KEEP_RESULTS) results.delete(results.keys().next().value);
  return id;
}

const handlers = {
  async init(msg) {
    qp = await createQplay({ simd: msg.simd ?? 'auto' });
    return { type: 'ready', info: qp.buildInfo() };
  },

  open(msg) {
    const opened = qp.open(new Uint8Array(msg.bytes), msg.name);
    const tensors = opened.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: Array.from(t.shape, Number) }));
    return { type: 'opened', tensors };
  },

  dataset(msg) {
    datasets.set(msg.key, { values: msg.values, shape: msg.shape });
    return { type: 'stored' };
  },

  values(msg) {
    const values = Float32Array.from(qp.values(msg.tensor));
    return [{ type: 'values', values }, [values.buffer]];
  },

  quantize(msg) {
    const r = quantize(msg);
    const id = keep(r);
    const { out, transfer } = summarize(id, r);
    return [{ type: 'result', result: out }, transfer];
  },

  sweep(msg) {
    const points = [];
    const total = msg.points.length;
    for (let k = 0; k < total; k++) {
      try {
        const r = quantize(msg, msg.points[k]);
        points.push({ metrics: metricsOf(r.metrics) });
      } catch (err) {
        points.push({ error: err.message ?? String(err) });
      }
      post({ type: 'progress', id: msg.id, done: k + 1, total });
    }
    return { type: 'swept', points };
  },

  export(msg) {
    const r = results.get(msg.resultId);
    if (!r) throw new Error('that result is no longer kept: run again, then download');
    let bytes = qp.export(r, msg.format);
    if (typeof bytes === 'string') bytes = new TextEncoder().encode(bytes);
    const copy = bytes.slice();
    return [{ type: 'exported', bytes: copy }, [copy.buffer]];
  },
};

self.addEventListener('message', async (e) => {
  const msg = e.data;
  const handler = handlers[msg?.type];
  try {
    if (!handler) throw new Error(`unknown message type '${msg?.type}'`);
    if (msg.type !== 'init' && !qp) throw new Error('the wasm module is not loaded yet');
    const reply = await handler(msg);
    const [body, transfer] = Array.isArray(reply) ? reply : [reply, []];
    post({ ...body, id: msg.id }, transfer);
  } catch (err) {
    post({ type: 'error', id: msg?.id, message: err?.message ?? String(err) });
  }
});
