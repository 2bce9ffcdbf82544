// The local backend: paths on this machine's file systems, and '-' for standard input and output.
import { stat } from 'node:fs/promises';
import type { Backend } from '../backends.js';
import { localSource } from './file-source.js';
import { openAtomic, removeResult, stdoutSink } from './file-sink.js';
import { listLocal } from './list.js';

export const localBackend: Backend = {
  scheme: '',
  source: localSource,
  sink: async (url, o) => (url === '-' ? stdoutSink(o.signal) : openAtomic(url, o)),
  remove: removeResult,
  exists: (url) =>
    stat(url).then(
      (s) => s.isFile(),
      () => false,
    ),
  list: listLocal,
};
