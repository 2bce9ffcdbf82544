// The error a piece of work under test must end with.
import { expect } from 'vitest';
import { SbError } from '../../src/errors.js';

// The SbError `work` rejects with; the test fails when it resolves or rejects with anything else.
export async function failure(work: Promise<unknown>): Promise<SbError> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(SbError);
    return err as SbError;
  }
  throw new Error('expected a failure');
}
