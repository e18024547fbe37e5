// A throwaway PostgreSQL server on loopback, from Debian's postgresql package: the database that
// notary-server and notary-signer keep their data in when a test must kill and restart them
// (their `memory` storage forgets everything, and the Debian build has no sqlite3 driver).
// PostgreSQL refuses to run as root: as root, it runs as the package's `postgres` user (setpriv
// execs it, so signals reach postgres itself).
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { freePort, runOk, startDaemon, stopDaemon, waitForPort } from './processes.js';

/** The newest installed server's bin directory (/usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(path.join(root, d, 'bin', 'postgres'))) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  if (!majors[0]) throw new Error('PostgreSQL is not installed (scripts/setup.sh installs Debian\'s postgresql)');
  return path.join(root, majors[0], 'bin');
}

export class Postgres {
  private daemon: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly asUser: readonly string[],
  ) {}

  static async start(): Promise<Postgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-pg-'));
    const root = process.getuid?.() === 0;
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
    }
    const pg = new Postgres(dir, await freePort(), root ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : []);
    await pg.exec('initdb', ['-D', pg.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.resume();
    return pg;
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  private exec(tool: string, args: readonly string[]): Promise<string> {
    const file = path.join(binDir(), tool);
    const [cmd, ...pre] = [...this.asUser, file];
    return runOk(cmd, [...pre, ...args]);
  }

  /** `postgres://…` URL of database `name` for Go's lib/pq (no TLS on loopback). */
  url(name: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}?sslmode=disable`;
  }

  /** Creates database `name` and runs the SQL files in order (each with ON_ERROR_STOP). */
  async createDatabase(name: string, sqlFiles: readonly string[]): Promise<void> {
    await runOk('psql', ['-q', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE "${name}"`]);
    for (const file of sqlFiles) {
      await runOk('psql', ['-q', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', name, '-v', 'ON_ERROR_STOP=1', '-f', file]);
    }
  }

  /** Starts (again) the server on the same port and data. */
  async resume(): Promise<void> {
    const file = path.join(binDir(), 'postgres');
    const [cmd, ...pre] = [...this.asUser, file];
    this.daemon = startDaemon(cmd, [...pre, '-D', this.data, '-k', this.dir, '-h', '127.0.0.1', '-p', String(this.port), '-c', 'fsync=off'], path.join(this.dir, 'postgres.log'));
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    await stopDaemon(this.daemon);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
