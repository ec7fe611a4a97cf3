// What every browser test needs around the real custodian binary: a data
// directory, the CLI, `custodian serve` on an ephemeral port with its stderr
// kept, waiting for a condition without fixed sleeps, steps that stop at the
// first failure, and a clean stop.
//
// The tests run with
//   CUSTODIAN_BINARY      the custodian executable under test
//   CUSTODIAN_SOURCE_DIR  the repository root (for examples/policies)
//   CHROMIUM              optional; the browser (default /usr/bin/chromium)
import { it } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BINARY = process.env.CUSTODIAN_BINARY;
export const SOURCE_DIR = process.env.CUSTODIAN_SOURCE_DIR;
export const BROWSER = process.env.CHROMIUM || '/usr/bin/chromium';
export const WAIT_MS = 30_000;  // the longest any single wait may take (generous for ASan builds)

if (!BINARY || !SOURCE_DIR) {
  throw new Error('set CUSTODIAN_BINARY (the custodian executable) and CUSTODIAN_SOURCE_DIR ' +
                  '(the repository root); CTest does (browser.*)');
}

// The children must not pick up a developer's vault.
const childEnv = { ...process.env };
delete childEnv.CUSTODIAN_MASTER_KEY;
delete childEnv.CUSTODIAN_DATA_DIR;

export function policyFile(name) {
  return join(SOURCE_DIR, 'examples', 'policies', `${name}.yaml`);
}

// A custodian data directory in a fresh temporary directory, and the server on it.
export class Custodian {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'custodian-browser-'));
    this.server = null;
    this.chunks = [];
  }

  // Runs the CLI on this data directory; its stdout.
  run(...args) {
    return execFileSync(BINARY, [...args, '--data-dir', join(this.dir, 'data')],
                        { env: childEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  // Starts `custodian serve` on an ephemeral port; resolves with its URL once
  // it says "custodian: serving http://127.0.0.1:PORT ...".
  serve() {
    return new Promise((resolve, reject) => {
      this.server = spawn(BINARY, ['serve', '--data-dir', join(this.dir, 'data'),
                                   '--listen', '127.0.0.1:0'],
                          { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      this.exited = new Promise((done) =>
        this.server.once('exit', (code, signal) => done({ code, signal })));
      let log = '';
      this.server.stderr.on('data', (chunk) => {
        this.chunks.push(chunk);
        log += chunk.toString('utf8');
        const m = /custodian: serving (http:\/\/127\.0\.0\.1:\d+) /.exec(log);
        if (m) resolve(m[1]);
      });
      this.server.once('error', reject);
      this.server.once('exit', (code, signal) =>
        reject(new Error(`custodian serve exited (${code ?? signal}) before serving:\n${log}`)));
    });
  }

  // The server's stderr so far.
  log() {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  // The server's access log: one JSON object a line on stderr.
  accessLog() {
    return this.log().split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try { return [JSON.parse(line)]; } catch { return []; }
    });
  }

  // SIGTERM (SIGKILL after 10 s), then the directory is removed. Prints the
  // server's stderr when `failed`.
  async stop(failed) {
    const server = this.server;
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      if (code !== 0) console.error(`custodian serve exited with ${code ?? signal} on SIGTERM`);
    }
    if (failed) console.error(`--- custodian serve's stderr ---\n${this.log()}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Waits (without a fixed sleep budget per step) for `check` to return
// something truthy, e.g. an access-log line, which is written after the response.
export async function eventually(what, check) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// `it` for steps that build on each other: after a failure the rest are
// skipped (the first failure is the one to read). `state.failed` says whether
// one failed.
export function steps() {
  const state = { failed: false };
  state.step = (name, fn) => {
    it(name, async (t) => {
      if (state.failed) {
        t.skip('an earlier step failed');
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        state.failed = true;
        throw e;
      }
    });
  };
  return state;
}
