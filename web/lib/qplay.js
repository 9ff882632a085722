// The JavaScript API of qplay: loads the SIMD or the baseline wasm module and wraps its Embind
// bindings (wasm/bindings.cpp) so that every failure is a thrown Error carrying the core's message.
// Runs in pages, module workers and node (docs/JS_API.md). Types: qplay.d.ts beside this file.

// A minimal module whose only function uses v128 ops (i8x16.splat, i8x16.popcnt): it validates
// only in engines with wasm SIMD.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // i32.const 0; splat; popcnt
]);

const CONFIG_KEYS = ['simd', 'wasmBinary', 'baseUrl'];
const EXPORT_FORMATS = ['npz', 'json', 'safetensors', 'gguf'];
const BUNDLE_FORMATS = ['safetensors', 'npz', 'gguf'];

/** True when this engine runs wasm SIMD (the probe module validates). */
export function simdSupported() {
  return WebAssembly.validate(SIMD_PROBE);
}

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

function fail(message) {
  return new Error(message);
}

// Unwraps a binding's {ok, error, ...}.
function check(r) {
  if (!r.ok) throw fail(r.error);
  return r;
}

function kindOf(v) {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return Object.prototype.toString.call(v).slice(8, -1);
}

// Any byte source as a Uint8Array over the same memory (no copy here: the binding copies once).
function asBytes(bytes, what) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw fail(`${what} must be a Uint8Array, an ArrayBuffer or another ArrayBuffer view (got ${kindOf(bytes)})`);
}

// Raw deflate through the platform, stopping as soon as the output passes the size the archive
// declares (the core checks the exact size and CRC-32 afterwards).
async function inflateRaw(raw, declared, name) {
  if (typeof DecompressionStream !== 'function') throw fail(`zip member ${name} is deflated and this engine has no DecompressionStream`);
  const reader = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const out = new Uint8Array(declared);
  let filled = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      throw fail(`zip member ${name}: bad deflate data (${err.message})`);
    }
    if (chunk.done) break;
    if (filled + chunk.value.length > declared) {
      await reader.cancel();
      throw fail(`zip member ${name} inflates to more than the ${declared} bytes it declares`);
    }
    out.set(chunk.value, filled);
    filled += chunk.value.length;
  }
  return filled === declared ? out : out.subarray(0, filled);
}

async function readWasmBinary(flavour, base, wasmBinary) {
  if (typeof wasmBinary === 'function') wasmBinary = await wasmBinary(flavour);
  if (wasmBinary !== undefined && wasmBinary !== null) return asBytes(wasmBinary, 'wasmBinary');
  // The modules are built for web and worker (ENVIRONMENT=web,worker); in node their loader cannot
  // fetch a file path, so the binary is read here and handed over as wasmBinary.
  if (isNode && base.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    const url = new URL(`qplay_${flavour}.wasm`, base);
    try {
      return new Uint8Array(await readFile(url));
    } catch (err) {
      throw fail(`cannot read ${url.pathname}: ${err.message} (build the wasm modules first: ` +
        'bash scripts/build.sh wasm, or pass baseUrl or wasmBinary)');
    }
  }
  return undefined;  // pages and workers: the loader fetches qplay_<flavour>.wasm next to its .js
}

/**
 * Loads a qplay module. config: {simd: 'auto' (default) | 'off', wasmBinary?, baseUrl?}.
 * simd 'auto' loads the SIMD build when the engine validates wasm SIMD, else the baseline build;
 * 'off' forces the baseline. wasmBinary: the .wasm bytes of the build that will be loaded, or a
 * function (flavour) => bytes. baseUrl: the folder holding qplay_{simd,baseline}.{js,wasm}
 * (default: ../wasm/ next to this file, where scripts/build.sh web stages them).
 */
