import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreDirectory } from '../src/directory/store-directory.js';
import { parseAclFile } from '../src/import/acl-file.js';
import { importMosquitto } from '../src/import/import-mosquitto.js';
import { parsePasswordFile } from '../src/import/password-file.js';
import { generateSecret } from '../src/secrets/generate-secret.js';
import { hashGeneratedSecret } from '../src/secrets/generated-secret-hash.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { silentLogger } from './helpers/backends.js';

const ACL_FILE = `# topics before any user line are for anonymous clients
topic read public/#

user sensor-1
topic write sensors/sensor-1/temp
topic read config/#
topic sensors/sensor-1/raw

user sensor-2
topic deny secrets/#

user bad/user
topic read anything

pattern read devices/%u/commands
pattern write devices/%c/state
`;

describe('import from a static Mosquitto setup', () => {
  let folder: string;
  let store: Store;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'beckon-import-'));
    store = await openStore({ kind: 'sqlite', path: join(folder, 'auth.db') }, silentLogger);
  });

  afterEach(async () => {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  function passwordFile(): string {
    const file = join(folder, 'passwd');

    execFileSync('mosquitto_passwd', ['-b', '-c', file, 'sensor-1', 'first pass']);
    execFileSync('mosquitto_passwd', ['-b', '-H', 'sha512', file, 'sensor-2', 'second']);
    // A user from the plug's np tool (contract test vector), and lines that cannot be imported.
    appendFileSync(
      file,
      [
        'legacy:PBKDF2$sha256$901$5AmF8q3Dlcxq+JKI$5EecMTfQ6TKXe+dIu8IgqNQzNBD9hyWz',
        'plain-user:not-a-hash',
        'bad+user:$6$abc$def',
        '',
      ].join('\n'),
    );

    return file;
  }

  it('refuses the fast generated-secret format: imported passwords keep a slow hash', () => {
    const text = `fast-user:${hashGeneratedSecret(generateSecret())}\n`;
    const { entries, problems } = parsePasswordFile(text, 'passwd');

    expect(entries).toEqual([]);
    expect(problems.map((problem) => problem.line)).toEqual([1]);
    expect(problems[0]?.message).toContain('$hmac-sha256$');
  });

  it('keeps every password hash, so nobody has to reset a password', async () => {
    const file = passwordFile();
    const { entries, problems } = parsePasswordFile(readFileSync(file, 'utf8'), file);

    expect(entries.map((entry) => entry.username)).toEqual(['sensor-1', 'sensor-2', 'legacy']);
    expect(problems.map((problem) => problem.line)).toEqual([4, 5]);

    const summary = await importMosquitto(store, {
      entries,
      rules: [],
      kind: 'agent',
      actor: 'cli',
    });

    expect(summary.created).toEqual(['sensor-1', 'sensor-2', 'legacy']);

    const directory = await StoreDirectory.open(store, 'beckon-test', silentLogger);

    try {
      expect(await directory.verifySecret('sensor-1', 'first pass')).toBe(true);
      expect(await directory.verifySecret('sensor-1', 'second')).toBe(false);
      expect(await directory.verifySecret('sensor-2', 'second')).toBe(true);
      expect(await directory.verifySecret('legacy', 'secret')).toBe(true);
      expect(directory.current().principals.get('legacy')?.kind).toBe('agent');
    } finally {
      directory.close();
    }
  });

  it('turns user, topic and pattern lines into rules and reports what it cannot express', () => {
    const { rules, problems } = parseAclFile(ACL_FILE, 'acl');

    expect(rules.map(({ line: _line, ...rule }) => rule)).toEqual([
      {
        subject: { kind: 'principal', id: 'sensor-1' },
        pattern: 'sensors/sensor-1/temp',
        access: ['write'],
        effect: 'allow',
      },
      {
        subject: { kind: 'principal', id: 'sensor-1' },
        pattern: 'config/#',
        access: ['read', 'subscribe'],
        effect: 'allow',
      },
      {
        subject: { kind: 'principal', id: 'sensor-1' },
        pattern: 'sensors/sensor-1/raw',
        access: ['read', 'write', 'subscribe'],
        effect: 'allow',
      },
      {
        subject: { kind: 'principal', id: 'sensor-2' },
        pattern: 'secrets/#',
        access: ['read', 'write', 'subscribe'],
        effect: 'deny',
      },
      {
        subject: { kind: 'all' },
        pattern: 'devices/%u/commands',
        access: ['read', 'subscribe'],
        effect: 'allow',
      },
    ]);
    expect(problems.map((problem) => problem.line)).toEqual([2, 12, 16]);
  });

  it('can run twice: hashes are updated and rules are not duplicated', async () => {
    const file = passwordFile();
    const { entries } = parsePasswordFile(readFileSync(file, 'utf8'), file);
    const { rules } = parseAclFile(ACL_FILE, 'acl');

    await importMosquitto(store, { entries, rules, kind: 'app', actor: 'cli' });

    const again = await importMosquitto(store, { entries, rules, kind: 'app', actor: 'cli' });

    expect(again).toMatchObject({
      created: [],
      updated: ['sensor-1', 'sensor-2', 'legacy'],
      rulesAdded: 0,
      rulesAlreadyPresent: 5,
    });
    expect(await store.read((reader) => reader.listRules())).toHaveLength(5);
  });

  it('skips a user that already exists as the other kind', async () => {
    const file = passwordFile();
    const { entries } = parsePasswordFile(readFileSync(file, 'utf8'), file);

    await importMosquitto(store, {
      entries: entries.slice(0, 1),
      rules: [],
      kind: 'app',
      actor: 'cli',
    });

    const summary = await importMosquitto(store, {
      entries,
      rules: [],
      kind: 'agent',
      actor: 'cli',
    });

    expect(summary.created).toEqual(['sensor-2', 'legacy']);
    expect(summary.problems.map((problem) => problem.message)).toEqual([
      'sensor-1 already exists as an app; skipped',
    ]);
  });
});
