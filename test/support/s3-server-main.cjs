// The S3 test server's own process (started by s3-server.ts): s3rver on 127.0.0.1, a free port, data in the
// directory given as the first argument. It prints `{"port":N}` once listening, writes a pid file that lets a
// later test run find it if the run that started it was killed, and ends on SIGTERM.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// s3rver signs its ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 disables: every truncated
// listing (more than 1,000 keys) answers 500. Triple DES with the key repeated three times computes the same
// bytes as single DES (encrypt, decrypt, encrypt with one key), and is available without the legacy provider.
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = function (algorithm, key, iv, options) {
    if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des') {
      return original.call(crypto, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
    }
    return original.call(crypto, algorithm, key, iv, options);
  };
}

const S3rver = require('s3rver');

const [directory, pidDir] = process.argv.slice(2);
const pidFile = path.join(pidDir, `${process.pid}.json`);

// Field 22 of /proc/<pid>/stat: the process's start time, which tells a live process from a later one that got
// the same pid.
function startTime(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function main() {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
  const { port } = await server.run();
  fs.mkdirSync(pidDir, { recursive: true });
  const me = { pid: process.pid, start: startTime(process.pid), owner: process.ppid, ownerStart: startTime(process.ppid), directory };
  fs.writeFileSync(pidFile, JSON.stringify(me));
  process.on('SIGTERM', () => {
    fs.rmSync(pidFile, { force: true });
    process.exit(0);
  });
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

main().catch((err) => {
  process.stderr.write(`s3rver did not start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
