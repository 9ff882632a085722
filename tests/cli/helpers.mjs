// What the CLI suites share: the CLI under test, numpy scripts through /usr/bin/python3 and runs
// of the CLI that return the child's status and output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
export const python = '/usr/bin/python3';

// Runs a numpy script with argv[1..]; its stdout (a failing script fails the test with its stderr).
export function py(script, ...args) {
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  return r.stdout;
}

export function qplay(...args) {
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}
