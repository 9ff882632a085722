// Loads the wasm module this browser can run (SIMD when supported, else baseline) and shows its
// build info.

// A minimal module whose only function uses v128 ops (i8x16.splat, i8x16.popcnt): it validates
// only in engines with wasm SIMD.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // i32.const 0; splat; popcnt
]);

export function wasmFlavour() {
  return WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'baseline';
}

export async function loadQplay(flavour = wasmFlavour()) {
  const { default: createQplayModule } = await import(`./wasm/qplay_${flavour}.js`);
  return createQplayModule();
}

async function main() {
  const status = document.getElementById('status');
  const list = document.getElementById('build-info');
  const flavour = wasmFlavour();
  try {
    const qplay = await loadQplay(flavour);
    const info = qplay.buildInfo();
    const fields = {
      version: info.version,
      module: `qplay_${flavour}.wasm`,
      simd: info.simd ? 'yes' : 'no',
      kernels: info.kernels,
    };
    for (const [name, value] of Object.entries(fields)) {
      list.querySelector(`[data-field="${name}"]`).textContent = value;
    }
    list.hidden = false;
    status.textContent = 'WebAssembly module loaded.';
  } catch (err) {
    status.textContent = `Could not load wasm/qplay_${flavour}.js: ${err?.message ?? err}. ` +
      'Build and serve the page with `npm start`.';
    status.classList.add('error');
  }
}

main();
