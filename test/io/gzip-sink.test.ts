import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gzipSink } from '../../src/io/gzip-sink.js';
import { fileSink } from '../support/sinks.js';

describe('gzip sink', () => {
  it('writes gzip that decompresses to what was written; nothing is visible before commit', async () => {
    const { sink, file, bytes } = await fileSink('out.csv.gz');
    const gz = gzipSink(sink);
    const text = 'a,b\n' + '1,2\n'.repeat(100_000);
    for (let i = 0; i < text.length; i += 70_000) await gz.write(text.slice(i, i + 70_000));
    expect(existsSync(file)).toBe(false);
    await gz.commit();
    expect(gunzipSync(bytes()).toString()).toBe(text);
  });

  it('an empty result is still valid gzip (of nothing)', async () => {
    const { sink, bytes } = await fileSink('empty.jsonl.gz');
    await gzipSink(sink).commit();
    expect(gunzipSync(bytes()).length).toBe(0);
  });

  it('rolls back to a mark at a member boundary, for any writes and failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(fc.string(), { maxLength: 3 }), fc.boolean()), { maxLength: 5 }), async (inputs) => {
        const { sink, bytes } = await fileSink('combined.csv.gz');
        const gz = gzipSink(sink);
        let kept = '';
        for (const [writes, fails] of inputs) {
          const m = await gz.mark();
          for (const w of writes) await gz.write(w);
          if (fails) expect(await gz.rollback(m)).toBe(true);
          else kept += writes.join('');
        }
        await gz.commit();
        expect(gunzipSync(bytes()).toString()).toBe(kept);
      }),
      { numRuns: 60 },
    );
  });

  it('abort leaves no file', async () => {
    const { sink, file } = await fileSink('gone.csv.gz');
    const gz = gzipSink(sink);
    await gz.write('x\n');
    await gz.abort();
    expect(existsSync(file)).toBe(false);
  });
});
