// A cell value inside a one-line message: 'abc', or a JSON string when it holds line breaks or control
// characters, cut to a readable length.
export function quoteCell(value: string, max = 40): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(cut) ? JSON.stringify(cut) : `'${cut}'`;
}
