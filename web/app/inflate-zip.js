// The wasm build has no zlib (Emscripten's ports are unavailable here), so an .npz written by
// np.savez_compressed, whose members are deflated, cannot be read by the core directly. The browser
// has an inflater: this rewrites such a zip with every member stored, using the platform's
// DecompressionStream('deflate-raw'), and the core then opens the rewritten bytes. CRC-32 values
// are of the uncompressed data, so they carry over unchanged. Zip64 archives are left alone.

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

function findEndOfCentralDirectory(view) {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
  const stop = Math.max(0, view.byteLength - 22 - 65535);
  for (let p = view.byteLength - 22; p >= stop; p--) {
    if (view.getUint32(p, true) === EOCD) return p;
  }
  return -1;
}

async function inflateRaw(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Returns the rewritten archive, or null when there is nothing to do (or it is not a plain zip).
export async function storeZipMembers(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  if (eocd < 0) return null;
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  if (count === 0xffff || p === 0xffffffff) return null;  // zip64
  const entries = [];
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) return null;
    const method = view.getUint16(p + 10, true);
    const time = view.getUint16(p + 12, true);
    const date = view.getUint16(p + 14, true);
    const crc = view.getUint32(p + 16, true);
    const csize = view.getUint32(p + 20, true);
    const usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    if (csize === 0xffffffff || usize === 0xffffffff || local === 0xffffffff) return null;
    const name = bytes.subarray(p + 46, p + 46 + nameLen);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) return null;
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + csize);
    entries.push({ method, time, date, crc, usize, name, raw });
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (!entries.some((e) => e.method === DEFLATED)) return null;
  if (entries.some((e) => e.method !== DEFLATED && e.method !== STORED)) return null;
  for (const e of entries) {
    e.data = e.method === DEFLATED ? await inflateRaw(e.raw) : e.raw;
    if (e.data.length !== e.usize) throw new Error(`zip member ${new TextDecoder().decode(e.name)} inflates to ${e.data.length} bytes, not ${e.usize}`);
  }
  const size = entries.reduce((n, e) => n + 30 + e.name.length + e.data.length + 46 + e.name.length, 22);
  const out = new Uint8Array(size);
  const w = new DataView(out.buffer);
  let q = 0;
  const offsets = [];
  for (const e of entries) {
    offsets.push(q);
    w.setUint32(q, LOCAL, true);
    w.setUint16(q + 4, 20, true);          // version needed: 2.0
    w.setUint16(q + 6, 0, true);           // flags: no data descriptor
    w.setUint16(q + 8, STORED, true);
    w.setUint16(q + 10, e.time, true);
    w.setUint16(q + 12, e.date, true);
    w.setUint32(q + 14, e.crc, true);
    w.setUint32(q + 18, e.data.length, true);
    w.setUint32(q + 22, e.data.length, true);
    w.setUint16(q + 26, e.name.length, true);
    w.setUint16(q + 28, 0, true);
    out.set(e.name, q + 30);
    out.set(e.data, q + 30 + e.name.length);
    q += 30 + e.name.length + e.data.length;
  }
  const central = q;
  entries.forEach((e, k) => {
    w.setUint32(q, CENTRAL, true);
    w.setUint16(q + 4, 20, true);          // version made by
    w.setUint16(q + 6, 20, true);          // version needed
    w.setUint16(q + 8, 0, true);
    w.setUint16(q + 10, STORED, true);
    w.setUint16(q + 12, e.time, true);
    w.setUint16(q + 14, e.date, true);
    w.setUint32(q + 16, e.crc, true);
    w.setUint32(q + 20, e.data.length, true);
    w.setUint32(q + 24, e.data.length, true);
    w.setUint16(q + 28, e.name.length, true);
    // extra, comment, disk, internal and external attributes: zero (bytes already zero)
    w.setUint32(q + 42, offsets[k], true);
    out.set(e.name, q + 46);
    q += 46 + e.name.length;
  });
  w.setUint32(q, EOCD, true);
  w.setUint16(q + 8, entries.length, true);
  w.setUint16(q + 10, entries.length, true);
  w.setUint32(q + 12, q - central, true);
  w.setUint32(q + 16, central, true);
  return out;
}
