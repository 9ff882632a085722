// A pool of module workers for the whole-file mode: each worker (web/worker.js behind an Engine)
// loads its own wasm instance, and the main thread feeds them one tensor at a time. A job's input
// is read from the File only when a worker is free for it (File.slice of that tensor's bytes), so
// at any moment the page holds at most one tensor's input per worker, whatever the file's size.
import { Engine, CancelledError } from './engine.js';

// More workers than cores only adds wasm instances (each with its own heap) that wait for a core;
// the cap keeps a many-core machine from holding dozens of tensor-sized heaps at once.
export const MAX_WORKERS = 8;

export function defaultWorkers() {
  const cores = Number(globalThis.navigator?.hardwareConcurrency) || 1;
  return Math.max(1, Math.min(cores, MAX_WORKERS));
}

export class Pool {
  constructor({ size = defaultWorkers(), simd = 'auto', workerUrl } = {}) {
    this.size = Math.max(1, Math.min(MAX_WORKERS, Math.floor(size) || 1));
    this.engines = Array.from({ length: this.size }, () => new Engine({ simd, workerUrl }));
    this.ready = Promise.all(this.engines.map((e) => e.ready));
    this.stopped = false;
  }

  // One request on the first worker (describing a file's head is quick and needs no parallelism).
  request(type, payload, options) {
    return this.engines[0].request(type, payload, options);
  }

  // Runs `jobs` in order of the array, each on the next free worker: `input(job)` reads what the
  // job needs (awaited only once a worker is free), `send(engine, job, input)` makes the request,
  // `done(job, reply)` / `failed(job, error)` are called as each finishes. Resolves when every job
  // has finished; rejects with CancelledError after stop().
  async run(jobs, { input, send, done, failed }) {
    let next = 0;
    const lane = async (engine) => {
      while (!this.stopped && next < jobs.length) {
        const job = jobs[next++];
        try {
          const data = await input(job);
          if (this.stopped) break;
          const reply = await send(engine, job, data);
          done(job, reply);
        } catch (err) {
          if (this.stopped || err instanceof CancelledError) break;
          failed(job, err);
        }
      }
    };
    await Promise.all(this.engines.map(lane));
    if (this.stopped) throw new CancelledError();
  }

  // Ends every worker (the only way to stop a wasm call in flight); the pool is unusable after.
  stop() {
    this.stopped = true;
    for (const e of this.engines) e.terminate();
  }
}
