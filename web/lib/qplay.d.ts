// Types of web/lib/qplay.js, written by hand (Emscripten 3.1.6 cannot emit them). docs/JS_API.md
// describes the behaviour; every method throws an Error whose message is the core's.

export interface QplayConfig {
  /** 'auto' (default): the SIMD build when the engine validates wasm SIMD, else the baseline. 'off': always the baseline. */
  simd?: 'auto' | 'off';
  /** The .wasm bytes of the build that will be loaded, or a function of the flavour giving them. Node reads the file itself when omitted. */
  wasmBinary?: BufferSource | ((flavour: Flavour) => BufferSource | Promise<BufferSource>);
  /** The folder holding qplay_{simd,baseline}.{js,wasm}; default ../wasm/ next to qplay.js. */
  baseUrl?: string | URL;
}

export type Flavour = 'simd' | 'baseline';

export interface BuildInfo {
  /** Whether the loaded module contains the SIMD kernels. */
  simd: boolean;
  version: string;
  /** The kernel table in use: 'simd128' or 'scalar'. */
  kernels: string;
}

export interface TensorInfo {
  name: string;
  /** numpy's name of the stored type: 'float32', 'int8', 'float16', ... */
  dtype: string;
  shape: number[];
}

/** Float32 values with their shape (default: one dimension). `name` is recorded as the input tensor (default 'array'). */
export interface TensorValues {
  values: Float32Array;
  shape?: number[];
  name?: string;
}

/** Params to apply (static): from calibrate(), from an earlier result, or your own arrays. */
export interface ParamsInput {
  /** One scale per param group, shaped `shape` (a scalar broadcasts). */
  scale: Float32Array | ArrayLike<number>;
  /** Same length as scale; omitted = zeros. */
  zeroPoint?: Float32Array | Int32Array | ArrayLike<number> | null;
  /** The granularity's param shape; default [] for one value, else [scale.length]. */
  shape?: number[];
  /** 'calibrated' keeps calibrate()'s record; 'given' (default) and 'dynamic' mean given. */
  source?: 'given' | 'calibrated' | 'dynamic';
  observer?: string | null;
  /** Recorded in params.json as the params files (the CLI's --params P or --calibrate A B). */
  files?: string[];
  floatZeroPoint?: boolean;
  qmin?: number;
  qmax?: number;
  axis?: number;
}

/** The CLI's quantize flags, camelCased, with the same spellings and defaults. */
export interface QuantizeOptions {
  /**
   * --dtype: int8 (default), uint8, int4, uint4, int2, uint2, intN, uintN (N = 1..8), int16, uint16;
   * or an element format: nf4, fp4, iq4_nl, fp8_e4m3fn, fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz,
   * fp6_e2m3, fp6_e3m2, fp4_e2m1, mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8,
   * pow2, kmeans (docs/SCHEMES.md section 4)
   */
  dtype?: string;
  /**
   * --format: a ggml / llama.cpp block format, bit-exact with ggml's quantize_row_*_ref: q8_0, q8_1,
   * q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, mxfp4 (docs/SCHEMES.md section 7).
   * Rows along the last dim; no other scheme option applies.
   */
  format?: string;
  /** --saturate / --no-saturate: FP8 overflow to +-max (default true) or Inf/NaN */
  saturate?: boolean;
  /** --bits: pow2 / kmeans code width (default 4) */
  bits?: number | string;
  /** --pack: packed.npy order for codes of at most 4 bits */
  pack?: 'low-first' | 'high-first' | 'gptq' | 'awq' | 'ggml';
  /** --scale-rule: MX shared exponent, floor (OCP MX v1.0, default) | rceil (torchao / cuBLAS) */
  scaleRule?: 'floor' | 'rceil';
  /**
   * --double-quant: the per-channel/group/block float32 scales quantized to uint8 codes with one
   * float32 per 256 scales (with profile 'bnb': QLoRA's compress_statistics); docs/SCHEMES.md section 6
   */
  doubleQuant?: boolean;
  /** --mode: asymmetric (default) | symmetric */
  mode?: 'asymmetric' | 'symmetric';
  /** --narrow */
  narrow?: boolean;
  /** --reduce-range */
  reduceRange?: boolean;
  /** --granularity: tensor (default) | channel | group | block */
  granularity?: 'tensor' | 'channel' | 'group' | 'block';
  /** --axis (default 0; negative counts from the end) */
  axis?: number | string;
  /** --group-size */
  groupSize?: number | string;
  /** --block-size */
  blockSize?: number | string;
  /** --range: minmax (default), percentile:P, mse, kl, aciq */
  range?: string;
  /** --scale: static scalar params (a string is read as float32 directly, like the CLI) */
  scale?: number | string;
  /** --zero-point (needs scale) */
  zeroPoint?: number | string;
  /** --params / --calibrate: static params arrays */
  params?: ParamsInput | null;
  /** --rounding: half-even (default), half-away, half-up, stochastic:SEED */
  rounding?: string;
  /** --zero-point-domain: int (default) | float */
  zeroPointDomain?: 'int' | 'float';
  /**
   * --profile: custom (default), seed, pytorch, onnx, ort-tool (integer dtypes); bnb (bitsandbytes
   * quantize_4bit: nf4 default or fp4, blocks of 64 over the flattened tensor, high-first packing);
   * mx (OCP MX v1.0: mxfp8_e4m3 default, FLOOR scale rule, elements half-to-even)
   */
  profile?: 'custom' | 'seed' | 'pytorch' | 'onnx' | 'ort-tool' | 'bnb' | 'mx';
  /** --bins (default 64) */
  bins?: number | string;
  /** --tensor: the tensor of the open file (default: the first) */
  tensor?: string;
  /** The input file's name as params.json records it (the CLI's INPUT); default: open()'s name. */
  fileName?: string;
}

