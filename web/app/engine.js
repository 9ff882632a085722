// The page's side of the worker protocol (web/worker.js). Every request is a typed message
// {type, id, ...}; the worker answers with a message carrying the same id (a result, progress
// reports, or {type: 'error', id, message}). Cancelling terminates the worker, which is the only
// way to stop a wasm call in flight, and starts a fresh one; the engine then sends it the open file
// and the datasets again, so the page carries on where it was.

// The arrays of a whole-file tensor result (quantizeTensorBytes), to transfer rather than copy.
export function resultBuffers(r) {
  return [r.codes, r.scale, r.zeroPoint, r.kept?.bytes].filter(Boolean).map((a) => a.buffer);
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export class Engine extends EventTarget {
  constructor({ workerUrl, simd = 'auto' } = {}) {
    super();
    this.workerUrl = workerUrl ?? new URL('../worker.js', import.meta.url);
    this.simd = simd;
    this.nextId = 1;
    this.pending = new Map();  // id -> {resolve, reject, onProgress, type}
    this.file = null;          // {type, name, bytes: ArrayBuffer, raw?, tensor?} the open file, kept for a respawn
    this.datasets = new Map(); // key -> {values: Float32Array, shape} | {spec} (synthesized in the worker)
    this.aux = new Map();      // name -> ArrayBuffer: params and calibration files (the CLI's --params, --calibrate)
    this.info = null;
    this.ready = this.spawn();
  }

  get busy() {
    return this.pending.size > 0;
  }

  spawn() {
    this.worker = new Worker(this.workerUrl, { type: 'module' });
    this.worker.addEventListener('message', (e) => this.onMessage(e.data));
    // A worker that fails to load (missing module, syntax error) never answers: fail everything.
    this.worker.addEventListener('error', (e) => {
      e.preventDefault?.();
      this.failAll(new Error(e.message || 'the worker failed to start'));
    });
    return this.send('init', { simd: this.simd }).then(async (reply) => {
      this.info = reply.info;
      if (this.file) await this.sendFile();
      for (const [key, d] of this.datasets) await this.sendDataset(key, d);
      for (const [name, bytes] of this.aux) await this.sendAux(name, bytes);
      return reply.info;
    });
  }

  onMessage(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;  // an answer to a request that was cancelled
    if (msg.type === 'progress') {
      p.onProgress?.(msg);
      return;
    }
    this.pending.delete(msg.id);
    this.emitBusy();
    if (msg.type === 'error') p.reject(new Error(msg.message));
    else p.resolve(msg);
  }

  failAll(err) {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.emitBusy();
    for (const p of all) p.reject(err);
  }

  emitBusy() {
    this.dispatchEvent(new Event('busy'));
  }

  // Posts {type, id, ...payload}; ArrayBuffers in `transfer` move to the worker (the caller passes
  // copies of data it keeps).
  send(type, payload = {}, transfer = [], onProgress) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, type });
      this.emitBusy();
      this.worker.postMessage({ type, id, ...payload }, transfer);
    });
  }

  async request(type, payload = {}, { transfer = [], onProgress } = {}) {
    await this.ready;
    return this.send(type, payload, transfer, onProgress);
  }

  // Stops whatever runs: terminates the worker, rejects every pending request with CancelledError,
  // and starts a new worker with the same file and datasets.
  cancel() {
    this.worker.terminate();
    this.failAll(new CancelledError());
    this.ready = this.spawn();
    return this.ready;
  }

  // Opens a file in the worker; `raw` ({dtype, shape, offset, endian}) reads it as raw binary.
  async open(name, bytes, raw = null) {
    this.file = { type: 'open', name, bytes: bytes.slice(0), raw };
    await this.ready;
    return this.sendFile();
  }

  // One tensor's stored bytes (File.slice of a large file) as the open file: `tensor` is its entry
  // from the whole-file description (name, dtype, shape, stored type).
  async openStored(name, tensor, bytes) {
    this.file = { type: 'openStored', name, bytes: bytes.slice(0), tensor };
    await this.ready;
    return this.sendFile();
  }

  sendFile() {
    const { type, bytes, ...rest } = this.file;
    const copy = bytes.slice(0);
    return this.send(type, { ...rest, bytes: copy }, [copy]);
  }

  sendDataset(key, d, want = false) {
    if (d.spec) return this.send('synthesize', { key, spec: d.spec, want });
    const values = d.values.slice();
    return this.send('dataset', { key, values, shape: d.shape }, [values.buffer]);
  }

  // Synthetic data is generated in the worker (millions of samples would stall the page); the
  // worker keeps it under `key` and, when `want`, sends a copy back for the views.
  async synthesize(key, spec, { want = true } = {}) {
    const d = { spec };
    this.datasets.set(key, d);
    await this.ready;
    const reply = await this.sendDataset(key, d, want);
    return reply.values;
  }

  async setDataset(key, values, shape) {
    const d = { values, shape };
    this.datasets.set(key, d);
    await this.ready;
    return this.sendDataset(key, d);
  }

  sendAux(name, bytes) {
    const copy = bytes.slice(0);
    return this.send('aux', { name, bytes: copy }, [copy]);
  }

  // A further file by name: a params .npz, or a calibration tensor file.
  async addAux(name, bytes) {
    this.aux.set(name, bytes.slice(0));
    await this.ready;
    return this.sendAux(name, bytes);
  }

  terminate() {
    this.worker.terminate();
    this.failAll(new CancelledError());
  }
}