export async function createQplay(config = {}) {
  if (config === null || typeof config !== 'object') throw fail(`createQplay takes an object (got ${kindOf(config)})`);
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw fail(`unknown createQplay option '${key}' (allowed: ${CONFIG_KEYS.join(', ')})`);
    }
  }
  const simd = config.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'off') {
    throw fail(`invalid value '${String(simd)}' for simd (allowed: auto, off)`);
  }
  const flavour = simd === 'auto' && simdSupported() ? 'simd' : 'baseline';
  let base = config.baseUrl ?? new URL('../wasm/', import.meta.url);
  if (typeof base === 'string' && !base.endsWith('/')) base += '/';
  base = new URL(base, import.meta.url);

  const wasmBinary = await readWasmBinary(flavour, base, config.wasmBinary);
  const script = new URL(`qplay_${flavour}.js`, base);
  let factory;
  try {
    ({ default: factory } = await import(script.href));
  } catch (err) {
    throw fail(`cannot load ${script.href}: ${err.message}`);
  }
  // The loader logs its own failures before rejecting; the rejection is reported instead.
  let loaded = false;
  const printErr = (text) => { if (loaded) console.warn(text); };
  let module;
  try {
    module = await factory(wasmBinary ? { wasmBinary, printErr } : { printErr });
    loaded = true;
  } catch (err) {
    throw fail(`cannot instantiate qplay_${flavour}.wasm: ${err?.message ?? err}`);
  }
  const info = module.buildInfo();
  if (info.simd !== (flavour === 'simd')) {
    throw fail(`wasmBinary holds the ${info.simd ? 'SIMD' : 'baseline'} build, but the ${flavour} build ` +
      `was to be loaded (simd: '${simd}', engine SIMD: ${simdSupported()})`);
  }
  return new Qplay(module, flavour);
}

