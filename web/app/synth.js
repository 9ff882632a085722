// Synthetic tensors for the playground, reproducible from a seed: the same (distribution, shape,
// seed) gives the same float32 values in every browser, so a shared link shows the same numbers.

// A counter-based generator: a Weyl sequence (step 0x9E3779B9, the 32-bit golden ratio) passed
// through the MurmurHash3 32-bit finalizer. Each output is a well-mixed function of the counter,
// which is all sampling needs here; it is not for cryptography.
export function rng(seed) {
  let state = (seed >>> 0) ^ 0x5bd1e995;
  const next32 = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  // Uniform in the open interval (0, 1): 24 random bits, offset by half a step so log(u) is finite.
  const uniform = () => ((next32() >>> 8) + 0.5) / 16777216;
  let spare = null;
  // Standard normal by the Box-Muller transform (two uniforms give two normals).
  const normal = () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  // Laplace(0, b = 1/sqrt(2)) has unit variance: inverse CDF of a uniform in (-1/2, 1/2).
  const laplace = () => {
    const u = uniform() - 0.5;
    return -Math.SQRT1_2 * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  };
  return { next32, uniform, normal, laplace };
}

// The seed blog's worked example: FP range [-4.75, 4.67] to uint8, with x = -3.57 the element the
// formulas are shown for (shared/reference/semantics.md C1; tests/data/seed_example.npy).
export const SEED_VALUES = [-4.75, -3.57, 0.0, 1.2, 4.67];
export const SEED_SAMPLE_INDEX = 1;

export const DISTRIBUTIONS = ['seed', 'normal', 'uniform', 'laplace', 'outliers'];

// Parses "4096", "16x256", "16×256" or "16,256" into a shape; null when malformed or too large.
export function parseShape(text, maxElements = 1 << 26) {
  const parts = String(text).trim().split(/\s*[x×,*]\s*/i);
  if (parts.length === 0 || parts.length > 4) return null;
  const shape = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return null;
    const d = Number(p);
    if (d < 1) return null;
    shape.push(d);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return n <= maxElements ? shape : null;
}

export function shapeText(shape) {
  return shape.length ? shape.join('×') : '()';
}

// Values for a distribution. With channelSpread, each row along axis 0 gets its own scale, spread
// log-uniformly over [1/4, 4]: that is what real weight matrices look like and what per-channel
// params are for. `spread` scales everything (a calibration set with spread 0.5 covers half the
// range, so applying its params to the full data clips).
export function synthesize({ distribution, shape, seed = 1, channelSpread = false, spread = 1 }) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (distribution === 'seed') {
    // The five values of the example first, then uniform values inside the same range.
    const r = rng(seed);
    for (let i = 0; i < n; i++) {
      out[i] = i < SEED_VALUES.length ? SEED_VALUES[i] : -4.75 + 9.42 * r.uniform();
      out[i] *= spread;
    }
    return out;
  }
  const r = rng(seed);
  const rows = shape.length > 1 ? shape[0] : 1;
  const perRow = n / rows;
  const rowScale = new Float64Array(rows).fill(1);
  if (channelSpread && rows > 1) {
    const rs = rng(seed ^ 0x9e3779b9);
    for (let c = 0; c < rows; c++) rowScale[c] = Math.pow(4, 2 * rs.uniform() - 1);
  }
  for (let i = 0; i < n; i++) {
    let v;
    switch (distribution) {
      case 'uniform': v = Math.sqrt(3) * (2 * r.uniform() - 1); break;  // unit variance
      case 'laplace': v = r.laplace(); break;
      case 'outliers':
        // A normal body with 0.5 % outliers at 8 to 16 standard deviations, either sign: one
        // outlier stretches a min-max range and starves the body of levels.
        v = r.normal();
        if (r.uniform() < 0.005) v = Math.sign(v || 1) * (8 + 8 * r.uniform());
        break;
      default: v = r.normal();
    }
    out[i] = v * rowScale[Math.floor(i / perRow)] * spread;
  }
  return out;
}

// Numbers pasted as text: separated by whitespace, commas or semicolons; brackets are ignored so a
// printed Python list or numpy array pastes as is. Returns {values} or {error: 'token'}.
export function parseNumbers(text) {
  const tokens = String(text).replace(/[[\]()]/g, ' ').split(/[\s,;]+/).filter(Boolean);
  const values = new Float32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i].toLowerCase();
    let v;
    if (t === 'nan') v = NaN;
    else if (t === 'inf' || t === '+inf' || t === 'infinity') v = Infinity;
    else if (t === '-inf' || t === '-infinity') v = -Infinity;
    else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) v = Number(t);
    else return { error: tokens[i] };
    values[i] = v;
  }
  return { values };
}