export interface Histogram {
  /** Bin k spans lo + k (hi - lo) / bins .. lo + (k + 1) (hi - lo) / bins. */
  lo: number;
  hi: number;
  counts: Float64Array;
}

export interface Metrics {
  mse: number;
  rmse: number;
  /** Infinity when the reconstruction is exact; NaN when nothing finite was compared. */
  sqnrDb: number;
  maxAbsError: number;
  meanAbsError: number;
  cosine: number;
  clipRate: number;
  bitsPerElement: number;
  elements: number;
  finite: number;
  nan: number;
  posInf: number;
  negInf: number;
  saturated: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface Params {
  source: 'dynamic' | 'given' | 'calibrated';
  observer: string | null;
  files: string[];
  shape: number[];
  scale: Float32Array;
  /** Int32Array for integer zero points, Float32Array for --zero-point-domain float. */
  zeroPoint: Int32Array | Float32Array;
  floatZeroPoint: boolean;
  qmin: number;
  qmax: number;
  /** The normalized axis of the granularity (0 for tensor). */
  axis: number;
}

export interface QuantizeResult {
  /** The input's shape (and the codes'). */
  shape: number[];
  /** Unpacked codes: Int8Array/Uint8Array up to 8 bits, Int16Array/Uint16Array for 16. */
  codes: Int8Array | Uint8Array | Int16Array | Uint16Array;
  codesDtype: 'int8' | 'uint8' | 'int16' | 'uint16';
  /** The same arrays as params.scale and params.zeroPoint. */
  scale: Float32Array;
  zeroPoint: Int32Array | Float32Array;
  dequantized: Float32Array;
  /** Usable as the `params` option of a later quantize. */
  params: Params;
  metrics: Metrics;
  histograms: { original: Histogram; dequantized: Histogram; error: Histogram };
  /** One MSE per param group (heatmaps). */
  groupMse: Float64Array;
  /** Each group's finite range, for params computed from data; null for given params. */
  groupStats: { min: Float32Array; max: Float32Array } | null;
  /** The options after the profile, in the input spelling (valid input to quantize). */
  options: QuantizeOptions;
  division: 'divide' | 'multiply-inverse';
  input: { file: string; tensor: string; dtype: string; shape: number[] };
  kernels: string;
  /** params.json as export() writes it. */
  paramsJson: string;
  /**
   * What the .npz adds after params.json, in its order (empty for plain integer runs). Each member
   * is also under its camelCased file name (memberKey: scale_e8m0.npy -> scaleE8m0) with its shape
   * under `<key>Shape`; the keys below are those of today's members.
   */
  members: BundleMember[];
  /** Element dtypes with a table or codebook: codebook.npy's values ([K], or [groups, K] for kmeans). */
  codebook?: Float32Array;
  codebookShape?: number[];
  /** Codes of at most 4 bits under a pack order: packed.npy's bytes. */
  packed?: Uint8Array;
  /** MX dtypes: each block's E8M0 scale code (scale_e8m0.npy). */
  scaleE8m0?: Uint8Array;
  /** --double-quant: the 8-bit scale codes (scale_codes.npy, the param shape's elements). */
  scaleCodes?: Uint8Array;
  /** --double-quant: one float32 per 256 scales (scale_super.npy). */
  scaleSuper?: Float32Array;
  /** --profile bnb --double-quant: the 256-value dynamic map (scale_codebook.npy). */
  scaleCodebook?: Float32Array;
  /** format runs with an additive member (q4_1, q5_1, q2_k, q4_k, q5_k): offset.npy, the params' shape. */
  offset?: Float32Array;
  /** format runs: ggml's block bytes (blocks.npy), [rows, row bytes] as blocksShape says. */
  blocks?: Uint8Array;
  blocksShape?: number[];
  /** Every member's shape, under its key + 'Shape' (packedShape, scaleE8m0Shape, ...). */
  [memberShape: `${string}Shape`]: number[] | undefined;
}

/** One .npy member of a bundle after params.json: codebook.npy, packed.npy, scale_e8m0.npy, blocks.npy... */
export interface BundleMember {
  /** Its file name in the .npz. */
  name: string;
  /** numpy's name of the element type: 'float32', 'uint8'... (the typed array's). */
  dtype: 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';
  shape: number[];
  data: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
}

export interface ZipMemberInfo {
  name: string;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  /** Where the member's stored bytes start in the archive. */
  offset: number;
  compressedSize: number;
  /** Uncompressed size. */
  size: number;
  crc: number;
}

export interface InflatedMember {
  name: string;
  bytes: Uint8Array;
}

/** A row of the option table (Qplay#catalog). */
export interface OptionRow {
  key: string;
  flag: string;
  kind: 'flag' | 'toggle' | 'integer' | 'number' | 'choice' | 'text' | 'path' | 'paths';
  /** The allowed spellings as help lists them. */
  values: string;
  /** A choice's spellings; 'percentile:P' and 'stochastic:SEED' take an argument. */
  choices: string[];
  min: number | null;
  max: number | null;
  /** The CLI's default as text. */
  default: string | null;
  doc: string;
}

/** A row of the format registry (Qplay#catalog). */
export interface FormatRow {
  name: string;
  family: OptionsDescription['family'];
  /** Code width; 0 = the run's (intN / uintN: N; pow2, kmeans: the bits option). */
  bits: number;
  option: '--dtype' | '--format';
  summary: string;
  /** docs/<FILE>.md#<section>. */
  docs: string;
  /** Largest finite value of a small float; 0 otherwise. */
  maxNormal: number;
  /** A fixed table's values; empty without one. */
  codebook: Float32Array;
  ggml: { name: string; typeId: number; blockElems: number; subBlock: number; blockBytes: number; codesSigned: boolean; hasOffset: boolean } | null;
}

export interface Catalog {
  options: OptionRow[];
  formats: FormatRow[];
  integerSpellings: string;
}

/** What a UI draws for a set of options (Qplay#describe), from the core's option table. */
export interface OptionsDescription {
  /** The options after the profile, as a result's `options` reports them. */
  effective: QuantizeOptions;
  /** What the profile or the dtype/format fixes. */
  locked: { key: keyof QuantizeOptions; value: string | number | boolean; reason: 'profile' | 'element' }[];
  /** What the profile picks when not given (bnb: {dtype: 'nf4', blockSize: 64}). */
  profileDefaults: QuantizeOptions;
  range: { qmin: number; qmax: number };
  family: 'integer' | 'minifloat' | 'lut' | 'mx' | 'pow2' | 'kmeans' | 'ggml';
  /** Bits of one code. */
  bits: number;
  division: 'divide' | 'multiply-inverse';
  /** The value of each code before scaling, for formats with fixed levels; empty otherwise. */
  levels: Float32Array;
  doubleQuantApplies: boolean;
}

/** A calibration tensor: a name in the open file, float32 values, or a whole file (options.tensor picks its tensor). */
export type CalibrationTensor =
  | string
  | (TensorValues & { fileName?: string })
  | { bytes: BufferSource; fileName?: string };

/** Raw binary input: the CLI's --raw-dtype, --raw-shape (one -1 inferred), --raw-offset, --raw-endian. */
export interface RawSpec {
  dtype: string;
  shape: number[] | string;
  offset?: number;
  endian?: 'little' | 'big';
}

/** A tensor as describeHead lists it: where its stored bytes lie in the file. */
export interface StoredTensorInfo extends TensorInfo {
  /** The format's own type name: '<f4', 'F16', 'Q4_K', ... */
  storedType: string;
  /** false for quantized gguf types (listed, not decodable). */
  loadable: boolean;
  /** Byte offset of the stored data in the file; -1 when not stored as-is (deflated npz member, text). */
  dataOffset: number;
  dataBytes: number;
  bigEndian: boolean;
  fortranOrder: boolean;
}

export interface FileInfo {
  format: 'npy' | 'npz' | 'safetensors' | 'gguf' | 'raw' | 'text';
  version: string;
  tensors: StoredTensorInfo[];
  metadata: { key: string; type: string; value: string }[];
}

/** One tensor of a whole-file plan. */
export interface PlanEntry extends StoredTensorInfo {
  quantize: boolean;
  /** 'default', '1-D', '0-d', 'integer', 'bool' or "rule 'PATTERN'". */
  why: string;
  /** 'int4 block:32', 'nf4 block:64', ... or 'kept'. */
  scheme: string;
  /** Present when quantized: the options in quantize's spelling (after the profile) and the predicted outputs. */
  options?: QuantizeOptions;
  codesDtype?: 'int8' | 'uint8' | 'int16' | 'uint16';
  paramShape?: number[];
  zeroPointDtype?: 'int32' | 'float32';
  /** What the bundle stores for the tensor (__metadata__ qplay.params.NAME, or NAME.params.json). */
  schemeJson?: string;
}

export type WholeFileOptions = Omit<QuantizeOptions, 'scale' | 'zeroPoint' | 'params' | 'tensor' | 'fileName'>;
export type TensorOverride = { pattern: string; keep: true } | { pattern: string; options: WholeFileOptions };

/** A row of the whole-file report (the CLI's --report CSV columns). */
export interface TensorReport {
  name: string;
  shape: number[];
  dtype: string;
  quantized: boolean;
  scheme: string;
  params: number;
  mse: number;
  sqnrDb: number;
  maxAbsError: number;
  bitsPerElement: number;
  bytesBefore: number;
  bytesAfter: number;
}

export type TensorResult =
  | { name: string; report: TensorReport; codes: Int8Array | Uint8Array | Int16Array | Uint16Array; scale: Float32Array; zeroPoint: Int32Array | Float32Array }
  | { name: string; report: TensorReport; kept: { dtype: string; shape: number[]; bytes: Uint8Array } }
  /** ggml formats (the format option): the tensor's blocks as llama.cpp stores them. */
  | { name: string; report: TensorReport; blocks: Uint8Array };

export interface OutputChunk {
  /** Where the bytes go in the output file. */
  offset: number;
  bytes: Uint8Array;
}

export interface BundleWriter {
  format: 'safetensors' | 'npz' | 'gguf';
  /** The first chunk (offset 0): the safetensors header; empty for npz. */
  header: OutputChunk;
  /** The output's size, known before any tensor (safetensors); null for npz. */
  totalSize: number | null;
  /** A result of quantizeTensorBytes, in any order; its chunks. */
  add(result: TensorResult): OutputChunk[];
  /** The npz central directory (empty for safetensors); checks every planned tensor came. */
  finish(): OutputChunk;
  /** Frees the writer (after an error); finish() closes it too. */
  close(): void;
}

/** A run inspect() and find() look into: its options (default: result.options), input and result. */
export interface InspectedRun {
  options?: QuantizeOptions;
  input: { values: Float32Array; shape?: number[] };
  result: QuantizeResult;
}
/** One element as the core explains it; for element and ggml formats (integer false) only index,
 * group, x, scale, zeroPoint and scaled apply. */
export interface InspectedElement {
  index: number;
  group: number;
  x: number;
  scale: number;
  zeroPoint: number;
  /** x/s, or x·(1/s) under multiply-inverse, in float32. */
  scaled: number;
  integer: boolean;
  /** The value the rounding rule rounds (scaled + the float zero point). */
  shifted: number;
  /** After the rounding rule and the integer zero point, before the clamp. */
  rounded: number;
  tie: boolean;
  clipped: boolean;
  code: number | null;
  dequantized: number;
}
export interface FindQuery {
  kind: 'ties' | 'clipped' | 'maxError' | 'bin';
  lo?: number;
  hi?: number;
  /** The bin includes hi. */
  last?: boolean;
  group?: number | null;
  after?: number;
  limit?: number;
}

export declare class Qplay {
  /** Which build was loaded. */
  readonly flavour: Flavour;
  buildInfo(): BuildInfo;
  /** Copies the file into the wasm heap (kept until close() or the next open()) and lists its tensors. */
  /** inflated: a deflated .npz's members as inflate() gives them. */
  open(bytes: BufferSource, name?: string | { fileName?: string; raw?: RawSpec; inflated?: InflatedMember[] | null }): { tensors: TensorInfo[] };
  /** The members of a zip (.npz) after the core's guards; nothing is decompressed. */
  zipMembers(bytes: BufferSource): ZipMemberInfo[];
  /** The deflated members of a zip, inflated by DecompressionStream('deflate-raw'); [] for anything else. */
  inflate(bytes: BufferSource, fileName?: string): Promise<InflatedMember[]>;
  /** The option table's and the format registry's rows, for pickers. */
  catalog(): Catalog;
  close(): void;
  /** A tensor of the open file (default: the first) as float32. */
  values(tensor?: string): Float32Array;
  /** source: a tensor name of the open file, undefined (options.tensor or the first), or float32 values. */
  quantize(source: string | TensorValues | undefined | null, options?: QuantizeOptions): QuantizeResult;
  /** What a UI draws for these options; throws what quantize would throw for them. */
  describe(options?: QuantizeOptions): OptionsDescription;
  /** The core's per-element answers (plan, x/s, tie, rounding, clamp) for elements of a run. */
  inspect(run: InspectedRun, indices: number[]): InspectedElement[];
  /** Ties, clipped elements, values in [lo, hi) or the largest error of a run; indices ascending. */
  find(run: InspectedRun, query: FindQuery): { indices: number[]; total: number };
  groupElements(options: QuantizeOptions, shape: number[], group: number): number[];
  paramIndex(options: QuantizeOptions, shape: number[], flat: number): number;
  /** observer: 'minmax' (default) or 'moving-average:C'. options: quantize's, without params sources. */
  calibrate(tensors: CalibrationTensor[], observer?: string, options?: Omit<QuantizeOptions, 'scale' | 'zeroPoint' | 'params' | 'fileName'>): Params;
  /** 'npz' / 'safetensors': the CLI's bundles byte for byte; 'json': its params.json; 'gguf': the CLI's -o X.gguf (format runs). */
  export(result: QuantizeResult, format?: 'npz' | 'json' | 'safetensors' | 'gguf'): Uint8Array;
  /** Whole-file mode: the file's tensors from its first bytes, or how many bytes to slice. */
  describeHead(head: BufferSource, fileSize: number, options?: { raw?: RawSpec }): { info: FileInfo } | { bytesNeeded: number };
  describeBlob(blob: Blob, options?: { raw?: RawSpec }): Promise<FileInfo>;
  planWholeFile(info: FileInfo, options?: WholeFileOptions, overrides?: TensorOverride[]): PlanEntry[];
  /** bytes: file.slice(entry.dataOffset, entry.dataOffset + entry.dataBytes). */
  quantizeTensorBytes(entry: PlanEntry, bytes: BufferSource): TensorResult;
  bundleWriter(plan: PlanEntry[], format?: 'safetensors' | 'npz' | 'gguf'): BundleWriter;
  reportText(rows: TensorReport[], format?: 'csv' | 'json'): string;
  quantizeFile(file: Blob, options?: WholeFileOptions, config?: { overrides?: TensorOverride[]; format?: 'safetensors' | 'npz' | 'gguf'; onProgress?: (p: { index: number; count: number; name: string }) => void }): Promise<{ blob: Blob; report: TensorReport[] }>;
}

export declare function createQplay(config?: QplayConfig): Promise<Qplay>;

/** Whether this engine validates wasm SIMD. */
export declare function simdSupported(): boolean;

/** The result key of a bundle member's file name: 'scale_e8m0.npy' -> 'scaleE8m0'. */
export declare function memberKey(fileName: string): string;