// A bundle member's file name as the result key that also carries it: codebook.npy -> codebook,
// scale_e8m0.npy -> scaleE8m0 (its shape under codebookShape, scaleE8m0Shape).
export function memberKey(fileName) {
  return fileName.replace(/\.npy$/, '').replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

// The result's members ([{name, dtype, shape, data}], what the .npz adds after params.json) also as
// named keys, for callers that read result.codebook or result.blocksShape.
function nameMembers(result) {
  for (const { name, shape, data } of result.members) {
    const key = memberKey(name);
    result[key] = data;
    result[`${key}Shape`] = shape;
  }
  return result;
}

// The source of a quantize, as the binding takes it.
function sourceSpec(source, tensorOption) {
  if (source === undefined || source === null) return { tensor: tensorOption ?? '' };
  if (typeof source === 'string') {
    if (tensorOption !== undefined && tensorOption !== null && tensorOption !== source) {
      throw fail(`the source names tensor '${source}' but the tensor option names '${tensorOption}'`);
    }
    return { tensor: source };
  }
  if (typeof source === 'object' && 'values' in source) {
    for (const key of Object.keys(source)) {
      if (!['values', 'shape', 'name'].includes(key)) {
        throw fail(`unknown key '${key}' in the source (allowed: values, shape, name)`);
      }
    }
    if (tensorOption !== undefined && tensorOption !== null) {
      throw fail('the tensor option picks a tensor of the open file, but the source is {values, shape}');
    }
    return { values: source.values, shape: source.shape, name: source.name };
  }
  throw fail(`the source must be a tensor name of the open file or {values: Float32Array, shape} (got ${kindOf(source)})`);
}

// The parts of a run inspect() and find() send to the core: the run's options (default: the
// result's effective ones), the input
// values and the result's params (and dequantized values, for maxError over element formats).
function runParts(run, what) {
  if (run === null || typeof run !== 'object' || !run.result || !run.input) {
    throw fail(`${what}: the run must be {options, input: {values, shape}, result} (got ${kindOf(run)})`);
  }
  const { options, input, result } = run;
  return {
    // The result's own options are its effective ones (valid input to quantize).
    options: options ?? result.options ?? {},
    input: { values: input.values, shape: input.shape ?? result.shape },
    params: result.params,
    dequantized: result.dequantized ?? null,
  };
}

export class Qplay {
  #m;
  #flavour;
  #fileName = '';

  constructor(module, flavour) {
    this.#m = module;
    this.#flavour = flavour;
  }

  /** 'simd' or 'baseline': which build was loaded. */
  get flavour() {
    return this.#flavour;
  }

  /** {simd, version, kernels}: whether the module holds SIMD kernels, and which table runs. */
  buildInfo() {
    const { simd, version, kernels } = this.#m.buildInfo();
    return { simd, version, kernels };
  }

  /**
   * Copies a tensor file (.npy or .npz) into the wasm heap, where it stays until close() or the
   * next open(), and lists its tensors. The file name (optional; a string or {fileName}) names it in
   * messages and is the default `fileName` of results from it.
   */
  open(bytes, name = '') {
    let data = asBytes(bytes, 'open: the file');
    const named = typeof name === 'object' && name !== null;
    const fileName = named ? (name.fileName ?? '') : name;
    const raw = named ? (name.raw ?? null) : null;
    const inflated = named ? (name.inflated ?? null) : null;
    if (typeof fileName !== 'string') throw fail(`open: the file name must be a string (got ${kindOf(fileName)})`);
    this.#fileName = '';
    // Deflated members come inflated by the caller (inflate()); the core checks their sizes and
    // CRC-32 and rewrites the archive stored, which openFile reads like any .npz.
    if (inflated !== null) data = this.#storedNpz(data, inflated, fileName);
    const r = check(this.#m.openFile(data, fileName, raw));
    this.#fileName = fileName;
    return { tensors: r.tensors };
  }

  #storedNpz(data, inflated, fileName) {
    if (!Array.isArray(inflated)) throw fail(`open: inflated must be an array of {name, bytes} (got ${kindOf(inflated)})`);
    const members = inflated.map((m) => ({ name: m?.name, bytes: m?.bytes && asBytes(m.bytes, `open: inflated member ${m.name}`) }));
    const r = this.#m.storedNpz(data, members);
    if (!r.ok) throw fail(fileName ? `${fileName}: ${r.error}` : r.error);
    return r.bytes;
  }

  /**
   * The members of a zip (.npz) as the core reads them, after its guards (bounds, methods, a zip
   * bomb's declared ratio, the 4 GiB total): [{name, method (0 stored, 8 deflated), offset (of the
   * member's stored bytes in the archive), compressedSize, size, crc}]. Nothing is decompressed.
   */
  zipMembers(bytes) {
    return check(this.#m.zipMembers(asBytes(bytes, 'zipMembers: the archive'))).members;
  }

  /**
   * The deflated members of a zip (.npz), inflated by the platform's DecompressionStream
   * ('deflate-raw'): [{name, bytes}], the `inflated` option of open(). Empty for a stored archive
   * or any other file; the core's guards run before anything is inflated, and a member that
   * inflates to more bytes than it declares stops there. fileName prefixes error messages, as
   * open()'s does.
   */
  async inflate(bytes, fileName = '') {
    const data = asBytes(bytes, 'inflate: the archive');
    if (data.length < 4 || data[0] !== 0x50 || data[1] !== 0x4b || data[2] !== 3 || data[3] !== 4) return [];
    const r = this.#m.zipMembers(data);
    if (!r.ok) throw fail(fileName ? `${fileName}: ${r.error}` : r.error);
    const out = [];
    for (const m of r.members) {
      if (m.method !== 8) continue;
      const raw = data.subarray(m.offset, m.offset + m.compressedSize);
      out.push({ name: m.name, bytes: await inflateRaw(raw, m.size, m.name) });
    }
    return out;
  }

  /**
   * What pickers are built from: {options: [{key, flag, kind, values, choices, min, max, default,
   * doc}] (the option table's rows a JS caller can give), formats: [{name, family, bits, option,
   * summary, docs, maxNormal, codebook, ggml}] (the format registry: one row per --dtype / --format
   * name; ggml: {name, typeId, blockElems, subBlock, blockBytes, codesSigned, hasOffset} or null),
   * integerSpellings}.
   */
  catalog() {
    const r = check(this.#m.catalog());
    delete r.ok;
    return r;
  }

  /** Releases the open file's heap memory. Results already returned stay valid. */
  close() {
    this.#m.closeFile();
    this.#fileName = '';
  }

  /** A tensor of the open file (default: the first) as float32 values, in a JS-owned array. */
  values(tensor = '') {
    if (typeof tensor !== 'string') throw fail(`values: the tensor name must be a string (got ${kindOf(tensor)})`);
    return check(this.#m.tensorValues(tensor, this.#fileName)).values;
  }

  /**
   * Quantizes a tensor of the open file (by name; undefined picks options.tensor or the first) or
   * {values: Float32Array, shape}. options mirror the CLI flags (docs/JS_API.md).
   */
  quantize(source, options = {}) {
    const spec = sourceSpec(source, options?.tensor ?? undefined);
    // The options' fileName, when given, wins over this default (the core reads the options).
    const fileName = 'values' in spec ? '' : this.#fileName;
    const r = check(this.#m.quantize(spec, options, fileName));
    delete r.ok;
    return nameMembers(r);
  }

  /**
   * What a UI draws for these options (the options of quantize): {effective (the options after the
   * profile, as quantize's result reports them), locked [{key, value, reason}] (what the profile or
   * the format fixes), profileDefaults, range {qmin, qmax}, family, bits, division, levels
   * (Float32Array: the value of each code before scaling, for formats with fixed levels),
   * doubleQuantApplies}. Invalid options throw the message quantize would.
   */
  describe(options = {}) {
    const r = check(this.#m.describe(options));
    delete r.ok;
    return r;
  }

  /**
   * The inspector's answers for elements of a result, from the core's own rule (never re-derived
   * in JS): run = {options? (default: result.options), input {values, shape}, result}.
   * Returns one {index, group, x, scale, zeroPoint, scaled, integer, shifted, rounded, tie, clipped,
   * code, dequantized} per index; `integer` false (element and ggml formats): only index, group, x,
   * scale, zeroPoint and scaled apply.
   */
  inspect(run, indices) {
    const { options, input, params } = runParts(run, 'inspect');
    if (!Array.isArray(indices)) throw fail(`inspect: indices must be an array of element indices (got ${kindOf(indices)})`);
    return check(this.#m.inspect(options, input, params, indices)).elements;
  }

  /**
   * Searches a result (run as for inspect): query {kind: 'ties'|'clipped'|'maxError'|'bin', lo, hi,
   * last (the bin includes hi), group (one param group), after (indices above it), limit (50)}.
   * Returns {indices (ascending, at most limit), total}.
   */
  find(run, query) {
    const { options, input, params, dequantized } = runParts(run, 'find');
    const r = check(this.#m.findElements(options, input, params, query ?? null, dequantized));
    return { indices: Array.from(r.indices), total: r.total };
  }

  /** The elements (ascending) of param group `group` of a tensor of `shape` under `options`. */
  groupElements(options, shape, group) {
    return Array.from(check(this.#m.groupElements(options ?? {}, shape, group)).indices);
  }

  /** The param group element `flat` of a tensor of `shape` uses under `options`. */
  paramIndex(options, shape, flat) {
    return check(this.#m.paramIndex(options ?? {}, shape, flat)).group;
  }

  /**
   * Static params calibrated by an observer ('minmax' or 'moving-average:C') over tensors: names in
   * the open file, {values, shape, fileName?} or {bytes, fileName?} (a whole file; options.tensor
   * picks its tensor). options are quantize's (dtype, mode, granularity, profile...). The result is
   * the `params` option of a later quantize.
   */
  calibrate(tensors, observer = 'minmax', options = {}) {
    if (!Array.isArray(tensors)) throw fail(`calibrate needs an array of tensors (got ${kindOf(tensors)})`);
    if (options?.fileName !== undefined && options?.fileName !== null) {
      throw fail('fileName names the input of quantize; give each calibration tensor its own fileName');
    }
    const specs = tensors.map((t, i) => {
      if (typeof t === 'string') return { tensor: t, fileName: this.#fileName };
      if (t === null || typeof t !== 'object' || !('values' in t || 'bytes' in t)) {
        throw fail(`calibration tensor ${i + 1} must be a tensor name, {values, shape} or {bytes} (got ${kindOf(t)})`);
      }
      for (const key of Object.keys(t)) {
        if (!['values', 'shape', 'name', 'bytes', 'fileName'].includes(key)) {
          throw fail(`unknown key '${key}' in calibration tensor ${i + 1} (allowed: values, shape, bytes, fileName)`);
        }
      }
      const fileName = t.fileName ?? '';
      if (typeof fileName !== 'string') throw fail(`calibration tensor ${i + 1}: fileName must be a string`);
      if ('bytes' in t) return { bytes: asBytes(t.bytes, `calibration tensor ${i + 1}: bytes`), fileName };
      return { values: t.values, shape: t.shape, fileName };
    });
    return check(this.#m.calibrate(specs, options, observer)).params;
  }

  /**
   * The result as file bytes: 'npz' is the CLI's bundle byte for byte, 'json' its params.json (what
   * `qplay quantize --json` prints), 'gguf' the CLI's -o X.gguf of a `format` (ggml) run.
   */
  export(result, format = 'npz') {
    if (!EXPORT_FORMATS.includes(format)) {
      throw fail(`export format '${String(format)}' is not supported (supported: ${EXPORT_FORMATS.join(', ')})`);
    }
    if (result === null || typeof result !== 'object' || typeof result.paramsJson !== 'string' || !result.params) {
      throw fail('export needs a result returned by quantize');
    }
    if (format === 'json') return new TextEncoder().encode(result.paramsJson);
    if (format === 'gguf') {
      if (!result.blocks) throw fail("export 'gguf' needs the result of a run with the format option (a ggml block format)");
      return check(this.#m.exportGguf({
        name: result.input.tensor,
        shape: result.shape,
        format: result.options.format,
        blocks: result.blocks,
        blocksShape: result.blocksShape,
        paramsJson: result.paramsJson,
      })).bytes;
    }
    if (format === 'safetensors') {
      // As the CLI: a ggml run's storage is its blocks, which a safetensors bundle has no member for.
      if (result.blocks) throw fail("export 'safetensors' cannot hold a format (ggml) run: export 'gguf' or 'npz'");
      return check(this.#m.exportSafetensors({
        name: result.input?.tensor ?? 'array',
        codes: result.codes,
        shape: result.shape,
        scale: result.scale,
        zeroPoint: result.zeroPoint,
        paramShape: result.params.shape,
        paramsJson: result.paramsJson,
      })).bytes;
    }
    return check(this.#m.exportNpz({
      codes: result.codes,
      shape: result.shape,
      scale: result.scale,
      zeroPoint: result.zeroPoint,
      paramShape: result.params.shape,
      dequantized: result.dequantized,
      paramsJson: result.paramsJson,
      // codebook.npy, packed.npy, blocks.npy...: whatever the run adds, in the bundle's order.
      members: result.members,
    })).bytes;
  }

  // ---- whole-file mode (docs/JS_API.md) ---------------------------------------------------------

  /**
   * Describes a file from its first bytes: {info} (what open() would list, with each tensor's
   * dataOffset/dataBytes) or {bytesNeeded}: slice that many bytes from the start and call again.
   * options.raw {dtype, shape, offset, endian} describes raw binary (no bytes needed).
   */
  describeHead(head, fileSize, options = {}) {
    const r = check(this.#m.describeHead(asBytes(head, 'describeHead: the head'), fileSize, options?.raw ?? null));
    return r.info ? { info: r.info } : { bytesNeeded: r.bytesNeeded };
  }

  /** describeHead over a Blob/File, slicing as much as it asks for (16 bytes, then the header). */
  async describeBlob(blob, options = {}) {
    let have = Math.min(16, blob.size);
    for (;;) {
      const head = new Uint8Array(await blob.slice(0, have).arrayBuffer());
      const r = this.describeHead(head, blob.size, options);
      if (r.info) return r.info;
      have = r.bytesNeeded;
    }
  }

  /**
   * What happens to each tensor: an array of entries (the tensor's info plus quantize, why, scheme,
   * options, codesDtype, paramShape, zeroPointDtype, schemeJson). options: quantize's, without a
   * params source. overrides: [{pattern, keep: true} | {pattern, options}], first match wins,
   * glob '*' and '?'; an override's options replace the base options (docs/JS_API.md).
   */
  planWholeFile(info, options = {}, overrides = []) {
    if (!Array.isArray(overrides)) throw fail(`overrides must be an array (got ${kindOf(overrides)})`);
    const rules = overrides.map((o, i) => {
      if (o === null || typeof o !== 'object' || typeof o.pattern !== 'string') {
        throw fail(`override ${i + 1} must be {pattern, keep: true} or {pattern, options}`);
      }
      for (const key of Object.keys(o)) {
        if (!['pattern', 'keep', 'options'].includes(key)) throw fail(`unknown key '${key}' in override ${i + 1} (allowed: pattern, keep, options)`);
      }
      return o.keep === true ? { pattern: o.pattern, keep: true } : { pattern: o.pattern, keep: false, options: o.options ?? {} };
    });
    return check(this.#m.planWholeFile(info, options, rules)).plan;
  }

  /**
   * Quantizes (or keeps) one planned tensor from its stored bytes, i.e.
   * file.slice(entry.dataOffset, entry.dataOffset + entry.dataBytes): {name, report, codes, scale,
   * zeroPoint} or {name, report, kept: {dtype, shape, bytes}}. Runs in any instance (workers).
   */
  quantizeTensorBytes(entry, bytes) {
    const r = check(this.#m.quantizeTensorBytes(entry, asBytes(bytes, 'quantizeTensorBytes: the bytes')));
    delete r.ok;
    return r;
  }

  /**
   * An output writer for a plan: header (the first chunk, known before any tensor), totalSize
   * (safetensors; null for npz), add(result) -> [{offset, bytes}], finish() -> {offset, bytes}
   * (the npz directory; empty for safetensors), close(). Chunks tile the file: placed at their
   * offsets they give the CLI's --all output byte for byte.
   */
  bundleWriter(plan, format = 'safetensors') {
    if (!BUNDLE_FORMATS.includes(format)) throw fail(`bundle format '${String(format)}' is not supported (supported: ${BUNDLE_FORMATS.join(', ')})`);
    const m = this.#m;
    const opened = check(m.bundleOpen(plan, format));
    const id = opened.id;
    let open = true;
    const live = () => { if (!open) throw fail('the bundle writer is finished or closed'); };
    return {
      format,
      header: opened.header,
      totalSize: opened.totalSize,
      add(result) { live(); return check(m.bundleAdd(id, result)).chunks; },
      finish() { live(); open = false; return check(m.bundleFinish(id)).chunk; },
      close() { if (open) { open = false; m.bundleClose(id); } },
    };
  }

  /** The report rows (each result's report) as the CLI writes them: 'csv' (--report) or 'json' (--json). */
  reportText(rows, format = 'csv') {
    return check(this.#m.reportText(rows, format)).text;
  }

  /**
   * The whole loop over a Blob/File, one tensor in memory at a time: {blob, report}. options and
   * overrides as planWholeFile; format 'safetensors' (default) or 'npz'; onProgress({index, count,
   * name}) before each tensor. A page with workers runs the same steps itself.
   */
  async quantizeFile(file, options = {}, { overrides = [], format = 'safetensors', onProgress } = {}) {
    const info = await this.describeBlob(file);
    const plan = this.planWholeFile(info, options, overrides);
    const writer = this.bundleWriter(plan, format);
    const chunks = [writer.header];
    const report = [];
    try {
      for (const [index, entry] of plan.entries()) {
        onProgress?.({ index, count: plan.length, name: entry.name });
        const bytes = new Uint8Array(await file.slice(entry.dataOffset, entry.dataOffset + entry.dataBytes).arrayBuffer());
        const result = this.quantizeTensorBytes(entry, bytes);
        report.push(result.report);
        for (const c of writer.add(result)) chunks.push(c);
      }
      chunks.push(writer.finish());
    } finally {
      writer.close();
    }
    chunks.sort((a, b) => a.offset - b.offset);
    return { blob: new Blob(chunks.map((c) => c.bytes)), report };
  }
}
