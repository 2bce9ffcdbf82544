// Cell text for result values.

// A float with `precision` significant digits, in its shortest form (`0.5`, `1e-7`, `12345.7`); NaN is an
// empty cell (missing), infinities are `inf`/`-inf` as pandas writes them.
export function formatFloat(x: number, precision: number): string {
  if (Number.isNaN(x)) return '';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return '0';
  return String(Number(x.toPrecision(precision)));
}
