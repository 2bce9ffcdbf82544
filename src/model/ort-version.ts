// The onnxruntime-node version, for run records, read from its package.json: the scheduler and `merge` name
// it without loading the native runtime.
import { createRequire } from 'node:module';

export const ORT_VERSION: string = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version?: string }).version ?? 'unknown';
