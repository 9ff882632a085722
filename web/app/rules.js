// Every quantization rule the page applies itself, in one module: what a dtype is (family, code
// bits, code range, the levels of a grid), what a profile or an element format fixes (locks), what
// the settings amount to once those are applied (effective), which options apply at all, and the
// per-element arithmetic the inspector re-derives (x/s, the rounding rules). The core is the
// authority on all of this (core/src/options.cpp); these mirror it so the controls can lock and
// label before a run. When the JS API's Qplay#describe(options) -> {effective, locked, range,
// family, bits, levels} is available, it replaces the bodies here and no other file changes.
// DOM-free: the worker imports it too (through app/inspect.js).

export const DTYPE_BITS = [1, 2, 3, 4, 5, 6, 7, 8, 16];
// The profiles of integer dtypes, and the element profiles with the dtypes each takes (SCHEMES.md §5).
export const INTEGER_PROFILES = ['seed', 'pytorch', 'onnx', 'ort-tool'];
export const BNB_DTYPES = ['nf4', 'fp4'];
// bitsandbytes' quantize_4bit blocksize when none is given (the CLI's --profile bnb default).
export const BNB_BLOCK_SIZE = 64;

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
const MINIFLOAT_MAX = {
  fp8_e4m3fn: 448, fp8_e5m2: 57344, fp8_e4m3fnuz: 240, fp8_e5m2fnuz: 57344, fp6_e2m3: 7.5, fp6_e3m2: 28, fp4_e2m1: 6,
};

// The family of a dtype: null for integer codes, else its element kind.
export function elementKind(dtype) {
  for (const [kind, names] of Object.entries(ELEMENT_KINDS)) if (names.includes(dtype)) return kind;
  return null;
}

