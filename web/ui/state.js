// The playground's settings: one plain object whose option names are the CLI's (camelCased), the
// profile rules that lock some of them (docs/SCHEMES.md §2), the URL form of a setting (the CLI's
// kebab-case flag names, so a shared link reads like a command line), and the options object the
// JS API takes.

export const DTYPE_BITS = [1, 2, 3, 4, 5, 6, 7, 8, 16];
export const MODES = ['asymmetric', 'symmetric'];
export const GRANULARITIES = ['tensor', 'channel', 'group', 'block'];
export const RANGES = ['minmax', 'percentile', 'mse', 'kl', 'aciq'];
export const ROUNDINGS = ['half-even', 'half-away', 'half-up', 'stochastic'];
export const ZERO_POINT_DOMAINS = ['int', 'float'];
export const PROFILES = ['custom', 'seed', 'pytorch', 'onnx', 'ort-tool', 'bnb', 'mx'];
// The profiles of integer dtypes, and the element profiles with the dtypes each takes (SCHEMES.md §5).
export const INTEGER_PROFILES = ['seed', 'pytorch', 'onnx', 'ort-tool'];
export const BNB_DTYPES = ['nf4', 'fp4'];
export const SCALE_RULES = ['floor', 'rceil'];
export const PARAM_SOURCES = ['dynamic', 'given', 'calibrated'];
export const OBSERVERS = ['minmax', 'moving-average'];
export const DATA_SOURCES = ['seed', 'normal', 'uniform', 'laplace', 'outliers', 'paste', 'file'];
export const PACK_ORDERS = ['', 'low-first', 'high-first', 'gptq', 'awq', 'ggml'];

