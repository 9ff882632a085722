// Who chose the scalar given params (--scale, --zero-point), and when the page derives them itself.
// The page's own given params are the core's dynamic params of the whole tensor under the current
// scheme, so "static, given" starts from a valid setting that reproduces the dynamic per-tensor
// run (docs/WEB.md). They are derived on switching to given params, when they do not fit the
// dtype's code range (the defaults 0.037 / 129 are the seed example's uint8 numbers), and again
// when the scheme or the data they were derived for changed. Params the user named (typed, a
// link's or an options attribute's, the seed note's) stay as they are. DOM-free.
import { givenParamsFit } from './rules.js';
import { perTensorRequest } from './request.js';
import { f32 } from './format.js';

// A float32 as the shortest decimal that reads back to it (what a user would type).
const shortest = (v) => Number(f32(v).replace('−', '-'));

export class GivenParams {
  constructor(fromUser = false) {
    this.fromUser = fromUser;
    this.stale = false;      // derive before the next run (the user switched to given params)
    this.derivedFrom = null; // {key, data}: the request and data the page's values came from
  }

  // The settings switched to given params: start them from the data unless the user named them.
  switchedTo() {
    if (!this.fromUser) this.stale = true;
  }

  // The worker's tensorParams request when the page should derive the given params of setting
  // `s` on `data` before a run, else null. paramsFile: given params come from a file instead;
  // range: the core's {qmin, qmax} for the setting (null when it refuses it).
  wanted(s, data, paramsFile, range) {
    if (s.params !== 'given' || paramsFile || this.fromUser) return null;
    const request = perTensorRequest(s, data);
    const key = JSON.stringify(request);
    const from = this.derivedFrom;
    const changed = from && (from.key !== key || from.data !== data);
    return this.stale || changed || !givenParamsFit(s, range) ? { request, key, data } : null;
  }

  // The settings with the derived params from the worker's reply ({scale, zeroPoint}).
  apply(s, wanted, reply) {
    this.stale = false;
    this.derivedFrom = { key: wanted.key, data: wanted.data };
    return { ...s, scale: shortest(reply.scale), zeroPoint: shortest(reply.zeroPoint) };
  }
}