// The largest magnitude a small float format represents (undefined for other families).
export function elementMax(dtype) {
  return MINIFLOAT_MAX[dtype];
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

// What each profile fixes (SCHEMES.md §2 and core/src/options.cpp apply_profile): the UI sets these
// values and disables the controls, so a profile can never be contradicted.
function profileLocks(profile) {
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

// Whether a profile applies to a dtype: the integer profiles to integers, bnb to nf4/fp4, mx to MX.
export function profileFits(profile, dtype) {
  const kind = elementKind(dtype);
  if (profile === 'bnb') return BNB_DTYPES.includes(dtype);
  if (profile === 'mx') return kind === 'mx';
  return profile === 'custom' || !kind;
}

// What picking a profile changes besides its locks, as the CLI's defaults for it: the element
// profiles take a dtype of their own (bnb: nf4, mx: mxfp8_e4m3) and bnb blocks of 64 unless a
// block size was chosen (`defaultBlockSize`: the block size of a setting that never chose one).
export function profileDefaults(profile, state, defaultBlockSize) {
  const out = {};
  if (!profileFits(profile, state.dtype)) {
    if (profile === 'bnb') out.dtype = 'nf4';
    if (profile === 'mx') out.dtype = 'mxfp8_e4m3';
  }
  if (profile === 'bnb' && state.blockSize === defaultBlockSize) out.blockSize = BNB_BLOCK_SIZE;
  return out;
}

// --double-quant applies to runs with one float32 scale per channel, group or block (SCHEMES.md §6);
// ggml formats store their own scales in their blocks.
export function doubleQuantApplies(state) {
  const kind = elementKind(state.dtype);
  return state.granularity !== 'tensor' && kind !== 'mx' && kind !== 'kmeans' && kind !== 'ggml';
}

// Everything the current setting fixes: the profile's rules, and for element formats the integer
// affine options they refuse (SCHEMES.md §4; MX also fixes blocks of 32). field -> [value, reason]
// with reason 'profile' or 'element'.
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

// Small floats and MX round half-even or half-away; everything else takes every rounding rule.
function roundingsOf(kind) {
  return kind === 'minifloat' || kind === 'mx' ? ['half-even', 'half-away'] : null;
}

// The settings after the profile's locks and the rules that are not a matter of taste (a float
// zero point only exists for asymmetric schemes).
export function effective(state) {
  const s = { ...state };
  if (!profileFits(s.profile, s.dtype)) s.profile = 'custom';
  for (const [k, [v]] of Object.entries(locks(state))) s[k] = v;
  if (!doubleQuantApplies(s)) s.doubleQuant = false;
  if (s.mode === 'symmetric') s.zeroPointDomain = 'int';
  const roundings = roundingsOf(elementKind(s.dtype));
  if (roundings && !roundings.includes(s.rounding)) s.rounding = 'half-even';
  return s;
}

// Which options and choices apply to a setting at all (the controls hide or disable the rest).
export function applicable(state) {
  const kind = elementKind(state.dtype);
  const eff = effective(state);
  return {
    elementBits: kind === 'pow2' || kind === 'kmeans',
    saturate: kind === 'minifloat',
    scaleRule: kind === 'mx',
    doubleQuant: doubleQuantApplies(eff),
    pack: codeBits(eff) <= 4,
    // Element dtypes take no integer profile (bnb and mx pick their own dtype when chosen).
    profile: (p) => !(kind && INTEGER_PROFILES.includes(p)),
    rounding: (r) => (roundingsOf(kind) ?? [r]).includes(r),
    // A float zero point only exists for asymmetric schemes.
    zeroPointDomain: state.mode !== 'symmetric',
    percentile: eff.range === 'percentile',
    roundingSeed: eff.rounding === 'stochastic',
    averagingConstant: state.observer === 'moving-average',
    axis: eff.granularity !== 'tensor',
    groupSize: eff.granularity === 'group',
    blockSize: eff.granularity === 'block',
  };
}

// What a sweep can vary: the code width (integer dtypes, pow2, k-means; small floats and tables
// have none) and the block size (not MX or ggml, whose blocks are fixed).
export function sweepable(state) {
  const kind = elementKind(state.dtype);
  return { bits: !kind || kind === 'pow2' || kind === 'kmeans', block: kind !== 'mx' && kind !== 'ggml' };
}

// The division each profile uses (shown in the formula panel and the inspector).
export function divisionOf(profile) {
  return profile === 'pytorch' ? 'multiply-inverse' : 'divide';
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

// Whether scalar given params (--scale, --zero-point) are valid for a setting's code range.
export function givenParamsFit(state) {
  const range = codeRange(state);
  const e = effective(state);
  if (!range || !(e.scale > 0)) return false;
  if (e.zeroPointDomain === 'float') return Number.isFinite(e.zeroPoint);
  return Number.isInteger(e.zeroPoint) && e.zeroPoint >= range.qmin && e.zeroPoint <= range.qmax;
}

// The grid of param group g of a result: the values its codes stand for, scaled by the group's
// params. Integer codes: every level qmin..qmax, (q - z) · s in float32. ggml sub-blocks: scale ·
// code (+ offset) over the format's code range, as the bundle's identity computes it. Formats
// with a table (lookup tables, pow2, k-means): the table times the group's scale. Other element
// formats (small floats, MX): the dequantized values the group actually uses (`usedValues(g)`),
// which are the grid points in play without re-deriving the format here.
export function gridLevels(state, result, g, usedValues) {
  const r = result;
  const e = effective(state);
  const kind = elementKind(e.dtype);
  const s = r.scale[g];
  if (!kind) {
    const z = r.zeroPoint[g];
    const count = r.qmax - r.qmin + 1;
    // Up to 65536 levels (16 bits): all are kept, the chart thins them when drawing.
    const levels = new Float64Array(count);
    for (let k = 0; k < count; k++) levels[k] = Math.fround(Math.fround(r.qmin + k - z) * s);
    return { levels, lo: levels[0], hi: levels[count - 1], step: s, clip: true };
  }
  let levels;
  if (kind === 'ggml' && !r.codebook) {
    const off = r.offset ? r.offset[g] : 0;
    levels = new Float64Array(r.qmax - r.qmin + 1);
    for (let k = 0; k < levels.length; k++) {
      const p = Math.fround(s * (r.qmin + k));
      levels[k] = r.offset ? Math.fround(p + off) : p;
    }
    levels.sort();
  } else if (r.codebook) {
    const rows = r.codebookShape?.length === 2 ? r.codebookShape[0] : 1;
    const k = r.codebook.length / rows;
    const row = rows > 1 ? r.codebook.subarray(g * k, (g + 1) * k) : r.codebook;
    levels = Float64Array.from(row, (v) => Math.fround(v * s)).sort();
  } else {
    levels = Float64Array.from(usedValues(g)).sort();
  }
  const finite = levels.filter(Number.isFinite);
  let lo = finite.length ? finite[0] : 0;
  let hi = finite.length ? finite[finite.length - 1] : 0;
  // Small floats saturate at ±max·s: beyond that the values clip.
  const clip = kind === 'minifloat' && e.saturate;
  if (kind === 'minifloat') {
    hi = Math.fround(MINIFLOAT_MAX[e.dtype] * s);
    lo = -hi;
  }
  return { levels: finite, lo, hi, step: 0, clip };
}

// ---- per-element arithmetic (the inspector explains the core's codes with it) ----------------

// x/s as the profile computes it, in float32: a true division, or a multiply by the float32 1/s
// (PyTorch). A float64 quotient of two float32 values rounds to the correctly rounded float32
// quotient, so Math.fround(x / s) is exactly the float32 division.
export function scaled(x, s, division) {
  const xf = Math.fround(x);
  const sf = Math.fround(s);
  return division === 'multiply-inverse' ? Math.fround(xf * Math.fround(1 / sf)) : Math.fround(xf / sf);
}

export function isTie(t) {
  return Number.isFinite(t) && Math.abs(t - Math.floor(t)) === 0.5;
}

// The rule name of a rounding option ('stochastic:7' -> 'stochastic'; absent: half-even).
export function roundingRule(rounding) {
  return rounding ? String(rounding).split(':')[0] : 'half-even';
}

// The rounding rules of docs/SCHEMES.md (stochastic is not reproduced here: its code comes from the
// core and the inspector says so).
export function roundBy(rule, t) {
  switch (rule) {
    case 'half-away': return Math.sign(t) * Math.floor(Math.abs(t) + 0.5);
    case 'half-up': {
      const r = Math.floor(t);
      return t - r >= 0.5 ? r + 1 : r;
    }
    case 'half-even': {
      const r = Math.floor(t);
      const d = t - r;
      if (d < 0.5) return r;
      if (d > 0.5) return r + 1;
      return r % 2 === 0 ? r : r + 1;
    }
    default: return NaN;
  }
}
