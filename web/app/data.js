// The tensor a setting quantizes, and its calibration data: a tensor of the open file (its values
// read in the worker), pasted numbers, or synthetic data generated in the worker from a seed.
// DOM-free: the element hands in the engine, the settings and what the user pasted, and shows the
// returned data and note.
import { parseShape, parseNumbers, shapeText, SEED_VALUES } from './synth.js';
import * as F from './format.js';

// The synthetic data sources (the seed example and the generated distributions).
export const SYNTHETIC = ['seed', 'normal', 'uniform', 'laplace', 'outliers'];

// An error whose message is one of the page's strings (key and values), so it follows the language.
export class DataError extends Error {
  constructor(t, key, vars) {
    super(t(key, vars));
    this.key = key;
  }
}

// Fetches a same-origin tensor file named by the element's `src` attribute: {name, bytes}.
export async function fetchSource(src, baseURI) {
  const url = new URL(src, baseURI);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const bytes = await response.arrayBuffer();
  const name = decodeURIComponent(url.pathname.split('/').pop() || 'tensor.npy');
  return { name, bytes };
}

// Loads the data of setting `s`: resolves to {data: {values, shape, fileName, tensor, dtype} | null,
// note: {key, vars} | null} after sending pasted values to the worker as dataset 'main' (synthetic
// data is generated there under that key). `file` is the open file ({name, tensors}), `paste` and
// `pasteShape` the pasted text. `onGenerate` is called before synthetic data is generated.
export async function loadData(engine, t, s, { file, paste, pasteShape, onGenerate = () => {} }) {
  if (s.data === 'file') {
    if (!file) return { data: null, note: undefined };
    const info = file.tensors.find((x) => x.name === s.tensor) ?? file.tensors[0];
    const reply = await engine.request('values', { tensor: info.name });
    return { data: { values: reply.values, shape: info.shape, fileName: file.name, tensor: info.name, dtype: info.dtype }, note: null };
  }
  if (s.data === 'paste') {
    const parsed = parseNumbers(paste);
    if (parsed.error !== undefined) throw new DataError(t, 'pasteBad', { token: parsed.error });
    if (parsed.values.length === 0) return { data: null, note: { key: 'pasteEmpty' } };
    let shape = [parsed.values.length];
    const shapeTextValue = (pasteShape ?? '').trim();
    if (shapeTextValue) {
      shape = parseShape(shapeTextValue);
      if (!shape || shape.reduce((a, b) => a * b, 1) !== parsed.values.length) {
        throw new DataError(t, 'pasteShapeBad', { shape: shapeTextValue, n: parsed.values.length });
      }
    }
    const data = { values: parsed.values, shape, fileName: 'pasted.npy', tensor: 'array', dtype: 'float32' };
    await engine.setDataset('main', data.values, data.shape);
    return { data, note: { key: 'pasteCount', vars: { n: parsed.values.length, shape: shapeText(shape) } } };
  }
  const shape = s.data === 'seed' ? [Math.max(5, parseShape(s.shape)?.[0] ?? 5)] : parseShape(s.shape);
  if (!shape) throw new DataError(t, 'shapeBad', { shape: s.shape });
  onGenerate();
  const values = await engine.synthesize('main', { distribution: s.data, shape, seed: s.seed, channelSpread: s.spreadChannels });
  const name = s.data === 'seed' ? 'seed_example.npy' : `${s.data}_${shape.join('x')}_seed${s.seed}.npy`;
  const data = { values, shape, fileName: name, tensor: 'array', dtype: 'float32' };
  const note = s.data === 'seed'
    ? { key: 'seedData', vars: { values: SEED_VALUES.join(', ') } }
    : { key: 'synthCount', vars: { n: F.integer(values.length), shape: shapeText(shape) } };
  return { data, note };
}

// The settings calibration data depends on: a change of any of these (or of the data) needs
// loadCalibration again before a run.
export const CALIBRATION_FIELDS = ['params', 'calibSeed', 'calibSpread'];

// Calibration data for synthetic and pasted sources, sent to the worker as dataset 'calib': the
// same generator with its own seed, scaled by calibSpread (a pasted tensor is scaled as it is).
// Files calibrate on their own tensors and added files, which need nothing here.
export async function loadCalibration(engine, s, data) {
  if (!data || s.data === 'file' || s.params !== 'calibrated') return;
  if (s.data === 'paste') {
    await engine.setDataset('calib', data.values.map((v) => v * s.calibSpread), data.shape);
  } else {
    await engine.synthesize('calib', {
      distribution: s.data, shape: data.shape, seed: s.calibSeed, channelSpread: s.spreadChannels, spread: s.calibSpread,
    }, { want: false });
  }
}

// Where calibration params come from: checked tensors of the open file and added calibration
// files; for generated or pasted data without files, the generated calibration set.
export function calibrationSources(s, calibFiles) {
  const aux = calibFiles.map((name) => ({ aux: name }));
  if (s.data === 'file') return [...s.calibrate.map((name) => ({ tensor: name })), ...aux];
  return aux.length ? aux : [{ dataset: 'calib' }];
}
