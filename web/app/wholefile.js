// The whole-file run, without its view (panels/wholefile.js): every tensor of a model file,
// quantized by a pool of workers (app/pool.js) one tensor at a time from File.slice() of that
// tensor's bytes, and the quantized bundle written to a sink (ui/save.js) as it is produced.
//
// The main thread only schedules, reads slices and moves bytes. Describing the file, planning,
// quantizing and laying out the output happen in workers through the JS API's whole-file steps
// (docs/JS_API.md): describeHead, planWholeFile, quantizeTensorBytes in the pool, and one
// bundleWriter in a worker of its own (the planner), which also answers plan requests. DOM-free.
import { Engine, CancelledError, resultBuffers } from './engine.js';
import { Pool, defaultWorkers } from './pool.js';

// What a row can do instead of the core's default for it (quantize floating-point tensors of rank
// >= 2 with the page's scheme, keep the rest as they are).
export const ROW_ACTIONS = ['auto', 'page', 'keep', 'skip'];
// Schemes a row can be given instead of the page's (the common ones; the page's controls offer all).
export const ROW_DTYPES = ['int8', 'uint8', 'int4', 'uint4', 'int2', 'nf4', 'fp4', 'fp8_e4m3fn', 'fp8_e5m2', 'mxfp4', 'mxfp8_e4m3'];
export const OUTPUT_FORMATS = ['safetensors', 'npz'];

const product = (shape) => shape.reduce((a, b) => a * b, 1);

export class WholeFileRun {
  // options(dtype | null) -> the page's options for planWholeFile; onPlan() after the rows' plan
  // entries (or the plan's error) changed.
  constructor({ simd = 'auto', options, onPlan = () => {} }) {
    this.simd = simd;
    this.options = options;
    this.onPlan = onPlan;
    this.file = null;
    this.info = null;
    this.rows = [];
    this.workers = defaultWorkers();
    this.running = false;
    this.pool = null;
    this.planner = null;
    this.planError = null;
  }

  // Reads the head of `file` (as many bytes as the format's header needs, asked for by the core)
  // and lists its tensors with where their bytes lie. Throws the core's message for a malformed
  // file, prefixed with the file name as the CLI prefixes its path.
  async describe(file) {
    this.clear();
    const planner = new Engine({ simd: this.simd });
    this.planner = planner;
    let want = Math.min(file.size, 16);
    for (;;) {
      const bytes = await file.slice(0, want).arrayBuffer();
      let reply;
      try {
        reply = await planner.request('describe', { size: file.size, bytes }, { transfer: [bytes] });
      } catch (err) {
        if (err instanceof CancelledError || err.message.startsWith(`${file.name}: `)) throw err;
        throw new Error(`${file.name}: ${err.message}`);
      }
      if (reply.info) {
        this.file = file;
        this.info = reply.info;
        this.rows = reply.info.tensors.map((x, index) => ({
          ...x, index, elements: product(x.shape), action: 'auto', entry: null, status: 'queued', report: null, error: null,
        }));
        await this.replan();
        return this.rows;
      }
      if (!(reply.bytesNeeded > want) || reply.bytesNeeded > file.size) throw new Error(`${file.name}: the header did not fit in ${want} bytes`);
      want = reply.bytesNeeded;
    }
  }

  clear() {
    this.pool?.stop();
    this.planner?.terminate();
    this.planner = null;
    this.file = null;
    this.info = null;
    this.rows = [];
  }

  // Per-row choices as the API's overrides (exact names; the first match wins) and the tensors
  // the output holds (skipped rows are left out of the description before planning).
  planRequest() {
    const overrides = [];
    for (const r of this.rows) {
      if (r.action === 'keep') overrides.push({ pattern: r.name, keep: true });
      else if (r.action === 'page') overrides.push({ pattern: r.name, options: this.options(null) });
      else if (ROW_DTYPES.includes(r.action)) overrides.push({ pattern: r.name, options: this.options(r.action) });
    }
    const info = { ...this.info, tensors: this.info.tensors.filter((_, k) => this.rows[k].action !== 'skip') };
    return { info, options: this.options(null), overrides };
  }

  // Asks the core what it will do with each row under the current settings (the scheme column).
  // A setting the core refuses for some tensor (an axis it lacks) is kept as planError, and blocks
  // the run.
  async replan(request = this.planRequest()) {
    if (!this.planner || !this.info) return null;
    const token = (this.planToken = (this.planToken ?? 0) + 1);
    try {
      const { plan } = await this.planner.request('plan', request);
      if (token !== this.planToken) return null;
      const byName = new Map(plan.map((e) => [e.name, e]));
      for (const r of this.rows) r.entry = byName.get(r.name) ?? null;
      this.planError = null;
      this.onPlan();
      return plan;
    } catch (err) {
      if (token !== this.planToken || err instanceof CancelledError) return null;
      for (const r of this.rows) r.entry = null;
      this.planError = err;
      this.onPlan();
      throw err;
    }
  }

  finished() {
    return this.rows.filter((r) => ['done', 'kept', 'error'].includes(r.status)).length;
  }

