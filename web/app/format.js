// Number spelling for the UI. Params are float32, so they are shown with the shortest decimal that
// reads back to the same float32 (as params.json and the CLI print them); metrics with a fixed
// number of significant digits.

export function f32(v) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  const x = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return tidy(s);
  }
  return String(x);
}

// Significant digits, without trailing zeros, with a real minus sign.
export function num(v, digits = 6) {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e-4 && a < 1e7 ? v.toPrecision(digits) : v.toExponential(digits - 1);
  return tidy(s);
}

function tidy(s) {
  let out = s;
  if (out.includes('e')) {
    const [m, e] = out.split('e');
    out = `${m.includes('.') ? m.replace(/\.?0+$/, '') : m}e${e.replace('+', '')}`;
  } else if (out.includes('.')) {
    out = out.replace(/\.?0+$/, '');
  }
  return out.replace(/^-/, '−');
}

export function percent(v, digits = 3) {
  if (!Number.isFinite(v)) return num(v);
  return `${num(100 * v, digits)} %`;
}

// Byte counts: exact below 10 KiB (where single bytes of parameter overhead matter), binary units
// above (the exact count is in integer()).
export function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 10240) return `${n.toLocaleString('en-US')} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function integer(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

// A number for a LaTeX formula: ASCII minus inside braces so "-" never reads as subtraction.
export function tex(v, digits = 6) {
  const s = typeof v === 'string' ? v : num(v, digits);
  return s.replace('−', '-').replace(/e(-?\d+)$/, '\\times 10^{$1}');
}
