// The core's answers the page draws from. When the worker starts, it reads the catalog (the option
// table's and the format registry's rows, Qplay#catalog) and asks Qplay#describe about every scheme
// the pickers can offer: each dtype / format alone (its effective options say which options apply
// to it), with each profile, each rounding rule, given params, each granularity, and --pack. The
// answers are cached by the options' JSON, so app/rules.js reads them synchronously; it decides
// nothing the core has not said.
// DOM-free: the worker builds the tables (buildCoreTables), the page installs them (installCore).

let catalog = null;
let integerWidths = [];
const answers = new Map();  // JSON of an options object -> a description, or null when refused

// The API options of a page dtype: ggml block formats live in the dtype field as 'ggml:q4_k' and go
// to the core as {format: 'q4_k'}.
export function schemeOptions(dtype, extra = {}) {
  const base = typeof dtype === 'string' && dtype.startsWith('ggml:') ? { format: dtype.slice(5) } : { dtype };
  return { ...base, ...extra };
}

const keyOf = (options) => JSON.stringify(options);

// The page's value of a registry row: --format rows are 'ggml:NAME'.
export function rowDtype(row) {
  return row.option === '--format' ? `ggml:${row.name}` : row.name;
}

// The choices of an option row without their ":ARG" part ('percentile:P' -> 'percentile').
export function choiceNames(key) {
  const row = optionRow(key);
  return row ? row.choices.map((c) => c.split(':')[0]) : [];
}

// A choice with its placeholder argument filled in, as a probe sends it ('stochastic:SEED' ->
// 'stochastic:0').
export function sampleChoice(choice) {
  const [name, arg] = choice.split(':');
  return arg === undefined ? name : `${name}:0`;
}

// A granularity as a probe gives it: groups and blocks need a size, any size does for describe().
export function granularityProbe(g) {
  if (g === 'group') return { granularity: g, groupSize: 32 };
  if (g === 'block') return { granularity: g, blockSize: 32 };
  return { granularity: g };
}

// The widths intN / uintN are probed (N = 1..16): the registry has two parametric rows for them.
const WIDTH_CANDIDATES = Array.from({ length: 16 }, (_, k) => k + 1);

// Every option set the page asks about, for the dtypes the core accepts alone (`alone`: dtype ->
// its description).
function probesOf(cat, alone) {
  const dtypes = [...alone.keys()];
  const rows = Object.fromEntries(cat.options.map((o) => [o.key, o]));
  const choices = (key) => rows[key]?.choices ?? [];
  const bitsRow = rows.bits;
  const packSample = choices('pack')[0];
  const out = [];
  for (const p of choices('profile')) out.push({ profile: p });
  for (const d of dtypes) {
    for (const p of choices('profile')) out.push(schemeOptions(d, { profile: p }));
    for (const r of choices('rounding')) out.push(schemeOptions(d, { rounding: sampleChoice(r) }));
    for (const g of choices('granularity')) out.push(schemeOptions(d, granularityProbe(g)));
    out.push(schemeOptions(d, { scale: 1 }));
    out.push(schemeOptions(d, { pack: packSample }));
    // The code width of pow2 and k-means is the run's: --pack depends on it.
    if (bitsRow && 'bits' in alone.get(d).effective) {
      for (let b = bitsRow.min; b <= bitsRow.max; b++) out.push(schemeOptions(d, { bits: b, pack: packSample }));
    }
  }
  return out;
}

// Run in the worker: the catalog and the answers to every probe (`qp` is a Qplay). The result is
// plain data for postMessage. Levels are kept only for a scheme alone (the rest never reads them).
export function buildCoreTables(qp) {
  const cat = qp.catalog();
  const found = [];
  const ask = (options, keepLevels = false) => {
    let d = null;
    try {
      d = qp.describe(options);
      if (!keepLevels) delete d.levels;
    } catch {
      d = null;
    }
    found.push([keyOf(options), d]);
    return d;
  };
  const alone = new Map();
  const widths = WIDTH_CANDIDATES.filter((n) => {
    const signed = ask({ dtype: `int${n}` }, true);
    const unsigned = ask({ dtype: `uint${n}` }, true);
    if (!signed || !unsigned) return false;
    alone.set(`int${n}`, signed).set(`uint${n}`, unsigned);
    return true;
  });
  for (const row of cat.formats) {
    if (row.family === 'integer') continue;
    const d = rowDtype(row);
    const description = ask(schemeOptions(d), true);
    if (description) alone.set(d, description);
  }
  for (const options of probesOf(cat, alone)) ask(options);
  return { catalog: cat, integerWidths: widths, answers: found };
}

// On the page: the tables the worker built.
export function installCore(tables) {
  catalog = tables.catalog;
  integerWidths = tables.integerWidths;
  answers.clear();
  for (const [key, d] of tables.answers) answers.set(key, d);
}

// On the page: asks the worker (an app/engine.js Engine) for the tables once per page; every
// playground on it shares them. If another element's request fails (its worker was cancelled
// when it left the page), this element asks its own worker.
let loading = null;
export function loadCore(engine) {
  if (catalog) return Promise.resolve();
  if (loading) return loading.catch(() => loadCore(engine));
  loading = engine.request('coreTables').then((reply) => installCore(reply.tables), (err) => {
    loading = null;
    throw err;
  });
  return loading;
}

export function coreCatalog() {
  if (!catalog) throw new Error('the core\'s tables are not loaded yet (the worker has not started)');
  return catalog;
}

export function optionRow(key) {
  return coreCatalog().options.find((o) => o.key === key) ?? null;
}

// The registry rows other than the integer ones, in registry order.
export function formatRows() {
  return coreCatalog().formats.filter((f) => f.family !== 'integer');
}

// The row of a page dtype ('nf4', 'ggml:q4_k'); null for integer dtypes and unknown names.
export function formatRow(dtype) {
  return formatRows().find((f) => rowDtype(f) === dtype) ?? null;
}

// The integer code widths N for which intN and uintN exist.
export function integerBits() {
  return integerWidths;
}

// What describe() said about these options: its description, or null when the core refuses them.
// Asking about an option set no probe covered is a bug in the page, reported as such.
export function described(options) {
  const key = keyOf(options);
  if (!answers.has(key)) throw new Error(`the page asked the core nothing about ${key}`);
  return answers.get(key);
}

// ---- the current setting ------------------------------------------------------------------------

const current = new Map();  // JSON of options -> Promise of a description, or null when refused
const CURRENT_KEPT = 64;

// describe() of the options a run would send, through the worker (`engine.request`), cached by
// the options' JSON: what the setting amounts to (code range, effective options) before a run.
export function describeCurrent(engine, options) {
  const key = keyOf(options);
  if (!current.has(key)) {
    if (current.size >= CURRENT_KEPT) current.delete(current.keys().next().value);
    // A refusal (or a cancelled worker) is not kept: asking again is cheap.
    const answer = engine.request('describeOptions', { options }).then((reply) => reply.description, () => {
      current.delete(key);
      return null;
    });
    current.set(key, answer);
  }
  return current.get(key);
}
