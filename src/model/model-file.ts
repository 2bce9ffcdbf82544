// Reading a model from disk: the .onnx file, and the files it keeps tensors in ("external data", what
// exporters write for models above protobuf's 2 GB). Only regular files on a disk are read, and only as many
// bytes as their size: a FIFO or a device (`/dev/zero`) would never end, nor would /proc/self/pagemap (a
// "regular" file of size 0 whose reads go on for gigabytes), and a model is a file.
import { constants, type Stats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SbError } from '../errors.js';
import { pseudoFs } from '../util/pseudo-fs.js';
import { fields, messages, str, type WireField } from './onnx-wire.js';
import type { ExternalFile } from './model-worker.js';

/** TensorProto.DataLocation EXTERNAL. */
const EXTERNAL = 1;
/** TensorProto fields: name, external_data, data_location (its values, field 9, are skipped unread). */
const TENSOR_FIELDS = new Set([8, 13, 14]);
/** GraphProto: node, initializer, sparse_initializer. */
const GRAPH_FIELDS = new Set([1, 5, 15]);
/** NodeProto: attribute. */
const NODE_FIELDS = new Set([5]);
/** AttributeProto: t, g, tensors, graphs, sparse_tensor, sparse_tensors (the lists of numbers are skipped). */
const ATTRIBUTE_FIELDS = new Set([5, 6, 10, 11, 22, 23]);

// What kind of thing a path is, for a message.
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

// The bytes of a regular file. Opened without blocking (a FIFO with no writer would block the open itself),
// then checked with fstat, so what is read is what was checked. `missing`/`unusable` make the errors.
async function readRegularFile(file: string, missing: () => SbError, unusable: (why: string) => SbError): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
    throw unusable((err as Error).message);
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw unusable(`it is ${kindOf(s)}, not a file`);
    const fs = await pseudoFs(file);
    if (fs) throw unusable(`it is on ${fs}, whose files are kernel interfaces, not stored files`);
    if (s.size === 0) throw unusable('it is empty');
    return await readExactly(fh, s.size);
  } catch (err) {
    if (err instanceof SbError) throw err;
    throw unusable((err as Error).message);
  } finally {
    await fh.close();
  }
}

// The first `size` bytes of an open file: a regular file's stat size, never more, so that a file whose reads do
// not end where its size says (one the checks above let through) cannot fill memory.
async function readExactly(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await fh.read(buf, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === size ? buf : buf.subarray(0, at);
}

// The model file's bytes. PATH_NOT_FOUND or MODEL_INVALID (exit 2) naming the file.
export function readModelBytes(file: string): Promise<Buffer> {
  return readRegularFile(
    file,
    () => new SbError('PATH_NOT_FOUND', `model file not found: ${file}`, { yamlPath: 'model' }),
    (why) => new SbError('MODEL_INVALID', `cannot read model ${file}: ${why}; give the path of an .onnx file`, { yamlPath: 'model' }),
  );
}

/** A tensor whose values are in another file, by the location the model gives. */
interface ExternalRef {
  tensor: string;
  location: string;
}

// Every tensor of the model whose values live in another file: initializers and constant attributes, in
// the main graph, its subgraphs (Loop and If bodies) and its functions.
export function externalRefs(model: Uint8Array): ExternalRef[] {
  const refs: ExternalRef[] = [];
  const tensor = (bytes: Uint8Array) => {
    const f = fields(bytes, TENSOR_FIELDS);
    if (f.find((x) => x.no === 14)?.varint !== EXTERNAL) return;
    const entries = messages(f, 13).map((e) => fields(e));
    const location = entries.find((e) => str(e, 1) === 'location');
    refs.push({ tensor: str(f, 8) ?? '', location: location ? (str(location, 2) ?? '') : '' });
  };
  const sparse = (bytes: Uint8Array) => {
    const f = fields(bytes);
    [...messages(f, 1), ...messages(f, 2)].forEach(tensor);
  };
  const node = (bytes: Uint8Array) => {
    for (const a of messages(fields(bytes, NODE_FIELDS), 5)) {
      const f = fields(a, ATTRIBUTE_FIELDS);
      for (const t of [...messages(f, 5), ...messages(f, 10)]) tensor(t);
      for (const g of [...messages(f, 6), ...messages(f, 11)]) graph(g);
      for (const s of [...messages(f, 22), ...messages(f, 23)]) sparse(s);
    }
  };
  const graph = (bytes: Uint8Array) => {
    const f: WireField[] = fields(bytes, GRAPH_FIELDS);
    messages(f, 1).forEach(node);
    messages(f, 5).forEach(tensor);
    messages(f, 15).forEach(sparse);
  };
  const m = fields(model, new Set([7, 25]));
  messages(m, 7).forEach(graph);
  for (const fn of messages(m, 25)) messages(fields(fn, new Set([7])), 7).forEach(node);
  return refs;
}

// Whether `p` is below the folder `dir` (not the folder itself).
function within(dir: string, p: string): boolean {
  const inside = path.relative(dir, p);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${path.sep}`) && !path.isAbsolute(inside);
}

// The files the model keeps tensors in, read from the model's folder. A location that leaves that folder
// (absolute, through `..`, or through a symbolic link) is refused: a model file must not make serve-batch read
// elsewhere.
export async function readExternalData(file: string, model: Uint8Array): Promise<ExternalFile[]> {
  const dir = path.dirname(file);
  const out: ExternalFile[] = [];
  for (const ref of externalRefs(model)) {
    if (out.some((f) => f.path === ref.location)) continue;
    const where = `${file}: tensor '${ref.tensor}' keeps its values in ${ref.location === '' ? 'a file it does not name' : `'${ref.location}'`}`;
    const target = path.resolve(dir, ref.location);
    const outside = () => new SbError('MODEL_INVALID', `${where}, outside the model's folder; serve-batch reads such files only from the model's folder and below: save the model with its data file beside it (a relative location such as 'model.onnx.data')`, { yamlPath: 'model' });
    if (ref.location === '' || path.isAbsolute(ref.location) || !within(dir, target)) throw outside();
    // The name stays inside; a symbolic link on the way (the file, or a folder `sub -> ../elsewhere`) must too.
    const real = await realpath(target).catch(() => undefined);
    if (real !== undefined && !within(await realpath(dir), real)) {
      throw new SbError('MODEL_INVALID', `${where}, a symbolic link to ${real}, outside the model's folder; serve-batch reads such files only from the model's folder and below: copy the data file beside the model`, { yamlPath: 'model' });
    }
    const data = await readRegularFile(
      target,
      () => new SbError('PATH_NOT_FOUND', `${where}, which is not there (${target}); copy it beside the model`, { yamlPath: 'model' }),
      (why) => new SbError('MODEL_INVALID', `${where}, which cannot be read (${target}): ${why}`, { yamlPath: 'model' }),
    );
    out.push({ path: ref.location, data });
  }
  return out;
}
