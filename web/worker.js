// The playground's module worker: all computation happens here, through the wasm core's JS API
// (lib/qplay.js), so the page never blocks. Protocol (every message {type, id, ...}):
//
//   page -> worker                                  worker -> page
//   init     {simd}                                 ready    {info}          build info
//   open     {name, bytes: ArrayBuffer, raw?}       opened   {tensors}       [{name, dtype, shape}]; raw:
//                                                                           {dtype, shape, offset, endian}
//   openStored {name, tensor, bytes}                opened   {tensors}       one tensor's stored bytes (a
//                                                                           large file's File.slice) as the open file
//   dataset  {key, values: Float32Array, shape}     stored   {}              pasted data
//   synthesize {key, spec, want}                    stored   {values?}       synthetic data (app/synth.js)
//   aux      {name, bytes}                          stored   {}              a params or calibration file
//   values   {tensor}                               values   {values}        a tensor of the open file as float32
//   quantize {source, options, calibration}         result   {result}        see `summarize` below
//   sweep    {source, options, calibration, points} progress {done, total}, then swept {points}
//   export   {resultId, format}                     exported {bytes}        'npz', 'safetensors', 'json' or 'gguf'
//   tensorParams {source, options}                  params   {scale, zeroPoint}  one scale and zero point for
//                                                                           the whole source, dynamic (given params' defaults)
//
//   whole-file mode (app/wholefile.js; the JS API's steps, docs/JS_API.md):
//   describe {size, bytes}                          described {info} | {bytesNeeded}   from the file's head
//   plan     {info, options, overrides}             planned  {plan}         what happens to each tensor
//   tensor   {name, bytes}                          quantized {result}      one tensor of the last plan
//   writerOpen {format}                             writer   {header, totalSize}       the last plan's output
//   writerAdd {result}                              chunks   {chunks}       [{offset, bytes}] to write
//   writerFinish {}  /  writerClose {}              chunk    {chunk}  /  closed {}
//   find     {resultId, kind, lo, hi, last, group}  found    {indices, total} inspector searches
//   describeOptions {options}                       optionsDescribed {description}  Qplay#describe of a setting
//   coreTables {}                                   coreTables {tables}     the catalog and describe() of every
//                                                                           scheme the pickers offer (app/core.js)
//   any failure                                     error    {message}       the core's message
//
// `source` is {tensor: name} (a tensor of the open file) or {dataset: key}; `calibration` is null
// or {sources: [source | {aux: name}...], observer, files}; `paramsFile` names an aux file whose
// scale and zero_point arrays are the given params (the CLI's --params P.npz). Large arrays travel as transferred ArrayBuffers; the
// worker keeps the last few results so an export needs no second run.
import { createQplay } from './lib/qplay.js';
import { synthesize } from './app/synth.js';
import { resultBuffers } from './app/engine.js';
import { buildCoreTables } from './app/core.js';

let qp = null;
let qpAux = null;          // a second instance for reading params files (qp keeps the open file)
let config = {};
const datasets = new Map();
const auxFiles = new Map();  // name -> bytes: params and calibration files
const tensorValues = new Map();  // name -> float32 values of a tensor of the open file (searches)
const results = new Map();
const KEEP_RESULTS = 3;
let nextResultId = 1;
let writer = null;         // whole-file mode: the bundle writer of the run in progress
// The last plan, by tensor name. Each worker plans for itself (planning is cheap) rather than
// receiving entries from the page: an entry's parsed options hold Embind enum values, which a
// structured clone would turn into empty objects.
let plan = null;

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

// A typed array that owns its whole buffer, so transferring the buffer moves exactly this array.
const own = (a) => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice());

// A source as the API takes it: a tensor name of the open file, or float32 values with a shape.
function sourceOf(src, fileName) {
  if (typeof src.tensor === 'string') return src.tensor;
  if (typeof src.aux === 'string') {
    const bytes = auxFiles.get(src.aux);
    if (!bytes) throw new Error(`the file '${src.aux}' was not sent to the worker`);
    return { bytes, fileName: src.aux };
  }
  const d = datasets.get(src.dataset);
  if (!d) throw new Error(`no data named '${src.dataset}' was sent to the worker`);
  return fileName === undefined ? { values: d.values, shape: d.shape } : { values: d.values, shape: d.shape, fileName };
}

