// The page side of bench/browser.mjs: loads both bench modules and onnxruntime-web (wasm backend,
// files served from node_modules by browser.mjs) and exposes runBench() for the runner.
import * as ort from '/ort/ort.wasm.min.mjs';

import { BenchModule, runSuite } from '/bench/suite.mjs';

ort.env.wasm.wasmPaths = '/ort/';

async function load(flavour) {
  const { default: create } = await import(`/build/qplay_bench_${flavour}.js`);
  const response = await fetch(`/build/qplay_bench_${flavour}.wasm`);
  if (!response.ok) throw new Error(`qplay_bench_${flavour}.wasm: HTTP ${response.status}`);
  return new BenchModule(await create({ wasmBinary: await response.arrayBuffer() }), flavour);
}

window.runBench = async (opts) => {
  const log = (line) => console.log(`bench (chromium): ${line}`);
  log(`crossOriginIsolated=${self.crossOriginIsolated} (timer resolution follows it)`);
  const simd = await load('simd');
  const baseline = await load('baseline');
  return runSuite({ simd, baseline, ort, ...opts, log });
};
window.benchReady = true;
