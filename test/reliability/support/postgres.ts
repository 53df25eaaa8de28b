import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PSQL = '/usr/bin/psql';
const SERVER = { host: '127.0.0.1', port: '5432', user: 'postgres' };

async function psql(sql: string): Promise<void> {
  await run(PSQL, [
    '-h',
    SERVER.host,
    '-p',
    SERVER.port,
    '-U',
    SERVER.user,
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ]);
}

/** A uniquely named database on the machine's PostgreSQL, dropped by `drop()`. */
export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `beckon_reliability_${randomBytes(6).toString('hex')}`;
  await psql(`CREATE DATABASE ${name}`);

  return {
    url: `postgres://${SERVER.user}@${SERVER.host}:${SERVER.port}/${name}`,
    drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