// The options calibrate() takes: quantize's, without the params sources and the input name.
const CALIBRATION_OPTIONS = ['dtype', 'mode', 'narrow', 'reduceRange', 'granularity', 'axis', 'groupSize', 'blockSize',
  'range', 'rounding', 'zeroPointDomain', 'profile', 'bins'];

// Static calibrated params come from the core's observers over the calibration sources (named
// tensors of the open file, or data sent as a dataset under a file name that params.json records)
// and are applied as the run's params, as `qplay quantize INPUT --calibrate A B` does.
async function quantize(req, override = {}) {
  const options = { ...req.options, ...override };
  for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
  if (req.paramsFile) options.params = await paramsFromFile(req.paramsFile);
  if (req.calibration) {
    const { sources, observer, files = [] } = req.calibration;
    const tensors = sources.map((src, k) => sourceOf(src, files[k]));
    options.params = qp.calibrate(tensors, observer, pick(options, CALIBRATION_OPTIONS));
  }
  return qp.quantize(sourceOf(req.source), options);
}

// Given params from an .npz holding scale.npy and zero_point.npy shaped for the granularity, read
// with a second module instance so the open input file stays open.
async function paramsFromFile(name) {
  const bytes = auxFiles.get(name);
  if (!bytes) throw new Error(`the params file '${name}' was not sent to the worker`);
  qpAux ??= await createQplay(config);
  const { tensors } = qpAux.open(bytes, name);
  const find = (n) => tensors.find((t) => t.name === n || t.name === `${n}.npy`);
  const scale = find('scale');
  if (!scale) throw new Error(`${name}: no scale.npy member (a params file needs scale.npy and zero_point.npy)`);
  const zero = find('zero_point');
  const params = {
    scale: qpAux.values(scale.name),
    zeroPoint: zero ? qpAux.values(zero.name) : null,
    shape: scale.shape,
    source: 'given',
    files: [name],
  };
  qpAux.close();
  return params;
}

