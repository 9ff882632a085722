// The formula panel: the four formulas of the seed blog post, (1) scale, (2) zero point, (3) quantize,
// (4) dequantize, in the variant the current profile and mode use (docs/SCHEMES.md §2), with the
// run's numbers substituted: the group's range, the core's s and z, and one sample element. KaTeX
// builds DOM nodes (katex.render), never an HTML string, so its inline sizes go through CSSOM and
// the page's CSP (style-src 'self') holds.
import katex from '../vendor/katex/katex.mjs';
import { f32, num, tex } from '../app/format.js';

const T = (v) => tex(f32(v));
const N = (v, d = 6) => tex(num(v, d));
const I = (v) => tex(String(v));
const paren = (v) => (v < 0 ? `(${T(v)})` : T(v));

// info: {profile, mode, floatZeroPoint, division, source ('dynamic'|'given'|'calibrated'),
//        qmin, qmax, s, z, lo, hi (the group's range when known), sample: {x, t, q, xhat} | null}
export function formulaLines(info) {
  const { profile, mode, floatZeroPoint, division, source, qmin, qmax, s, z, lo, hi, sample } = info;
  const known = Number.isFinite(lo) && Number.isFinite(hi);
  const lines = [];
  // "lhs = general = numbers = value": the general form on one row, the numbers on the next, so
  // the formulas fit a half-width card.
  const eq = (lhs, general, numbers, value) => (numbers
    ? `\\begin{aligned}${lhs} &= ${general} \\\\ &= ${numbers} = ${value}\\end{aligned}`
    : `${lhs} = ${general} = ${value}`);
  const frac = (a, b) => `\\frac{${a}}{${b}}`;
  const qspan = `${I(qmax)} - ${qmin < 0 ? `(${I(qmin)})` : I(qmin)}`;

  // (1) and (2)
  if (source === 'given') {
    lines.push(`s = ${T(s)} \\quad\\text{(given)}`);
    lines.push(`z = ${floatZeroPoint ? T(z) : I(z)} \\quad\\text{(given)}`);
  } else if (floatZeroPoint) {
    lines.push(eq('s', frac('x_{\\max} - x_{\\min}', 'q_{\\max} - q_{\\min}'),
      known ? frac(`${T(hi)} - ${paren(lo)}`, qspan) : '', T(s)));
    lines.push(eq('z', 'q_{\\min} - \\frac{x_{\\min}}{s}', known ? `${I(qmin)} - \\frac{${T(lo)}}{${T(s)}}` : '', T(z)));
  } else if (mode === 'symmetric') {
    const amax = known ? Math.max(Math.abs(lo), Math.abs(hi)) : NaN;
    const A = '\\max|x|';
    let sTex;
    let sNum = '';
    if (profile === 'pytorch') {
      sTex = frac(A, '(q_{\\max} - q_{\\min})/2');
      if (known) sNum = frac(T(amax), N((qmax - qmin) / 2));
    } else if (profile === 'onnx' || profile === 'ort-tool') {
      sTex = frac(`2\\,${A}`, 'q_{\\max} - q_{\\min}');
      if (known) sNum = frac(`2 \\cdot ${T(amax)}`, qspan);
    } else if (qmin < 0) {
      sTex = frac(A, 'q_{\\max}');
      if (known) sNum = frac(T(amax), I(qmax));
    } else {
      sTex = frac(A, 'q_{\\max} - z');
      if (known) sNum = frac(T(amax), `${I(qmax)} - ${I(z)}`);
    }
    lines.push(eq('s', sTex, sNum, T(s)));
    lines.push(qmin < 0 && z === 0 ? 'z = 0 \\quad\\text{(symmetric)}' : `z = ${I(z)} \\quad\\text{(symmetric: the middle code)}`);
  } else if (profile === 'seed') {
    lines.push(eq('s', frac('x_{\\max} - x_{\\min}', 'q_{\\max} - q_{\\min}'),
      known ? frac(`${T(hi)} - ${paren(lo)}`, qspan) : '', T(s)));
    let zNum = '';
    if (known) {
      const inner = Math.fround(Math.fround(Math.fround(hi * qmin) - Math.fround(lo * qmax)) / Math.fround(hi - lo));
      zNum = `\\operatorname{round}(${N(inner)})`;
    }
    lines.push(eq('z', `\\operatorname{round}\\!\\left(${frac('x_{\\max}\\, q_{\\min} - x_{\\min}\\, q_{\\max}', 'x_{\\max} - x_{\\min}')}\\right)`, zNum, I(z)));
  } else {
    const lo0 = known ? Math.min(lo, 0) : NaN;
    const hi0 = known ? Math.max(hi, 0) : NaN;
    const num0 = '\\max(x_{\\max}, 0) - \\min(x_{\\min}, 0)';
    lines.push(eq('s', frac(num0, 'q_{\\max} - q_{\\min}'), known ? frac(`${T(hi0)} - ${paren(lo0)}`, qspan) : '', T(s)));
    const arg = frac('\\min(x_{\\min}, 0)', 's');
    const zTex = profile === 'onnx'
      ? `\\operatorname{round}\\!\\left(\\operatorname{clip}\\!\\left(q_{\\min} - ${arg}\\right)\\right)`
      : `q_{\\min} - \\operatorname{round}\\!\\left(${arg}\\right)`;
    const zNum = known
      ? (profile === 'onnx'
        ? `\\operatorname{round}(\\operatorname{clip}(${I(qmin)} - ${N(Math.fround(lo0 / s))}))`
        : `${I(qmin)} - \\operatorname{round}(${N(Math.fround(lo0 / s))})`)
      : '';
    lines.push(eq('z', zTex, zNum, I(z)));
  }

  // (3): the general form, then the sample's numbers on the following rows (aligned at "=").
  const div = division === 'multiply-inverse' ? 'x \\cdot (1/s)' : '\\frac{x}{s}';
  const inside = floatZeroPoint || profile === 'seed';  // round(x/s + z) rather than round(x/s) + z
  const general = inside
    ? `\\operatorname{clamp}\\!\\left(\\operatorname{round}\\!\\left(${div} + z\\right), q_{\\min}, q_{\\max}\\right)`
    : `\\operatorname{clamp}\\!\\left(\\operatorname{round}\\!\\left(${div}\\right) + z, q_{\\min}, q_{\\max}\\right)`;
  if (sample) {
    const zs = z < 0 ? `(${floatZeroPoint ? T(z) : I(z)})` : floatZeroPoint ? T(z) : I(z);
    const tExpr = division === 'multiply-inverse' ? `${paren(sample.x)} \\cdot (1/${T(s)})` : frac(T(sample.x), T(s));
    const clampOf = (a) => `\\operatorname{clamp}(${a}, ${I(qmin)}, ${I(qmax)})`;
    const rows = [
      `q &= ${general}`,
      inside
        ? `&= ${clampOf(`\\operatorname{round}(${tExpr} + ${zs})`)}`
        : `&= ${clampOf(`\\operatorname{round}(${tExpr}) + ${zs}`)}`,
      inside
        ? `&= ${clampOf(`\\operatorname{round}(${N(sample.t)} + ${zs})`)} = ${I(sample.q)}`
        : `&= ${clampOf(`\\operatorname{round}(${N(sample.t)}) + ${zs}`)} = ${I(sample.q)}`,
    ];
    lines.push(`\\begin{aligned}${rows.join(' \\\\ ')}\\end{aligned}`);
  } else {
    lines.push(`q = ${general}`);
  }

  // (4)
  let d = '\\hat{x} = (q - z)\\, s';
  if (sample) d += ` = (${I(sample.q)} - ${floatZeroPoint ? paren(z) : z < 0 ? `(${I(z)})` : I(z)}) \\cdot ${T(s)} = ${T(sample.xhat)}`;
  lines.push(d);
  return lines;
}

