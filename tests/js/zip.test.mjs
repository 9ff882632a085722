// Deflated .npz through the JS API: the core lists the members (zipMembers, with its guards), the
// platform inflates them (inflate), and open({inflated}) gives the same tensors and bundles as the
// native CLI, which inflates with zlib.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { fixture, qplay, readZip, requireBuilds, runCli } from './helpers.mjs';

before(requireBuilds);

const DEFLATED = 'multi_deflated.npz';

test('zipMembers lists what the archive holds without inflating it', async () => {
  const qp = await qplay();
  const bytes = fixture(DEFLATED);
  const members = qp.zipMembers(bytes);
  assert.deepEqual(members.map((m) => m.name), ['weight.npy', 'bias.npy']);
  for (const m of members) {
    assert.equal(m.method, 8, m.name);
    assert.ok(m.offset > 0 && m.offset + m.compressedSize <= bytes.length, m.name);
    assert.ok(m.size > 0 && Number.isInteger(m.crc), m.name);
  }
  // A stored archive: method 0, and its members' bytes lie at offset as they are.
  const stored = fixture('multi.npz');
  const plain = readZip(stored);
  for (const m of qp.zipMembers(stored)) {
    assert.equal(m.method, 0);
    const want = plain.find((p) => p.name === m.name).data;
    assert.deepEqual(stored.subarray(m.offset, m.offset + m.size), want, m.name);
  }
});

test('a deflated .npz opens with its inflated members and matches the CLI', async () => {
  const qp = await qplay();
  const bytes = fixture(DEFLATED);
  const inflated = await qp.inflate(bytes);
  assert.deepEqual(inflated.map((m) => m.name), ['weight.npy', 'bias.npy']);
  const { tensors } = qp.open(bytes, { fileName: DEFLATED, inflated });
  assert.deepEqual(tensors.map((t) => [t.name, t.dtype, Array.from(t.shape, Number)]),
    [['weight', 'float32', [4, 6]], ['bias', 'float32', [6]]]);
  for (const args of [['--tensor', 'weight', '--dtype', 'uint8'], ['--tensor', 'bias'],
    ['--tensor', 'weight', '--granularity', 'channel', '--mode', 'symmetric']]) {
    const cli = runCli(DEFLATED, args);
    assert.ok(cli.bytes, cli.error);
    const options = { fileName: DEFLATED, tensor: args[1] };
    for (let i = 2; i < args.length; i += 2) options[args[i].slice(2)] = args[i + 1];
    const api = qp.export(qp.quantize(undefined, options), 'npz');
    assert.deepEqual(readZip(api).map((m) => m.name), readZip(cli.bytes).map((m) => m.name), args.join(' '));
    assert.ok(Buffer.from(api).equals(Buffer.from(cli.bytes)), `bundle of ${args.join(' ')} differs from the CLI's`);
  }
  qp.close();
});

test('without inflated members a deflated .npz is still an error naming the member', async () => {
  const qp = await qplay();
  assert.throws(() => qp.open(fixture(DEFLATED), DEFLATED), /^Error: multi_deflated\.npz: .*weight\.npy.*deflated|deflated.*weight\.npy/);
});

test('inflated members are checked by the core: size and CRC-32', async () => {
  const qp = await qplay();
  const bytes = fixture(DEFLATED);
  const inflated = await qp.inflate(bytes);
  const flipped = inflated.map((m) => ({ name: m.name, bytes: m.bytes.slice() }));
  flipped[0].bytes[flipped[0].bytes.length - 1] ^= 1;
  assert.throws(() => qp.open(bytes, { fileName: DEFLATED, inflated: flipped }), /^Error: multi_deflated\.npz: .*(CRC|crc)/);
  const short = [{ name: inflated[0].name, bytes: inflated[0].bytes.subarray(1) }, inflated[1]];
  assert.throws(() => qp.open(bytes, { fileName: DEFLATED, inflated: short }), /^Error: multi_deflated\.npz: /);
  assert.throws(() => qp.open(bytes, { inflated: 'weight.npy' }), /inflated must be an array/);
  assert.throws(() => qp.open(bytes, { inflated: [{ name: 'weight.npy' }] }), /must be \{name: a string, bytes: a Uint8Array\}/);
});

test('the core\'s zip guards run before anything is inflated, with the CLI\'s message', async () => {
  const qp = await qplay();
  for (const name of ['bomb_ratio.npz', 'truncated.npz']) {
    const cli = runCli(name, []);
    assert.ok(cli.error, `${name}: the CLI accepted it`);
    await assert.rejects(qp.inflate(fixture(name), name), (err) => {
      assert.equal(err.message, cli.error, name);
      return true;
    });
  }
  // Files that are not zips have nothing to inflate.
  assert.deepEqual(await qp.inflate(fixture('mat4x6_f32.npy')), []);
  assert.deepEqual(await qp.inflate(fixture('multi.npz')), []);
});