  // Runs the plan into `sinkPromise` (ui/save.js openSink, asked for before the first await).
  // onRow(row) as a row changes; onProgress({done, total, doneBytes, totalBytes}) as tensors
  // finish. Resolves to {finished, size, workers, timing}; rejects with the first failure or
  // CancelledError.
  async run({ format, sinkPromise, onRow = () => {}, onProgress = () => {} }) {
    if (this.running || !this.file) throw new Error('no file to run');
    const file = this.file;
    this.running = true;
    for (const r of this.rows) {
      r.status = 'queued';
      r.report = null;
      r.error = null;
    }
    const pool = new Pool({ size: this.workers, simd: this.simd });
    this.pool = pool;
    const planner = this.planner;
    let sink = null;
    let writerOpen = false;
    try {
      sink = await sinkPromise;
      if (!sink) throw new CancelledError();
      // The planner (which writes the output) and every pool worker make the same plan for
      // themselves (see web/worker.js).
      const request = this.planRequest();
      const plan = await this.replan(request);
      if (!plan) throw new CancelledError();
      await Promise.all(pool.engines.map((e) => e.request('plan', request)));
      const rows = plan.map((entry) => this.rows.find((r) => r.name === entry.name));
      const totalBytes = plan.reduce((a, e) => a + e.dataBytes, 0) || 1;
      let doneBytes = 0;
      let finished = 0;
      const progress = () => onProgress({ done: finished, total: plan.length, doneBytes, totalBytes });
      progress();
      // Where the time goes (milliseconds summed over tensors; the bench reads them): reading the
      // slices, a tensor's round trip to its worker, and the writer plus the sink.
      const timing = { read: 0, quantize: 0, write: 0 };
      const timed = async (key, promise) => {
        const t0 = performance.now();
        try {
          return await promise;
        } finally {
          timing[key] += performance.now() - t0;
        }
      };
      // The output's layout comes first: its header is the first chunk.
      const opened = await planner.request('writerOpen', { format });
      writerOpen = true;
      await sink.writeAt(opened.header.offset, opened.header.bytes);
      // A .safetensors places every tensor at an offset fixed by the header, so results go to the
      // writer as they finish. An .npz is written in input order (as the CLI writes it): a result
      // that finishes early waits here for the ones before it.
      const waiting = new Map();
      let nextToWrite = 0;
      let writing = Promise.resolve();
      const add = (result) => timed('write', (async () => {
        const reply = await planner.request('writerAdd', { result }, { transfer: resultBuffers(result) });
        for (const c of reply.chunks) await sink.writeAt(c.offset, c.bytes);
      })());
      const writeReady = async () => {
        while (waiting.has(nextToWrite)) {
          const result = waiting.get(nextToWrite);
          waiting.delete(nextToWrite);
          nextToWrite += 1;
          await add(result);
        }
      };
      let failure = null;
      const fail = (err) => {
        failure ??= err;
        pool.stop();
      };
      await pool.run(plan.map((entry, k) => ({ entry, k })), {
        input: ({ entry, k }) => {
          rows[k].status = 'running';
          onRow(rows[k]);
          return timed('read', file.slice(entry.dataOffset, entry.dataOffset + entry.dataBytes).arrayBuffer());
        },
        send: (engine, { entry }, bytes) => timed('quantize', engine.request('tensor', { name: entry.name, bytes }, { transfer: [bytes] })),
        done: ({ entry, k }, reply) => {
          const r = rows[k];
          r.report = reply.result.report;
          r.status = reply.result.report.quantized ? 'done' : 'kept';
          if (format === 'npz') {
            waiting.set(k, reply.result);
            writing = writing.then(writeReady).catch(fail);
          } else {
            writing = writing.then(() => add(reply.result)).catch(fail);
          }
          doneBytes += entry.dataBytes;
          finished += 1;
          onRow(r);
          progress();
        },
        // A tensor the core refuses stops the file: a bundle with a hole is not the planned file.
        failed: ({ k }, err) => {
          rows[k].status = 'error';
          rows[k].error = err.message;
          onRow(rows[k]);
          fail(new Error(`${rows[k].name}: ${err.message}`));
        },
      }).catch((err) => { if (!failure) throw err; });
      await writing;
      if (failure) throw failure;
      const last = await planner.request('writerFinish', {});
      writerOpen = false;
      if (last.chunk.bytes.byteLength) await sink.writeAt(last.chunk.offset, last.chunk.bytes);
      const size = opened.totalSize ?? last.chunk.offset + last.chunk.bytes.byteLength;
      const blob = (await sink.close()) ?? null;
      sink = null;
      return { finished, size, workers: pool.size, timing, blob };
    } catch (err) {
      await sink?.abort();
      if (writerOpen) planner?.request('writerClose', {}).catch(() => {});
      for (const r of this.rows) if (r.status === 'running') r.status = 'queued';
      throw err;
    } finally {
      pool.stop();
      if (this.pool === pool) this.pool = null;
      this.running = false;
    }
  }

  cancel() {
    this.pool?.stop();
  }
}
