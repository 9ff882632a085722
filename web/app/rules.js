// What the controls draw, read from the core's answers (app/core.js: Qplay#catalog and
// Qplay#describe, fetched once through the worker): a dtype's family and code bits, what a profile
// or a format fixes (locks), the settings once those apply (effective), which options and choices
// apply at all, and a profile's defaults. Nothing here spells a format list, a lock or a bound; what
// remains is the page's mapping (the page keeps ggml formats in its dtype field as 'ggml:q4_k', one
// sub-field per choice such as the percentile of range=percentile) and the inspector's per-element
// arithmetic. DOM-free.
import { coreCatalog, described, formatRow, formatRows, granularityProbe, integerBits, optionRow, rowDtype, sampleChoice, schemeOptions } from './core.js';

// The integer code widths the core accepts (intN and uintN).
export function dtypeBits() {
  return integerBits();
}

export function ggmlFormat(dtype) {
  return typeof dtype === 'string' && dtype.startsWith('ggml:') ? dtype.slice(5) : null;
}
// How a dtype value reads on screen: ggml's own spelling for a format (q4_K), the name otherwise.
export function dtypeLabel(dtype) {
  const f = ggmlFormat(dtype);
  return f ? f.replace(/_k$/, '_K') : dtype;
}

// The element formats by family, in the registry's order: {minifloat: ['fp8_e4m3fn', ...], ...,
// ggml: ['ggml:q8_0', ...]} (integer codes are the two selects, not a list).
export function elementKinds() {
  const kinds = {};
  for (const row of formatRows()) (kinds[row.family] ??= []).push(rowDtype(row));
  return kinds;
}

// The ggml block formats (--format names).
export function ggmlFormats() {
  return coreCatalog().formats.filter((f) => f.option === '--format').map((f) => f.name);
}

// Whether the core takes this page dtype ('int4', 'nf4', 'ggml:q4_k').
export function knownDtype(dtype) {
  return Boolean(parseDtype(dtype) || formatRow(dtype));
}

// The family of a dtype: null for integer codes, else its registry family.
export function elementKind(dtype) {
  return formatRow(dtype)?.family ?? null;
}

// The largest magnitude a small float format represents (undefined for other families).
export function elementMax(dtype) {
  const row = formatRow(dtype);
  return row?.family === 'minifloat' ? row.maxNormal : undefined;
}

export function parseDtype(dtype) {
  const m = /^(u?)int(\d+)$/.exec(dtype);
  if (!m) return null;
  const bits = Number(m[2]);
  if (!integerBits().includes(bits)) return null;
  return { signed: m[1] !== 'u', bits };
}

export function dtypeName(signed, bits) {
  return `${signed ? '' : 'u'}int${bits}`;
}

// What the core says about a dtype with extra options (null: refused); an unknown dtype is refused.
function ask(dtype, extra = {}) {
  if (!knownDtype(dtype)) return null;
  return described(schemeOptions(dtype, extra));
}

// Whether an option applies to a dtype: describe() lists exactly those among the effective
// options (saturate for small floats, scaleRule for MX, bits for pow2 and k-means).
function takes(dtype, key) {
  return key in (ask(dtype)?.effective ?? {});
}

// Whether the dtype's code width is the run's --bits (pow2, k-means).
function takesBits(dtype) {
  return takes(dtype, 'bits');
}

// Whether a profile applies to a dtype (the core accepts the two together).
export function profileFits(profile, dtype) {
  return profile === 'custom' || ask(dtype, { profile }) !== null;
}

// The profiles that fix the integer affine map (those an integer dtype takes besides custom).
function integerProfile(profile) {
  return profile !== 'custom' && profileFits(profile, 'int8');
}

// What picking a profile changes besides its locks, as the CLI's defaults for it (the core's
// profileDefaults: bnb picks nf4 in blocks of 64, mx mxfp8_e4m3, ggml q8_0): the dtype when the
// current one does not fit, the block size when the setting never chose one (`defaultBlockSize`).
export function profileDefaults(profile, state, defaultBlockSize) {
  const picks = described({ profile })?.profileDefaults ?? {};
  const out = {};
  // A format it picks (ggml: q8_0) lives in the page's dtype field as 'ggml:q8_0'.
  const dtype = picks.format !== undefined ? `ggml:${picks.format}` : picks.dtype;
  if (dtype !== undefined && !profileFits(profile, state.dtype)) out.dtype = dtype;
  if (picks.blockSize !== undefined && state.blockSize === defaultBlockSize) out.blockSize = picks.blockSize;
  return out;
}

