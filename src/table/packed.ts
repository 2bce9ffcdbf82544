// Text columns packed as UTF-8 bytes plus offsets: how passthrough cells travel from the reader thread to
// the writer. Moving two buffers costs nothing, while a million strings cloned between threads pile up as
// garbage in the model thread and inflate its memory.

export interface PackedText {
  bytes: Uint8Array;
  /** rows + 1 offsets into bytes: cell i is bytes[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
}

// Pack strings (in the given row order when `keep` is set).
export function packTexts(values: string[], keep?: Uint32Array): PackedText {
  const n = keep ? keep.length : values.length;
  let size = 0;
  for (let i = 0; i < n; i++) size += values[keep ? keep[i] : i].length * 3;
  const bytes = Buffer.allocUnsafeSlow(size);
  const offsets = new Uint32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    pos += bytes.write(values[keep ? keep[i] : i], pos, 'utf8');
    offsets[i + 1] = pos;
  }
  return { bytes: bytes.subarray(0, pos), offsets };
}

// Packed cells copied (the source may be reused), the rows in `keep` when it is set.
export function selectPacked(p: PackedText, keep?: Uint32Array): PackedText {
  // Buffers of their own (not Node's shared pool): they are transferred to the model thread.
  if (!keep) {
    const bytes = Buffer.allocUnsafeSlow(p.bytes.length);
    bytes.set(p.bytes);
    return { bytes, offsets: p.offsets.slice() };
  }
  const offsets = new Uint32Array(keep.length + 1);
  let size = 0;
  for (let i = 0; i < keep.length; i++) size += p.offsets[keep[i] + 1] - p.offsets[keep[i]];
  const bytes = Buffer.allocUnsafeSlow(size);
  let pos = 0;
  for (let i = 0; i < keep.length; i++) {
    const a = p.offsets[keep[i]];
    const b = p.offsets[keep[i] + 1];
    bytes.set(p.bytes.subarray(a, b), pos);
    pos += b - a;
    offsets[i + 1] = pos;
  }
  return { bytes, offsets };
}

// Cell i as a string.
export function unpackText(p: PackedText, i: number): string {
  return Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength).toString('utf8', p.offsets[i], p.offsets[i + 1]);
}
