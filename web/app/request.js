// What the element asks the worker for, built from the settings, the data and the further files:
// the quantize request (source, the API's options, calibration, a params file), the options of the
// per-tensor dynamic run that given params start from, and the arguments of the equivalent command
// line. DOM-free.
import { apiOptions, observerFlag, cliCommand } from './state.js';
import { calibrationSources } from './data.js';

// The file name a calibration source has in params.json and on the command line.
const calibrationName = (x) => x.tensor ?? x.aux ?? 'calibration.npy';

// s: the settings; data: {values, shape, fileName, tensor}; files: {paramsFile, calibFiles}.
export function quantizeRequest(s, data, { paramsFile, calibFiles }) {
  const source = s.data === 'file' ? { tensor: data.tensor } : { dataset: 'main' };
  const options = apiOptions(s, { fileName: data.fileName, tensor: s.data === 'file' ? data.tensor : undefined });
  let calibration = null;
  let params;
  if (s.params === 'given' && paramsFile) {
    delete options.scale;
    delete options.zeroPoint;
    params = paramsFile;
  }
  if (s.params === 'calibrated') {
    const sources = calibrationSources(s, calibFiles);
    calibration = { sources, observer: observerFlag(s), files: sources.map(calibrationName) };
  }
  return { source, options, calibration, paramsFile: params };
}

// The worker's tensorParams request: the same source and scheme, dynamic params for the whole
// tensor (what "static, given" starts from).
export function perTensorRequest(s, data) {
  const source = s.data === 'file' ? { tensor: data.tensor } : { dataset: 'main' };
  const options = apiOptions({ ...s, params: 'dynamic', granularity: 'tensor', doubleQuant: false },
    { fileName: data.fileName, tensor: s.data === 'file' ? data.tensor : undefined });
  return { source, options };
}

// The command line that writes the same bundle. file: the open file ({name, tensors, raw, stored}).
export function commandLine(s, data, file, { paramsFile, calibFiles }) {
  const multi = file?.tensors.length > 1 ? data?.tensor : undefined;
  return cliCommand(s, {
    input: data?.fileName ?? 'INPUT.npy',
    tensor: s.data !== 'file' ? undefined : file?.stored ? file.tensors[0].label : multi,
    calibrationFiles: s.params === 'calibrated' ? calibrationSources(s, calibFiles).map(calibrationName) : [],
    paramsFile,
    raw: s.data === 'file' ? file?.raw : null,
  });
}