// The block size a profile picks when none is given (bnb: 64), or undefined.
export function profileBlockSize(profile) {
  return described({ profile })?.profileDefaults?.blockSize;
}


// --double-quant applies where the core says so for the dtype at this granularity.
export function doubleQuantApplies(state) {
  return Boolean(ask(state.dtype, granularityProbe(state.granularity))?.doubleQuantApplies);
}

// The rounding rules the core accepts for a dtype (names, without ':SEED').
function roundingsOf(dtype) {
  return optionRow('rounding').choices.filter((r) => ask(dtype, { rounding: sampleChoice(r) }) !== null)
    .map((r) => r.split(':')[0]);
}

// Everything the current setting fixes, as describe() reports it for the dtype with its profile:
// field -> [value, reason], reason 'profile' or 'element' (for element formats the integer affine
// options, given params, the profile and the rounding rule where only one applies).
export function locks(state) {
  const out = {};
  const profile = profileFits(state.profile, state.dtype) ? state.profile : 'custom';
  for (const l of ask(state.dtype, profile === 'custom' ? {} : { profile })?.locked ?? []) out[l.key] = [l.value, l.reason];
  return out;
}

// The settings after the locks, and the rules of the request the core would refuse otherwise: no
// double quantization where it does not apply, an int zero point for symmetric schemes, a rounding
// rule the dtype takes (else the default).
export function effective(state) {
  const s = { ...state };
  if (!profileFits(s.profile, s.dtype)) s.profile = 'custom';
  for (const [k, [v]] of Object.entries(locks(state))) s[k] = v;
  if (!doubleQuantApplies(s)) s.doubleQuant = false;
  if (s.mode === 'symmetric') s.zeroPointDomain = 'int';
  if (!roundingsOf(s.dtype).includes(s.rounding)) s.rounding = optionRow('rounding').default;
  return s;
}

// Whether --pack applies to a setting (the core takes it for codes of at most 4 bits).
export function packApplies(state) {
  const pack = optionRow('pack').choices[0];
  return ask(state.dtype, takesBits(state.dtype) ? { bits: state.elementBits, pack } : { pack }) !== null;
}

// Which options and choices apply to a setting at all (the controls hide or disable the rest).
export function applicable(state) {
  const kind = elementKind(state.dtype);
  const eff = effective(state);
  // A locked rounding control is disabled as a whole; otherwise the rules the dtype refuses are.
  const roundings = 'rounding' in locks(state) ? null : roundingsOf(state.dtype);
  return {
    elementBits: takesBits(state.dtype),
    saturate: takes(state.dtype, 'saturate'),
    scaleRule: takes(state.dtype, 'scaleRule'),
    doubleQuant: doubleQuantApplies(eff),
    pack: packApplies(eff),
    // Element dtypes take no integer profile (bnb and mx pick their own dtype when chosen).
    profile: (p) => !(kind && integerProfile(p)),
    rounding: (r) => roundings?.includes(r) ?? true,
    // A float zero point only exists for asymmetric schemes.
    zeroPointDomain: state.mode !== 'symmetric',
    // The sub-field of a choice: the percentile of range=percentile, the seed of stochastic...
    percentile: eff.range === 'percentile',
    roundingSeed: eff.rounding === 'stochastic',
    averagingConstant: state.observer === 'moving-average',
    axis: eff.granularity !== 'tensor',
    groupSize: eff.granularity === 'group',
    blockSize: eff.granularity === 'block',
  };
}

// What a sweep can vary: the code width (integer dtypes and those taking --bits) and the block
// size (not where the format fixes it).
export function sweepable(state) {
  const kind = elementKind(state.dtype);
  return { bits: !kind || takesBits(state.dtype), block: !('blockSize' in locks({ ...state, profile: 'custom' })) };
}

// The division each profile uses (shown in the formula panel and the inspector).
export function divisionOf(profile) {
  return described({ profile })?.division ?? 'divide';
}

// Whether scalar given params (--scale, --zero-point) fit the setting's code range (`range`, the
// core's {qmin, qmax} for it; null when the core refuses the setting).
export function givenParamsFit(state, range) {
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
    hi = Math.fround(elementMax(e.dtype) * s);
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
