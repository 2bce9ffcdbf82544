// Kernel file systems that hold no stored files: a file there is a kernel interface, whose size says nothing
// of what reading it gives (/proc/self/pagemap is a "regular" file of size 0 that reads gigabytes), and a file
// created there fails or hangs.
import { statfs } from 'node:fs/promises';

/** statfs f_type of each, from linux/magic.h. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: "the kernel's process file system (procfs)",
  0x62656572: "the kernel's sysfs",
  0x27e0eb: "the kernel's cgroup file system",
  0x63677270: "the kernel's cgroup2 file system",
  0x64626720: "the kernel's debugfs",
  0x74726163: "the kernel's tracefs",
  0x73636673: "the kernel's securityfs",
  0x62656570: "the kernel's configfs",
  0xcafe4a11: "the kernel's bpf file system",
  0x6165676c: "the kernel's pstore",
  0xde5e81e4: "the kernel's efivarfs",
  0x1cd1: "the kernel's devpts (terminals)",
};

// The name of the kernel file system `p` lives on, when it is one that holds no stored files.
export async function pseudoFs(p: string): Promise<string | undefined> {
  const s = await statfs(p).catch(() => undefined);
  return s ? PSEUDO_FS[s.type] : undefined;
}
