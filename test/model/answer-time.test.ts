// A model call's time limit (validate's answerMs) counts from when the model thread takes the call up, not
// from when it was asked for: the thread serves one request at a time, and a call asked for while another
// runs waits behind it. Real sessions of the loop_steps fixture (y = x, after max(x) steps of a Loop).
import { expect, it } from 'vitest';
import { loadModel } from '../../src/model/session.js';
import { model } from '../support/cli.js';

const feeds = (x: number) => [{ input: 'input', type: 'float32' as const, data: Float32Array.from({ length: 2048 }, () => x), dims: [2048, 1] }];

it('two calls asked for at once, each within the limit, both answer: the second is not timed while it waits', async () => {
  // Steps for a call of at least 300 ms on this machine, and how long it took.
  const probe = await loadModel(model('loop_steps'));
  const spec = { fetch: probe.outputs.map((o) => o.name) };
  let x = 1000;
  let took: number;
  for (;;) {
    const t = performance.now();
    await probe.thread.score(feeds(x), 2048, spec);
    took = performance.now() - t;
    if (took > 300) break;
    x *= 2;
  }
  await probe.close();
  // Each call fits the limit with room to spare; two back to back do not.
  const m = await loadModel(model('loop_steps'), { bounds: { answerMs: Math.round(1.8 * took) } });
  const calls = await Promise.allSettled([m.thread.score(feeds(x), 2048, spec), m.thread.score(feeds(x), 2048, spec)]);
  expect(calls.map((c) => c.status)).toEqual(['fulfilled', 'fulfilled']);
  await m.close();
}, 60_000);
