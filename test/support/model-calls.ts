// Notes the scoring calls that model threads are asked for, in order: which thread, on how many rows. The
// calls themselves go through unchanged.
import type { ModelThread } from '../../src/model/model-thread.js';

export interface NotedCall {
  thread: ModelThread;
  rows: number;
}

// A function that makes `thread` note its calls into `calls` (and returns it, to chain on a loading copy).
export function noteCalls(calls: NotedCall[]): (thread: ModelThread) => ModelThread {
  return (thread) => {
    const score = thread.score.bind(thread);
    thread.score = (feeds, rows, ...rest) => {
      calls.push({ thread, rows });
      return score(feeds, rows, ...rest);
    };
    return thread;
  };
}
