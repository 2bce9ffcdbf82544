import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/db/redact.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://user:s3cret@host:5432/db', 'postgres://user:***@host:5432/db'],
    ['postgresql://u:p%40ss@h/db?sslmode=require', 'postgresql://u:***@h/db?sslmode=require'],
    // Unescaped characters a password often holds: the user part runs to the last @.
    ['postgres://u:p@ss/w#rd?x@h:1/db', 'postgres://u:***@h:1/db'],
    ['postgres://u:@h/db', 'postgres://u:***@h/db'],
    ['postgres://user@host/db', 'postgres://user@host/db'],
    ['postgres://host/db?user=u&password=s3cret&sslpassword=k3y', 'postgres://host/db?user=u&password=***&sslpassword=***'],
    ['host=h password=s3cret dbname=d', 'host=h password=*** dbname=d'],
    ['postgresql://', 'postgresql://'],
    ['not a url with password=x', 'not a url with password=***'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
