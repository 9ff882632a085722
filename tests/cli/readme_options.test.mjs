// README's option table and `qplay --help` are both generated from the core's option table
// (core/src/request.cpp); request_test.cpp checks README's copy against the generator. Here: the
// help the CLI prints names exactly the options of README's table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { qplay, repo } from './helpers.mjs';

function readmeFlags() {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- options:');
  const end = readme.indexOf('<!-- /options -->');
  assert.ok(start >= 0 && end > start, 'README has the generated option table between its markers');
  const flags = new Set();
  for (const line of readme.slice(start, end).split('\n')) {
    const cell = /^\| `([^`]+)`/.exec(line);
    if (cell) for (const f of cell[1].match(/--[a-z][a-z0-9-]*|-o\b/g) ?? []) flags.add(f);
  }
  return flags;
}

function helpFlags() {
  const r = qplay('--help');
  assert.equal(r.status, 0);
  const flags = new Set();
  // Option lines start with two spaces and the flag ("  --dtype T", "  -o, --output OUT").
  for (const line of r.stdout.split('\n')) {
    const m = /^ {2}(-[^ ].*?)(?: {2,}|$)/.exec(line);
    if (m) for (const f of m[1].match(/--[a-z][a-z0-9-]*|-o\b/g) ?? []) flags.add(f);
  }
  return flags;
}

test('--help lists every option of README\'s table, and no other', () => {
  const readme = readmeFlags();
  const help = helpFlags();
  for (const f of ['--dtype', '--format', '--block-size', '--no-saturate', '--calibrate', '--override', '--raw-endian', '-o'])
    assert.ok(readme.has(f), `README's table names ${f}`);
  assert.deepEqual([...help].sort(), [...readme].sort());
});
