// The playground's settings: one plain object whose option names are the CLI's (camelCased), its
// defaults and presets, the URL form of a setting (the CLI's kebab-case flag names, so a shared link
// reads like a command line), the options object the JS API takes and the equivalent command line.
// What a profile or a format fixes is app/rules.js's. DOM-free.
import { effective, elementKind, packApplies, ggmlFormat, ggmlFormats, knownDtype, profileBlockSize } from './rules.js';
import { choiceNames } from './core.js';

// Longest text kept in the URL for pasted numbers (longer pastes stay local).
const MAX_URL_VALUES = 2000;

// The choices of the scheme options, as the core's option table lists them (app/core.js; they
// are read once the worker has started, before any setting is parsed).
export const MODES = () => choiceNames('mode');
export const GRANULARITIES = () => choiceNames('granularity');
export const RANGES = () => choiceNames('range');
export const ROUNDINGS = () => choiceNames('rounding');
export const ZERO_POINT_DOMAINS = () => choiceNames('zeroPointDomain');
export const PROFILES = () => choiceNames('profile');
export const SCALE_RULES = () => choiceNames('scaleRule');
// The page's own choices (data and params sources are not options of the core).
export const PARAM_SOURCES = ['dynamic', 'given', 'calibrated'];
export const OBSERVERS = ['minmax', 'moving-average'];
export const DATA_SOURCES = ['seed', 'normal', 'uniform', 'laplace', 'outliers', 'paste', 'file'];
// '' is "no --pack given" (the core's 'none').
export const PACK_ORDERS = () => ['', ...choiceNames('pack').filter((c) => c !== 'none')];

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
  clipRatio: 1,
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
    if (s.pack && packApplies(s)) o.pack = s.pack;
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
    // A pack order chosen for narrower codes stays in the settings; it applies where the core takes it.
    if (s.pack && packApplies(s)) o.pack = s.pack;
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
  if (s.params === 'dynamic' && s.clipRatio !== 1) o.clipRatio = s.clipRatio;
  if (s.params === 'given') {
    o.scale = s.scale;
    o.zeroPoint = s.zeroPoint;
  }
  if (s.pack && packApplies(s)) o.pack = s.pack;
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
    if (s.pack && packApplies(s)) args.push('--pack', s.pack);
    if (s.bins !== d.bins) args.push('--bins', String(s.bins));
    return args.join(' ');
  }
  if (s.dtype !== d.dtype) args.push('--dtype', s.dtype);
  if ((kind === 'pow2' || kind === 'kmeans') && s.elementBits !== d.elementBits) args.push('--bits', String(s.elementBits));
  if (kind === 'minifloat' && !s.saturate) args.push('--no-saturate');
  if (kind === 'mx' && s.scaleRule !== 'floor') args.push('--scale-rule', s.scaleRule);
  if (s.pack && packApplies(s)) args.push('--pack', s.pack);
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
  if (!kind && s.params === 'dynamic' && s.clipRatio !== 1) args.push('--clip-ratio', String(s.clipRatio));
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
  'clip-ratio': ['clipRatio', 'posnum'],
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

// Parses a query (from the URL hash or an `options` attribute) into a partial state, and `values`
// (the numbers of data=paste, kept beside the settings as the page keeps them). Unknown keys and
// malformed values are skipped and reported, never thrown: a stale link still opens.
export function fromQuery(text) {
  const q = new URLSearchParams(String(text).replace(/^[#?]/, ''));
  const out = {};
  const rejected = [];
  let values;
  for (const [key, raw] of q) {
    if (key === 'values') {
      values = raw;
      continue;
    }
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
  // A link naming a profile with a block size of its own (bnb: 64) and none given means that
  // default, as the CLI's does.
  if (out.profile !== undefined && !('blockSize' in out) && profileBlockSize(out.profile) !== undefined) {
    out.blockSize = profileBlockSize(out.profile);
  }
  return values === undefined ? { state: out, rejected } : { state: out, values, rejected };
}

// The query of a setting with the pasted numbers when they are the data and short enough for a
// URL (longer pastes stay local).
export function linkQuery(state, base, paste) {
  const q = new URLSearchParams(toQuery(state, base));
  if (state.data === 'paste' && paste.length <= MAX_URL_VALUES) q.set('values', paste);
  return q.toString();
}

function parseField(kind, raw) {
  if (Array.isArray(kind)) return kind.includes(raw) ? raw : undefined;
  if (typeof kind === 'function') return kind().includes(raw) ? raw : undefined;
  const num = Number(raw);
  switch (kind) {
    case 'text': return raw;
    case 'bool': return raw === '' || raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : undefined;
    case 'int': return Number.isInteger(num) && raw.trim() !== '' ? num : undefined;
    case 'posint': return Number.isInteger(num) && num > 0 ? num : undefined;
    case 'num': return raw.trim() !== '' && Number.isFinite(num) ? num : undefined;
    case 'posnum': return raw.trim() !== '' && Number.isFinite(num) && num > 0 ? num : undefined;
    case 'dtype': return knownDtype(raw) && !ggmlFormat(raw) ? raw : undefined;
    case 'format': return ggmlFormats().includes(raw) ? `ggml:${raw}` : undefined;
    case 'list': return raw.split(',').filter(Boolean);
    case 'range': {
      const [name, arg] = raw.split(':');
      if (!RANGES().includes(name)) return undefined;
      if (name !== 'percentile') return arg === undefined ? { range: name } : undefined;
      const p = arg === undefined ? 99.99 : Number(arg);
      return p > 0 && p <= 100 ? { range: name, percentile: p } : undefined;
    }
    case 'rounding': {
      const [name, arg] = raw.split(':');
      if (!ROUNDINGS().includes(name)) return undefined;
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

// Whether a partial state (a parsed query, a set of changes) names given params.
export const namesGivenParams = (partial) => 'scale' in partial || 'zeroPoint' in partial;

// The element's first settings: DEFAULTS, the named preset, the `options` attribute (the element's
// base: what its URL leaves out), then the page's hash; the pasted numbers from the hash, else the
// options', else the `values` attribute. namesGiven: the options or the hash named given params;
// baseNamesGiven: the options did.
export function initialSettings({ preset, options, hash, values }) {
  const attr = fromQuery(options ?? '');
  const base = { ...DEFAULTS, ...(PRESETS[preset] ?? {}), ...attr.state };
  const out = { base, state: { ...base }, paste: attr.values ?? '', baseNamesGiven: namesGivenParams(attr.state) };
  out.namesGiven = out.baseNamesGiven;
  if (hash && hash.length > 1) {
    const q = fromQuery(hash);
    out.state = { ...out.state, ...q.state };
    if (q.values !== undefined) out.paste = q.values;
    out.namesGiven ||= namesGivenParams(q.state);
    out.rejected = q.rejected;
  }
  out.paste = out.paste || values || '';
  return out;
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