// ggml / llama.cpp block formats (--format, docs/SCHEMES.md §7). In the settings they live in the
// dtype field as 'ggml:q4_k' (iq4_nl and mxfp4 are element dtypes too); the URL, the API options and
// the command line say format=q4_k / --format q4_k.
export const GGML_FORMATS = ['q8_0', 'q8_1', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl', 'mxfp4'];
// Code bits, block elements and the sub-block sharing one scale (GGML_FORMATS.md).
export const GGML_INFO = {
  q8_0: [8, 32, 32], q8_1: [8, 32, 32], q4_0: [4, 32, 32], q4_1: [4, 32, 32], q5_0: [5, 32, 32], q5_1: [5, 32, 32],
  q2_k: [2, 256, 16], q3_k: [3, 256, 16], q4_k: [4, 256, 32], q5_k: [5, 256, 32], q6_k: [6, 256, 16],
  iq4_nl: [4, 32, 32], mxfp4: [4, 32, 32],
};
export function ggmlFormat(dtype) {
  return typeof dtype === 'string' && dtype.startsWith('ggml:') ? dtype.slice(5) : null;
}
// How a dtype value reads on screen: ggml's own spelling for a format (q4_K), the name otherwise.
export function dtypeLabel(dtype) {
  const f = ggmlFormat(dtype);
  return f ? f.replace(/_k$/, '_K') : dtype;
}

// Element formats (docs/SCHEMES.md §4): codes that are not points of a uniform grid, by kind.
export const ELEMENT_KINDS = {
  minifloat: ['fp8_e4m3fn', 'fp8_e5m2', 'fp8_e4m3fnuz', 'fp8_e5m2fnuz', 'fp6_e2m3', 'fp6_e3m2', 'fp4_e2m1'],
  lut: ['nf4', 'fp4', 'iq4_nl'],
  mx: ['mxfp8_e4m3', 'mxfp8_e5m2', 'mxfp6_e2m3', 'mxfp6_e3m2', 'mxfp4', 'mxint8'],
  pow2: ['pow2'],
  kmeans: ['kmeans'],
  ggml: GGML_FORMATS.map((f) => `ggml:${f}`),
};
export const ELEMENT_DTYPES = Object.values(ELEMENT_KINDS).flat();

// The largest magnitude of each small float format (SCHEMES.md §4: s = amax / max).
export const MINIFLOAT_MAX = {
  fp8_e4m3fn: 448, fp8_e5m2: 57344, fp8_e4m3fnuz: 240, fp8_e5m2fnuz: 57344, fp6_e2m3: 7.5, fp6_e3m2: 28, fp4_e2m1: 6,
};

export function elementKind(dtype) {
  for (const [kind, names] of Object.entries(ELEMENT_KINDS)) if (names.includes(dtype)) return kind;
  return null;
}

// Code width in bits: what decides whether --pack applies (codes of at most 4 bits).
export function codeBits(state) {
  const kind = elementKind(state.dtype);
  if (!kind) return parseDtype(state.dtype)?.bits ?? 8;
  if (kind === 'pow2' || kind === 'kmeans') return state.elementBits;
  if (kind === 'ggml') return GGML_INFO[ggmlFormat(state.dtype)][0];
  const m = /(\d)/.exec(state.dtype.replace(/^mx/, ''));
  if (state.dtype === 'mxint8') return 8;
  if (kind === 'lut') return 4;
  return m ? Number(m[1]) : 8;
}

// The CLI's defaults (README's option table) plus the page's own data settings.
export const DEFAULTS = Object.freeze({
  // data
  data: 'normal',
  shape: '16x256',
  seed: 1,
  spreadChannels: true,
  tensor: '',
  // scheme
  dtype: 'int8',
  mode: 'asymmetric',
  narrow: false,
  reduceRange: false,
  granularity: 'tensor',
  axis: 0,
  groupSize: 2,
  blockSize: 32,
  range: 'minmax',
  percentile: 99.99,
  rounding: 'half-even',
  roundingSeed: 0,
  zeroPointDomain: 'int',
  profile: 'custom',
  bins: 64,
  elementBits: 4,
  saturate: true,
  pack: '',
  scaleRule: 'floor',
  doubleQuant: false,
  // params
  params: 'dynamic',
  scale: 0.037,
  zeroPoint: 129,
  observer: 'minmax',
  averagingConstant: 0.01,
  // calibration data: synthetic data from the same distribution with its own seed and spread, or
  // tensors of the open file (names).
  calibSeed: 2,
  calibSpread: 0.5,
  calibrate: [],
});

// What each profile fixes (SCHEMES.md §2 and core/src/options.cpp apply_profile): the UI sets these
// values and disables the controls, so a profile can never be contradicted.
export function profileLocks(profile) {
  switch (profile) {
    case 'seed': return { rounding: 'half-even', zeroPointDomain: 'int' };
    case 'pytorch': return { rounding: 'half-even' };
    case 'onnx': return { rounding: 'half-even', zeroPointDomain: 'int', reduceRange: false };
    case 'ort-tool': return { rounding: 'half-even', zeroPointDomain: 'int', narrow: false };
    // bitsandbytes blocks the flattened tensor (axis 0 of the 1-D view) and packs high-first.
    case 'bnb': return { rounding: 'half-even', granularity: 'block', axis: 0, pack: 'high-first' };
    case 'mx': return { rounding: 'half-even', scaleRule: 'floor' };
    default: return {};
  }
}

// Everything the current setting fixes: the profile's rules, and for element formats the integer
// affine options they refuse (SCHEMES.md §4; MX also fixes blocks of 32). field -> [value, reason]
// with reason 'profile' or 'element'.
// Whether a profile applies to a dtype: the integer profiles to integers, bnb to nf4/fp4, mx to MX.
export function profileFits(profile, dtype) {
  const kind = elementKind(dtype);
  if (profile === 'bnb') return BNB_DTYPES.includes(dtype);
  if (profile === 'mx') return kind === 'mx';
  return profile === 'custom' || !kind;
}

// --double-quant applies to runs with one float32 scale per channel, group or block (SCHEMES.md §6);
// ggml formats store their own scales in their blocks.
export function doubleQuantApplies(state) {
  const kind = elementKind(state.dtype);
  return state.granularity !== 'tensor' && kind !== 'mx' && kind !== 'kmeans' && kind !== 'ggml';
}

export function locks(state) {
  const out = {};
  const profile = profileFits(state.profile, state.dtype) ? state.profile : 'custom';
  for (const [k, v] of Object.entries(profileLocks(profile))) out[k] = [v, 'profile'];
  const kind = elementKind(state.dtype);
  if (kind) {
    const fixed = { mode: 'symmetric', narrow: false, reduceRange: false, range: 'minmax', zeroPointDomain: 'int', params: 'dynamic' };
    // nf4/fp4 may take profile bnb and MX profile mx; the other elements have no profile.
    if (kind === 'mx' ? false : !BNB_DTYPES.includes(state.dtype)) fixed.profile = 'custom';
    if (kind !== 'minifloat' && kind !== 'mx') fixed.rounding = 'half-even';
    if (kind === 'mx') Object.assign(fixed, { granularity: 'block', blockSize: 32 });
    // ggml: rows along the last dim, one scale per sub-block; nothing else applies.
    if (kind === 'ggml') Object.assign(fixed, { granularity: 'block', blockSize: GGML_INFO[ggmlFormat(state.dtype)][2], axis: -1, rounding: 'half-even' });
    for (const [k, v] of Object.entries(fixed)) out[k] = [v, 'element'];
  }
  return out;
}

// The division each profile uses (shown in the formula panel and the inspector).
export function divisionOf(profile) {
  return profile === 'pytorch' ? 'multiply-inverse' : 'divide';
}

export function parseDtype(dtype) {
  const m = /^(u?)int(\d+)$/.exec(dtype);
  if (!m) return null;
  const bits = Number(m[2]);
  if (!DTYPE_BITS.includes(bits)) return null;
  return { signed: m[1] !== 'u', bits };
}

export function dtypeName(signed, bits) {
  return `${signed ? '' : 'u'}int${bits}`;
}

// The settings after the profile's locks and the rules that are not a matter of taste (a float
// zero point only exists for asymmetric schemes).
export function effective(state) {
  const s = { ...state };
  if (!profileFits(s.profile, s.dtype)) s.profile = 'custom';
  for (const [k, [v]] of Object.entries(locks(state))) s[k] = v;
  if (!doubleQuantApplies(s)) s.doubleQuant = false;
  if (s.mode === 'symmetric') s.zeroPointDomain = 'int';
  // Rounding for small floats and MX is half-even or half-away only.
  if ((elementKind(s.dtype) === 'minifloat' || elementKind(s.dtype) === 'mx') && !['half-even', 'half-away'].includes(s.rounding)) s.rounding = 'half-even';
  return s;
}

// [qmin, qmax] of a setting, mirroring core/src/options.cpp code_range (for the formula panel's
// text before a result arrives; the result's own qmin/qmax win once it does).
export function codeRange(state) {
  const s = effective(state);
  const t = parseDtype(s.dtype) ?? { signed: true, bits: 8 };
  let qmin = t.signed ? -(2 ** (t.bits - 1)) : 0;
  let qmax = t.signed ? 2 ** (t.bits - 1) - 1 : 2 ** t.bits - 1;
  if (s.profile === 'ort-tool') {
    if (s.reduceRange) {
      const table = { int8: [-64, 64], uint8: [0, 127], int4: [-4, 3], uint4: [0, 7] };
      return table[s.dtype] ? { qmin: table[s.dtype][0], qmax: table[s.dtype][1] } : null;
    }
    if (s.mode === 'symmetric' && (t.bits === 8 || t.bits === 16)) {
      if (t.signed) qmin += 1; else qmax -= 1;
    }
    return { qmin, qmax };
  }
  if (s.narrow) {
    if (t.signed) qmin += 1; else qmax -= 1;
  }
  if (s.reduceRange) {
    qmin = Math.floor(qmin / 2);
    qmax = Math.floor(qmax / 2);
  }
  return qmin < qmax ? { qmin, qmax } : null;
}

export function rangeFlag(s) {
  return s.range === 'percentile' ? `percentile:${s.percentile}` : s.range;
}

export function roundingFlag(s) {
  return s.rounding === 'stochastic' ? `stochastic:${s.roundingSeed}` : s.rounding;
}

export function observerFlag(s) {
  return s.observer === 'moving-average' ? `moving-average:${s.averagingConstant}` : 'minmax';
}

// The options object of qp.quantize: exactly the flags the CLI would get for this setting, so the
// exported bundle (whose params.json records them) is byte-identical to the CLI's. Options that do
// not apply to the granularity are left out, as a command line would leave them out.
export function apiOptions(state, { fileName, tensor } = {}) {
  const s = effective(state);
  const kind = elementKind(s.dtype);
  if (kind === 'ggml') {
    const o = { format: ggmlFormat(s.dtype), bins: s.bins };
    if (s.pack && codeBits(s) <= 4) o.pack = s.pack;
    if (fileName !== undefined) o.fileName = fileName;
    if (tensor !== undefined) o.tensor = tensor;
    return o;
  }
  if (kind) {
    // Element formats take only what a command line for them would say.
    const o = { dtype: s.dtype, granularity: s.granularity, bins: s.bins };
    if (s.profile !== 'custom') o.profile = s.profile;
    if (s.rounding !== 'half-even') o.rounding = roundingFlag(s);
    if (kind === 'pow2' || kind === 'kmeans') o.bits = s.elementBits;
    if (kind === 'minifloat' && !s.saturate) o.saturate = false;
    if (kind === 'mx' && s.scaleRule !== 'floor') o.scaleRule = s.scaleRule;
    if (s.doubleQuant) o.doubleQuant = true;
    if (s.pack) o.pack = s.pack;
    // bnb has no axis: it blocks the flattened tensor.
    if (s.granularity !== 'tensor' && s.profile !== 'bnb') o.axis = s.axis;
    if (s.granularity === 'group') o.groupSize = s.groupSize;
    if (s.granularity === 'block') o.blockSize = s.blockSize;
    if (fileName !== undefined) o.fileName = fileName;
    if (tensor !== undefined) o.tensor = tensor;
    return o;
  }
  const o = {
    dtype: s.dtype,
    mode: s.mode,
    narrow: s.narrow,
    reduceRange: s.reduceRange,
    granularity: s.granularity,
    range: rangeFlag(s),
    rounding: roundingFlag(s),
    zeroPointDomain: s.zeroPointDomain,
    profile: s.profile,
    bins: s.bins,
  };
  if (s.granularity !== 'tensor') o.axis = s.axis;
  if (s.granularity === 'group') o.groupSize = s.groupSize;
  if (s.granularity === 'block') o.blockSize = s.blockSize;
  if (s.params === 'given') {
    o.scale = s.scale;
    o.zeroPoint = s.zeroPoint;
  }
  if (s.pack && codeBits(s) <= 4) o.pack = s.pack;
  if (s.doubleQuant) o.doubleQuant = true;
  if (fileName !== undefined) o.fileName = fileName;
  if (tensor !== undefined) o.tensor = tensor;
  return o;
}

// The equivalent command line (shown under the run button: what to type to get the same bundle).
export function cliCommand(state, { input = 'INPUT.npy', tensor, calibrationFiles = [], paramsFile = null, raw = null } = {}) {
  const s = effective(state);
  const d = DEFAULTS;
  const args = ['qplay', 'quantize', input, '-o', 'out.npz'];
  if (raw) {
    args.push('--raw-dtype', raw.dtype, '--raw-shape', raw.shape);
    if (raw.offset) args.push('--raw-offset', String(raw.offset));
    if (raw.endian === 'big') args.push('--raw-endian', 'big');
  }
  if (tensor) args.push('--tensor', tensor);
  const kind = elementKind(s.dtype);
  if (kind === 'ggml') {
    args.push('--format', ggmlFormat(s.dtype));
    if (s.pack && codeBits(s) <= 4) args.push('--pack', s.pack);
    if (s.bins !== d.bins) args.push('--bins', String(s.bins));
    return args.join(' ');
  }
  if (s.dtype !== d.dtype) args.push('--dtype', s.dtype);
  if ((kind === 'pow2' || kind === 'kmeans') && s.elementBits !== d.elementBits) args.push('--bits', String(s.elementBits));
  if (kind === 'minifloat' && !s.saturate) args.push('--no-saturate');
  if (kind === 'mx' && s.scaleRule !== 'floor') args.push('--scale-rule', s.scaleRule);
  if (s.pack && codeBits(s) <= 4) args.push('--pack', s.pack);
  if (!kind && s.mode !== d.mode) args.push('--mode', s.mode);
  if (!kind && s.narrow) args.push('--narrow');
  if (!kind && s.reduceRange) args.push('--reduce-range');
  if (s.granularity !== 'tensor') {
    args.push('--granularity', s.granularity);
    if (s.axis !== 0 && s.profile !== 'bnb') args.push('--axis', String(s.axis));
    if (s.granularity === 'group') args.push('--group-size', String(s.groupSize));
    if (s.granularity === 'block') args.push('--block-size', String(s.blockSize));
  }
  if (s.params === 'dynamic' && s.range !== 'minmax') args.push('--range', rangeFlag(s));
  if (s.params === 'given' && paramsFile) args.push('--params', paramsFile);
  else if (s.params === 'given') args.push('--scale', String(s.scale), '--zero-point', String(s.zeroPoint));
  if (s.params === 'calibrated') {
    args.push('--calibrate', ...(calibrationFiles.length ? calibrationFiles : ['CALIB.npy']));
    if (s.observer !== 'minmax') args.push('--observer', observerFlag(s));
  }
  if (s.rounding !== 'half-even') args.push('--rounding', roundingFlag(s));
  if (!kind && s.zeroPointDomain !== 'int') args.push('--zero-point-domain', s.zeroPointDomain);
  if (s.profile !== 'custom') args.push('--profile', s.profile);
  if (s.doubleQuant) args.push('--double-quant');
  if (s.bins !== d.bins) args.push('--bins', String(s.bins));
  return args.map((a) => (/^[\w.:/=+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

// ---- URL form ----------------------------------------------------------------------------------
// key in the URL (the CLI flag without --) -> [state field, kind]. `range`, `rounding` and
// `observer` carry their argument after a colon, as on the command line.
const URL_FIELDS = {
  data: ['data', DATA_SOURCES],
  shape: ['shape', 'text'],
  seed: ['seed', 'int'],
  'spread-channels': ['spreadChannels', 'bool'],
  tensor: ['tensor', 'text'],
  dtype: ['dtype', 'dtype'],
  format: ['dtype', 'format'],
  mode: ['mode', MODES],
  narrow: ['narrow', 'bool'],
  'reduce-range': ['reduceRange', 'bool'],
  granularity: ['granularity', GRANULARITIES],
  axis: ['axis', 'int'],
  'group-size': ['groupSize', 'posint'],
  'block-size': ['blockSize', 'posint'],
  range: ['range', 'range'],
  rounding: ['rounding', 'rounding'],
  'zero-point-domain': ['zeroPointDomain', ZERO_POINT_DOMAINS],
  profile: ['profile', PROFILES],
  bins: ['bins', 'posint'],
  bits: ['elementBits', 'posint'],
  saturate: ['saturate', 'bool'],
  pack: ['pack', PACK_ORDERS],
  'scale-rule': ['scaleRule', SCALE_RULES],
  'double-quant': ['doubleQuant', 'bool'],
  params: ['params', PARAM_SOURCES],
  scale: ['scale', 'posnum'],
  'zero-point': ['zeroPoint', 'num'],
  observer: ['observer', 'observer'],
  'calib-seed': ['calibSeed', 'int'],
  'calib-spread': ['calibSpread', 'posnum'],
  calibrate: ['calibrate', 'list'],
};

// Serializes the fields that differ from `base` (the defaults, or an embed's preset).
export function toQuery(state, base = DEFAULTS) {
  const q = new URLSearchParams();
  for (const [key, [field, kind]] of Object.entries(URL_FIELDS)) {
    // A ggml format goes out as format=q4_k (the --format flag), any other dtype as dtype=.
    if (kind === 'dtype' || kind === 'format') {
      const f = ggmlFormat(state[field]);
      if (state[field] !== base[field] && (kind === 'format') === Boolean(f)) q.set(key, f ?? String(state[field]));
      continue;
    }
    if (kind === 'range') {
      if (rangeFlag(state) !== rangeFlag(base)) q.set(key, rangeFlag(state));
    } else if (kind === 'rounding') {
      if (roundingFlag(state) !== roundingFlag(base)) q.set(key, roundingFlag(state));
    } else if (kind === 'observer') {
      if (observerFlag(state) !== observerFlag(base)) q.set(key, observerFlag(state));
    } else if (kind === 'list') {
      if (state[field].join(',') !== base[field].join(',')) q.set(key, state[field].join(','));
    } else if (kind === 'bool') {
      if (state[field] !== base[field]) q.set(key, state[field] ? '1' : '0');
    } else if (state[field] !== base[field]) {
      q.set(key, String(state[field]));
    }
  }
  return q.toString();
}

// Parses a query (from the URL hash or an `options` attribute) into a partial state. Unknown keys
// and malformed values are skipped and reported, never thrown: a stale link still opens.
export function fromQuery(text) {
  const q = new URLSearchParams(String(text).replace(/^[#?]/, ''));
  const out = {};
  const rejected = [];
  for (const [key, raw] of q) {
    const spec = URL_FIELDS[key];
    if (!spec) {
      rejected.push(key);
      continue;
    }
    const [field, kind] = spec;
    const value = parseField(kind, raw);
    if (value === undefined) {
      rejected.push(key);
      continue;
    }
    if (kind === 'range' || kind === 'rounding' || kind === 'observer') Object.assign(out, value);
    else out[field] = value;
  }
  return { state: out, rejected };
}

function parseField(kind, raw) {
  if (Array.isArray(kind)) return kind.includes(raw) ? raw : undefined;
  const num = Number(raw);
  switch (kind) {
    case 'text': return raw;
    case 'bool': return raw === '' || raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : undefined;
    case 'int': return Number.isInteger(num) && raw.trim() !== '' ? num : undefined;
    case 'posint': return Number.isInteger(num) && num > 0 ? num : undefined;
    case 'num': return raw.trim() !== '' && Number.isFinite(num) ? num : undefined;
    case 'posnum': return raw.trim() !== '' && Number.isFinite(num) && num > 0 ? num : undefined;
    case 'dtype': return parseDtype(raw) || (ELEMENT_DTYPES.includes(raw) && !ggmlFormat(raw)) ? raw : undefined;
    case 'format': return GGML_FORMATS.includes(raw) ? `ggml:${raw}` : undefined;
    case 'list': return raw.split(',').filter(Boolean);
    case 'range': {
      const [name, arg] = raw.split(':');
      if (!RANGES.includes(name)) return undefined;
      if (name !== 'percentile') return arg === undefined ? { range: name } : undefined;
      const p = arg === undefined ? 99.99 : Number(arg);
      return p > 0 && p <= 100 ? { range: name, percentile: p } : undefined;
    }
    case 'rounding': {
      const [name, arg] = raw.split(':');
      if (!ROUNDINGS.includes(name)) return undefined;
      if (name !== 'stochastic') return arg === undefined ? { rounding: name } : undefined;
      const seed = arg === undefined ? 0 : Number(arg);
      return Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 ? { rounding: name, roundingSeed: seed } : undefined;
    }
    case 'observer': {
      const [name, arg] = raw.split(':');
      if (name === 'minmax' && arg === undefined) return { observer: 'minmax' };
      if (name !== 'moving-average') return undefined;
      const c = arg === undefined ? 0.01 : Number(arg);
      return c > 0 && c <= 1 ? { observer: name, averagingConstant: c } : undefined;
    }
    default: return undefined;
  }
}

// Presets an embedding page can name with the `preset` attribute.
export const PRESETS = {
  // The seed blog's example: [-4.75, 4.67] to uint8 with its formulas (1)-(4).
  seed: { data: 'seed', shape: '5', dtype: 'uint8', profile: 'seed', granularity: 'tensor', bins: 64 },
  // Outliers versus the range methods: a percentile clip keeps more levels for the body.
  outliers: { data: 'outliers', shape: '4096', dtype: 'int8', range: 'percentile', percentile: 99.9 },
  // Per-channel int4 on a matrix whose rows have very different scales.
  channels: { data: 'normal', shape: '16x256', spreadChannels: true, dtype: 'int4', mode: 'symmetric', granularity: 'channel' },
  // Static params: calibrated on a narrower set, applied to the full data, which clips.
  static: { data: 'normal', shape: '4096', params: 'calibrated', calibSpread: 0.5, dtype: 'int8' },
};
