// Where a file produced in chunks goes. With the File System Access API (showSaveFilePicker +
// createWritable, Chromium) each chunk is written to the chosen file as it arrives, so the page
// never holds the output; elsewhere the chunks are kept as Blob parts (browsers may page large
// Blobs to disk) and downloaded as one file when the last chunk is in.

export function canStream() {
  return typeof globalThis.showSaveFilePicker === 'function';
}

// Triggers a download of bytes or a Blob under `name`.
export function downloadBlob(data, name, type = 'application/octet-stream') {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started reading the Blob by the time the click returns; a delay is still
  // needed before revoking (Chromium reads it asynchronously).
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Opens a sink for `name`. `stream`: ask for a file to write into (must be called from a user
// gesture, before any await, because the picker needs one). Resolves to null when the user closes
// the picker. A sink has writeAt(offset, bytes) (chunks in any order; awaited), close() (resolves
// to the Blob for a Blob sink) and abort(), and `kind` ('file' or 'blob') and `written` (bytes).
export async function openSink(name, { stream = canStream(), type = 'application/octet-stream', description = name } = {}) {
  if (stream && canStream()) {
    const ext = /\.[^.]+$/.exec(name)?.[0] ?? '';
    let handle;
    try {
      handle = await globalThis.showSaveFilePicker({
        suggestedName: name,
        types: ext ? [{ description, accept: { [type]: [ext] } }] : undefined,
      });
    } catch (err) {
      if (err?.name === 'AbortError') return null;  // the user closed the picker
      throw err;
    }
    const writable = await handle.createWritable();
    const sink = {
      kind: 'file',
      name: handle.name,
      written: 0,
      // A positioned write: chunks go to disk as they come, whatever their order.
      async writeAt(offset, bytes) {
        await writable.write({ type: 'write', position: offset, data: bytes });
        sink.written += bytes.byteLength;
      },
      close: () => writable.close(),
      abort: () => writable.abort().catch(() => {}),
    };
    return sink;
  }
  let parts = [];
  const sink = {
    kind: 'blob',
    name,
    written: 0,
    async writeAt(offset, bytes) {
      parts.push({ offset, bytes });
      sink.written += bytes.byteLength;
    },
    async close() {
      parts.sort((a, b) => a.offset - b.offset);
      const blob = new Blob(parts.map((p) => p.bytes), { type });
      parts = [];
      downloadBlob(blob, name, type);
      return blob;
    },
    async abort() {
      parts = [];
    },
  };
  return sink;
}