export function renderFormulas(container, info) {
  const lines = formulaLines(info);
  container.replaceChildren();
  lines.forEach((line, k) => {
    const el = document.createElement('div');
    el.className = 'qp-formula-line';
    katex.render(`${line} \\tag{${k + 1}}`, el, { displayMode: true, throwOnError: false, output: 'htmlAndMathml' });
    container.append(el);
  });
}

// Element formats (docs/SCHEMES.md §4): (1) the group's scale, (2) the code, (3) the value, with
// the run's numbers. info: {kind, dtype, s, amax, max (small floats), bits, sample: {x, t, q, xhat}}
export function elementFormulaLines(info) {
  const { kind, dtype, s, amax, max, bits, sample, offset, codebook } = info;
  const name = `\\text{${dtype.replaceAll('_', '\\_')}}`;
  const A = Number.isFinite(amax) ? T(amax) : null;
  const lines = [];
  const v = sample && s ? sample.xhat / s : NaN;  // the format's value of the code, before scaling
  const code = sample ? `${I(sample.q)}` : '';
  switch (kind) {
    case 'minifloat':
      lines.push(`s = \\frac{\\max|x|}{\\max_{${name}}}${A ? ` = \\frac{${A}}{${N(max)}}` : ''} = ${T(s)}`);
      lines.push(`q = \\operatorname{encode}_{${name}}\\!\\left(\\frac{x}{s}\\right)${sample ? ` = \\operatorname{encode}(${N(sample.t)}) = ${code}` : ''}`);
      lines.push(`\\hat{x} = \\operatorname{decode}(q)\\, s${sample ? ` = ${N(v)} \\cdot ${T(s)} = ${T(sample.xhat)}` : ''}`);
      break;
    case 'lut':
      lines.push(`s = \\max|x| = ${T(s)}`);
      lines.push(`q = \\arg\\min_k \\left|\\,\\text{table}_k - \\operatorname{clamp}\\!\\left(\\frac{x}{s}, -1, 1\\right)\\right|${sample ? ` = ${code}` : ''}`);
      lines.push(`\\hat{x} = \\text{table}_q \\, s${sample ? ` = ${N(v)} \\cdot ${T(s)} = ${T(sample.xhat)}` : ''}`);
      break;
    case 'pow2':
      lines.push(`s = \\max|x| = ${T(s)}`);
      lines.push(`q = \\operatorname{sign}(x) \\cdot \\text{nearest level } 2^{k-L}\\text{ of } \\frac{|x|}{s}\\ (${I(bits)}\\text{ bits})${sample ? ` = ${code}` : ''}`);
      lines.push(`\\hat{x} = \\pm s \\cdot 2^{k-L}${sample ? ` = ${T(s)} \\cdot ${N(v)} = ${T(sample.xhat)}` : ''}`);
      break;
    case 'mx': {
      // e_max follows from the block's X and amax: X = 2^(floor(log2 amax) - e_max).
      const fl = Number.isFinite(amax) && amax > 0 ? Math.floor(Math.log2(amax)) : NaN;
      const emax = fl - Math.log2(s);
      const numbers = Number.isInteger(emax)
        ? ` = 2^{\\lfloor \\log_2 ${A} \\rfloor - ${I(emax)}} = 2^{${I(fl - emax)}}`
        : '';
      lines.push(`X = 2^{\\lfloor \\log_2 \\max|x| \\rfloor - e_{\\max}}${numbers} = ${T(s)}`);
      lines.push(`q = \\operatorname{quantize}_{${name}}\\!\\left(\\frac{x}{X}\\right)${sample ? ` = \\operatorname{quantize}(${N(sample.t)}) = ${code}` : ''}`);
      lines.push(`\\hat{x} = \\operatorname{element}(q)\\, X${sample ? ` = ${N(v)} \\cdot ${T(s)} = ${T(sample.xhat)}` : ''}`);
      break;
    }
    case 'ggml': {
      // The bundle's identity (docs/SCHEMES.md §7): x̂ = s · value(q) (+ offset), s per sub-block.
      const value = codebook ? '\\text{codebook}_q' : 'q';
      const vq = sample ? (codebook ? N(codebook[sample.q]) : I(sample.q)) : '';
      lines.push(`q = \\operatorname{quantize\\_row\\_ref}_{${name}}(x)${sample ? ` = ${code}` : ''}`);
      if (offset === undefined) {
        lines.push(`\\hat{x} = s \\cdot ${value}${sample ? ` = ${T(s)} \\cdot ${vq} = ${T(sample.xhat)}` : ''}`);
      } else {
        lines.push(`\\hat{x} = s \\cdot ${value} + o${sample ? ` = ${T(s)} \\cdot ${vq} + (${T(offset)}) = ${T(sample.xhat)}` : ''}`);
      }
      break;
    }
    default:  // kmeans
      lines.push(`c_0 < \\dots < c_{K-1}:\\ K = 2^{${I(bits)}} \\text{ centroids fitted on the group}`);
      lines.push(`q = \\arg\\min_k |x - c_k|${sample ? ` = ${code}` : ''}`);
      lines.push(`\\hat{x} = c_q${sample ? ` = ${T(sample.xhat)}` : ''}`);
  }
  return lines;
}

export function renderElementFormulas(container, info) {
  container.replaceChildren();
  elementFormulaLines(info).forEach((line, k) => {
    const el = document.createElement('div');
    el.className = 'qp-formula-line';
    katex.render(`${line} \\tag{${k + 1}}`, el, { displayMode: true, throwOnError: false, output: 'htmlAndMathml' });
    container.append(el);
  });
}
