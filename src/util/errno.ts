// A failed system call in words for a one-line message: the words a caller gives for its error code, else
// the error's own message.

export type Reasons = Readonly<Record<string, string>>;

/** Why a file or a folder could not be created. */
export const UNWRITABLE: Reasons = {
  ENOTDIR: 'a parent of it is a file, not a directory',
  EEXIST: 'a parent of it is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EISDIR: 'a directory of that name is in the way',
};

// The words `reasons` has for the error's code, or its message.
export function errnoReason(err: unknown, reasons: Reasons): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined && Object.hasOwn(reasons, e.code) ? reasons[e.code] : e.message;
}

// Why a file could not be created, in words, from the error of the call that failed.
export function whyUnwritable(err: unknown): string {
  return errnoReason(err, UNWRITABLE);
}
