// Reading (and surgically editing) ONNX ModelProto bytes at the protobuf wire level.
//
// Why not decode the whole model with a generated ONNX schema: the npm schema (onnx-proto) is ONNX 1.10, and
// protobufjs drops fields its schema does not know when re-encoding, so a rewritten model could silently lose
// newer fields; decoding also copies every initializer. Here protobufjs does the wire format, we read only the
// fields we need, skip initializers without copying, and re-emit every untouched field byte for byte.
// (Measured by bench/onnx-decode.ts.)
import protobuf from 'protobufjs';

const { Reader, Writer } = protobuf;

export interface WireField {
  no: number;
  wireType: number;
  /** The whole field (tag included) inside the parent buffer. */
  start: number;
  end: number;
  /** Varint value, or the payload of a length-delimited field. */
  varint?: number;
  bytes?: Uint8Array;
  /** 32-bit float payload (wire type 5). */
  f32?: number;
}

// The top-level fields of one message, in order; with `only`, just those field numbers (the others are
// skipped without making objects: a tree ensemble's attributes hold millions of unpacked values).
export function fields(buf: Uint8Array, only?: ReadonlySet<number>): WireField[] {
  const r = Reader.create(buf);
  const out: WireField[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (only && !only.has(no)) {
      r.skipType(wireType);
      continue;
    }
    const f: WireField = { no, wireType, start, end: start };
    if (wireType === 0) f.varint = Number(r.int64().toString());
    else if (wireType === 2) {
      const len = r.uint32();
      f.bytes = buf.subarray(r.pos, r.pos + len);
      r.skip(len);
    } else if (wireType === 5) f.f32 = r.float();
    else r.skipType(wireType);
    f.end = r.pos;
    out.push(f);
  }
  return out;
}

const decoder = new TextDecoder();

// The payload of field `no` as UTF-8 text (first occurrence), or undefined.
export function str(fs: WireField[], no: number): string | undefined {
  const f = fs.find((x) => x.no === no && x.bytes);
  return f?.bytes ? decoder.decode(f.bytes) : undefined;
}

// All occurrences of a string field.
export function strs(fs: WireField[], no: number): string[] {
  return fs.filter((x) => x.no === no && x.bytes).map((x) => decoder.decode(x.bytes as Uint8Array));
}

// A varint field (first occurrence), or undefined.
export function int(fs: WireField[], no: number): number | undefined {
  return fs.find((x) => x.no === no && x.varint !== undefined)?.varint;
}

// A repeated int64 field, packed or not.
export function ints(fs: WireField[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs) {
    if (f.no !== no) continue;
    if (f.varint !== undefined) out.push(f.varint);
    else if (f.bytes) {
      const r = Reader.create(f.bytes);
      while (r.pos < r.len) out.push(Number(r.int64().toString()));
    }
  }
  return out;
}

// Submessages of field `no`.
export function messages(fs: WireField[], no: number): Uint8Array[] {
  return fs.filter((x) => x.no === no && x.bytes).map((x) => x.bytes as Uint8Array);
}

// Re-emit a message with some fields replaced: `replace(field)` returns new field bytes, null to drop the
// field, or undefined to keep its original bytes.
export function rewrite(buf: Uint8Array, replace: (f: WireField) => Uint8Array | null | undefined): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields(buf)) {
    const r = replace(f);
    if (r === undefined) parts.push(buf.subarray(f.start, f.end));
    else if (r !== null) parts.push(r);
  }
  return concat(parts);
}

// A length-delimited field: tag + length + payload.
export function lengthDelimited(no: number, payload: Uint8Array): Uint8Array {
  const w = Writer.create();
  w.uint32((no << 3) | 2).bytes(payload);
  return w.finish();
}

// A string field.
export function stringField(no: number, value: string): Uint8Array {
  return lengthDelimited(no, new TextEncoder().encode(value));
}

// A varint field.
export function varintField(no: number, value: number): Uint8Array {
  const w = Writer.create();
  w.uint32(no << 3).int64(value);
  return w.finish();
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
