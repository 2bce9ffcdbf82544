import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonNumber, JsonSyntaxError, parseJson } from '../../src/io/json-line.js';

// Our value as JSON.parse would give it: JsonNumbers as their value, objects with a prototype.
function unwrap(v: unknown): unknown {
  if (v instanceof JsonNumber) return v.value;
  if (Array.isArray(v)) return v.map(unwrap);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

function outcome(text: string): { value: unknown } | { error: true } {
  try {
    return { value: unwrap(parseJson(text)) };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { error: true };
  }
}

function reference(text: string): { value: unknown } | { error: true } {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: true };
  }
}

// JSON number texts, including the forms whose String() differs (exponents, trailing zeros, long digits).
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,24}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/)), { nil: undefined }),
  )
  .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp ? exp.join('') : ''}`);

describe('parseJson', () => {
  it('gives what JSON.parse gives for any JSON value', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        expect(outcome(text)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.parse on what is not JSON', () => {
    const pieces = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'a', '1', '-', '.', 'e', ' ', 'true', 'nul', '\u0001', '\\u00', '"x"', '0', '01', '1.', '.5', '+1');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        expect(outcome(text)).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the text of a number whenever String() would not give it back', () => {
    fc.assert(
      fc.property(numberText, (text) => {
        const v = parseJson(text);
        if (v instanceof JsonNumber) {
          expect(v.source).toBe(text);
          expect(v.value).toBe(Number(text));
        } else {
          expect(typeof v).toBe('number');
          expect(String(v)).toBe(text);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps ids beyond 2^53 and decimals as written', () => {
    expect(parseJson('12345678901234567890')).toEqual(new JsonNumber(12345678901234567000, '12345678901234567890'));
    expect(parseJson('1.50')).toEqual(new JsonNumber(1.5, '1.50'));
    expect(parseJson('1e2')).toEqual(new JsonNumber(100, '1e2'));
    expect(parseJson('0.0000001')).toEqual(new JsonNumber(1e-7, '0.0000001'));
    expect(parseJson('-0')).toEqual(new JsonNumber(-0, '-0'));
    expect(parseJson('123.25')).toBe(123.25);
    expect(parseJson('-7')).toBe(-7);
  });

  it('reads escapes, surrogate pairs and a __proto__ key as data', () => {
    expect(parseJson('"a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"')).toBe('a"b\\c/\b\f\n\r\té😀');
    const o = parseJson('{"__proto__": {"x": 1}, "a": 2}') as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(o)).toBe(null);
  });

  it('says what is wrong and where', () => {
    const err = (t: string) => {
      try {
        parseJson(t);
      } catch (e) {
        return (e as JsonSyntaxError).message;
      }
      return 'no error';
    };
    expect(err('{"a": 1,}')).toBe("expected a property name in double quotes, got '}' at character 9");
    expect(err('{"a" 1}')).toBe("expected ':' after a property name, got '1' at character 6");
    expect(err('[1 2]')).toBe("expected ',' or ']' after an array element, got '2' at character 4");
    expect(err('{"a": "x')).toBe('a string is never closed at character 9');
    expect(err('{"a": 1} x')).toBe("unexpected 'x' after the JSON value at character 10");
    expect(err('"a\tb"')).toBe('control character U+0009 inside a string (write it as an escape such as \\n) at character 3');
    expect(err('[' .repeat(600))).toMatch(/^nested deeper than 512 levels/);
  });
});
