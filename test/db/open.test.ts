import { describe, expect, it } from 'vitest';
import { openDatabase, schemeOf } from '../../src/db/open.js';

describe('database URLs', () => {
  it('knows PostgreSQL by its schemes, in any case, and nothing else', () => {
    expect(schemeOf('postgres://u@h/db')).toBe('postgres');
    expect(schemeOf('PostgreSQL://')).toBe('postgresql');
    expect(schemeOf('mysql://u@h/db')).toBeUndefined();
    expect(schemeOf('data/in.csv')).toBeUndefined();
  });

  it('opens the backend of the scheme without connecting', async () => {
    const db = await openDatabase('postgres://someone:hunter2@db.invalid:6543/app');
    expect(db.display).toBe('postgres://someone@db.invalid:6543/app');
  });
});
