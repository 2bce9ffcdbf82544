// Real atomic files in a temporary directory, for writer tests that need mark/rollback.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openAtomic } from '../../src/storage/local/file-sink.js';
import type { ByteSink } from '../../src/storage/sink.js';
import { tempDir } from './temp-dir.js';

export async function fileSink(name: string): Promise<{ sink: ByteSink; file: string; bytes: () => Buffer; text: () => string }> {
  const file = path.join(tempDir(), name);
  const sink = await openAtomic(file);
  return { sink, file, bytes: () => readFileSync(file), text: () => readFileSync(file, 'utf8') };
}
