// ONNX Runtime messages carry C++ file names and template signatures; keep the sentence a user can act on.
export function cleanOrtMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  const status = msg.indexOf('Status Message: ');
  if (status !== -1) msg = msg.slice(status + 'Status Message: '.length);
  const sig = msg.lastIndexOf('] ');
  if (sig !== -1 && /^\/|^[A-Za-z]:\\/.test(msg)) msg = msg.slice(sig + 2);
  return msg.replace(/\s+/g, ' ').trim();
}