function pick(o, keys) {
  const out = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

// The metrics the page shows and compares (the API's names, params.json's camelCased).
function metricsOf(m) {
  const keys = ['mse', 'rmse', 'sqnrDb', 'maxAbsError', 'meanAbsError', 'cosine', 'clipRate', 'bitsPerElement',
    'bytesBefore', 'bytesAfter', 'elements', 'finite', 'nan', 'posInf', 'negInf', 'saturated'];
  return Object.fromEntries(keys.map((k) => [k, Number(m[k])]));
}

function histogramOf(hist) {
  return { lo: hist.lo, hi: hist.hi, counts: Float64Array.from(hist.counts, Number) };
}

// What the page gets from a run: copies of the arrays (the worker keeps the originals for export),
// the metrics, the histograms and the param layout.
function summarize(id, r) {
  const p = r.params;
  const copy = (a) => (a ? a.slice() : null);
  const out = {
    id,
    codes: copy(r.codes),
    scale: Float32Array.from(r.scale),
    // Integer zero points arrive as Int32Array; the views compute with floats either way.
    zeroPoint: Float32Array.from(r.zeroPoint),
    paramShape: Array.from(p.shape, Number),
    dequantized: copy(r.dequantized),
    metrics: metricsOf(r.metrics),
    histograms: {
      original: histogramOf(r.histograms.original),
      dequantized: histogramOf(r.histograms.dequantized),
      error: histogramOf(r.histograms.error),
    },
    qmin: p.qmin,
    qmax: p.qmax,
    floatZeroPoint: p.floatZeroPoint,
    source: p.source,
    division: r.division,
    groupMin: copy(r.groupStats?.min),
    groupMax: copy(r.groupStats?.max),
    groupMse: copy(r.groupMse),
    // Element formats with a table: its values before scaling ([K], or [groups, K] for kmeans).
    codebook: copy(r.codebook),
    codebookShape: r.codebookShape ? Array.from(r.codebookShape, Number) : null,
    // --double-quant: how many 8-bit scale codes and float32 super-scales the bundle stores.
    doubleQuant: r.scaleCodes ? { codes: r.scaleCodes.length, supers: r.scaleSuper.length, bnb: Boolean(r.scaleCodebook) } : null,
    // ggml formats (--format) with an additive member per sub-block; `gguf`: a .gguf can be exported.
    offset: copy(r.offset),
    gguf: Boolean(r.blocks),
  };
  const transfer = [out.codes, out.scale, out.zeroPoint, out.dequantized, out.groupMin, out.groupMax, out.groupMse, out.codebook, out.offset,
    out.histograms.original.counts, out.histograms.dequantized.counts, out.histograms.error.counts]
    .filter(Boolean).map((a) => a.buffer);
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
    config = { simd: msg.simd ?? 'auto' };
    qp = await createQplay(config);
    return { type: 'ready', info: qp.buildInfo() };
  },

  async open(msg) {
    tensorValues.clear();
    const bytes = new Uint8Array(msg.bytes);
    // np.savez_compressed deflates the members: the core lists them (with its zip-bomb guards), the
    // platform inflates them, and the core checks and reads the result (raw input is never a zip).
    const inflated = msg.raw ? [] : await qp.inflate(bytes, msg.name);
    const opened = qp.open(bytes, { fileName: msg.name, raw: msg.raw ?? null, inflated: inflated.length ? inflated : null });
    const tensors = opened.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: Array.from(t.shape, Number) }));
    return { type: 'opened', tensors };
  },

  // One tensor of a large file, from its stored bytes alone: they are raw binary of the tensor's
  // dtype, shape and byte order (what the file's description says), read as the CLI's --raw-* read.
  async openStored(msg) {
    const e = msg.tensor;
    if (e.fortranOrder) throw new Error(`tensor '${e.name}' is stored in Fortran order: open the file whole to view it`);
    const raw = { dtype: e.dtype, shape: e.shape, offset: 0, endian: e.bigEndian ? 'big' : 'little' };
    return handlers.open({ name: msg.name, bytes: msg.bytes, raw });
  },

  // What a setting amounts to (Qplay#describe of its API options: code range, effective options),
  // cached by the page (app/core.js describeCurrent).
  describeOptions(msg) {
    return { type: 'optionsDescribed', description: qp.describe(msg.options) };
  },

  // The catalog and describe() of every scheme the page's pickers offer (app/core.js).
  coreTables() {
    return { type: 'coreTables', tables: buildCoreTables(qp) };
  },

  describe(msg) {
    const r = qp.describeHead(new Uint8Array(msg.bytes), msg.size);
    return r.info ? { type: 'described', info: r.info } : { type: 'described', bytesNeeded: r.bytesNeeded };
  },

  plan(msg) {
    const entries = qp.planWholeFile(msg.info, msg.options, msg.overrides);
    plan = new Map(entries.map((e) => [e.name, e]));
    plan.entries = entries;
    // What the page shows and schedules by (the options stay here).
    const shown = entries.map(({ options, ...rest }) => rest);
    return { type: 'planned', plan: shown };
  },

  tensor(msg) {
    const entry = plan?.get(msg.name);
    if (!entry) throw new Error(`tensor '${msg.name}' is not in this worker's plan`);
    const result = qp.quantizeTensorBytes(entry, new Uint8Array(msg.bytes));
    for (const k of ['codes', 'scale', 'zeroPoint']) if (result[k]) result[k] = own(result[k]);
    if (result.kept) result.kept.bytes = own(result.kept.bytes);
    return [{ type: 'quantized', result }, resultBuffers(result)];
  },

  writerOpen(msg) {
    writer?.close();
    if (!plan) throw new Error('no plan to write');
    writer = qp.bundleWriter(plan.entries, msg.format);
    const header = { offset: writer.header.offset, bytes: own(writer.header.bytes) };
    return [{ type: 'writer', header, totalSize: writer.totalSize }, [header.bytes.buffer]];
  },

  writerAdd(msg) {
    if (!writer) throw new Error('no bundle writer is open');
    const chunks = writer.add(msg.result).map((c) => ({ offset: c.offset, bytes: own(c.bytes) }));
    return [{ type: 'chunks', chunks }, chunks.map((c) => c.bytes.buffer)];
  },

  writerFinish() {
    if (!writer) throw new Error('no bundle writer is open');
    const w = writer;
    writer = null;
    const c = w.finish();
    const chunk = { offset: c.offset, bytes: own(c.bytes) };
    return [{ type: 'chunk', chunk }, [chunk.bytes.buffer]];
  },

  writerClose() {
    writer?.close();
    writer = null;
    return { type: 'closed' };
  },

  dataset(msg) {
    datasets.set(msg.key, { values: msg.values, shape: msg.shape });
    return { type: 'stored' };
  },

  synthesize(msg) {
    const values = synthesize(msg.spec);
    datasets.set(msg.key, { values, shape: msg.spec.shape });
    if (!msg.want) return { type: 'stored' };
    const copy = values.slice();
    return [{ type: 'stored', values: copy }, [copy.buffer]];
  },

  aux(msg) {
    auxFiles.set(msg.name, new Uint8Array(msg.bytes));
    return { type: 'stored' };
  },

  values(msg) {
    const values = own(qp.values(msg.tensor));
    return [{ type: 'values', values }, [values.buffer]];
  },

  async quantize(msg) {
    const r = await quantize(msg);
    const id = keep({ result: r, source: msg.source, options: msg.options });
    const { out, transfer } = summarize(id, r);
    return [{ type: 'result', result: out }, transfer];
  },

  async sweep(msg) {
    const points = [];
    const total = msg.points.length;
    for (let k = 0; k < total; k++) {
      try {
        const r = await quantize(msg, msg.points[k]);
        points.push({ metrics: metricsOf(r.metrics) });
      } catch (err) {
        points.push({ error: err.message ?? String(err) });
      }
      post({ type: 'progress', id: msg.id, done: k + 1, total });
    }
    return { type: 'swept', points };
  },

  find(msg) {
    const kept = results.get(msg.resultId);
    if (!kept) throw new Error('that result is no longer kept: run again');
    const r = kept.result;
    let values;
    if (typeof kept.source.tensor === 'string') {
      if (!tensorValues.has(kept.source.tensor)) tensorValues.set(kept.source.tensor, qp.values(kept.source.tensor));
      values = tensorValues.get(kept.source.tensor);
    } else {
      values = datasets.get(kept.source.dataset).values;
    }
    // The core answers from the run's own options, params and rule (Qplay#find).
    const found = qp.find({ input: { values, shape: r.shape }, result: r },
      { kind: msg.kind, lo: msg.lo, hi: msg.hi, last: msg.last, group: msg.group });
    return { type: 'found', ...found };
  },

  // The params the core computes for the whole source under `options` (per tensor, dynamic): what
  // the page starts "static, given" params from, so they fit the dtype and the data.
  tensorParams(msg) {
    const r = qp.quantize(sourceOf(msg.source), msg.options);
    return { type: 'params', scale: r.scale[0], zeroPoint: Number(r.zeroPoint[0]) };
  },

  export(msg) {
    const kept = results.get(msg.resultId);
    if (!kept) throw new Error('that result is no longer kept: run again, then download');
    const bytes = own(qp.export(kept.result, msg.format));
    return [{ type: 'exported', bytes }, [bytes.buffer]];
  },
};

self.addEventListener('message', async (e) => {
  const msg = e.data;
  const handler = handlers[msg?.type];
  try {
    if (!handler) throw new Error(`unknown message type '${msg?.type}'`);
    if (!['init', 'synthesize', 'dataset', 'aux'].includes(msg.type) && !qp) throw new Error('the wasm module is not loaded yet');
    const reply = await handler(msg);
    const [body, transfer] = Array.isArray(reply) ? reply : [reply, []];
    post({ ...body, id: msg.id }, transfer);
  } catch (err) {
    post({ type: 'error', id: msg?.id, message: err?.message ?? String(err) });
  }
});
