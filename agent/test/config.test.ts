import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beckon-agent-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);

  return { path, result: await loadConfig(path) };
}

const VALID = `
broker:
  url: mqtts://broker.example.com:8883
  caFile: /etc/beckon/ca.pem
actions:
  rotate-log:
    description: Rotate one application log
    argv: [/usr/sbin/logrotate, { arg: force, flag: --force }, --, { arg: config }]
    args:
      config: { type: string, enum: [/etc/logrotate.d/app] }
      force: { type: boolean, required: false }
`;

describe('loadConfig', () => {
  it('loads a valid file and fills defaults', async () => {
    const { result } = await load(VALID);

    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.broker.protocolVersion).toBe(5);
      expect(result.config.security.requireSignatures).toBe(true);
      expect(result.config.actions['rotate-log']?.timeoutSeconds).toBe(60);
      expect(Object.isFrozen(result.config)).toBe(true);
    }
  });

  it('names the file, the key and the problem', async () => {
    const { path, result } = await load(VALID.replace('mqtts://', 'http://'));

    expect(result).toEqual({
      ok: false,
      errors: [`${path}: broker.url: must be mqtt://host[:port] or mqtts://host[:port]`],
    });
  });

  it('refuses unknown keys rather than ignoring a typo', async () => {
    const { result } = await load(`${VALID}\nsecurity:\n  requireSignature: false\n`);

    expect(result.ok || result.errors.join()).toMatch(
      /security: unknown key\(s\) requireSignature/,
    );
  });

  it('refuses an argv that refers to an undeclared argument', async () => {
    const { result } = await load(VALID.replace('{ arg: config }', '{ arg: path }'));

    expect(result.ok || result.errors.join('\n')).toMatch(
      /actions\.rotate-log\.argv\.3: refers to undeclared argument "path"/,
    );
  });

  it('refuses a relative program, a redefined built-in and an unknown argument type', async () => {
    const { result } = await load(`
broker: { url: "mqtt://localhost:1883" }
actions:
  ping:
    argv: [ping, -c1]
  upload:
    argv: [/usr/bin/upload, { arg: file }]
    args:
      file: { type: path }
`);

    expect(result.ok).toBe(false);
    if (!result.ok) {
      const text = result.errors.join('\n');
      expect(text).toMatch(/actions\.upload\.args\.file\.type/);
    }

    const second = await load(`
broker: { url: "mqtt://localhost:1883" }
actions:
  ping:
    argv: [ping, -c1]
`);
    expect(second.result.ok || second.result.errors.join('\n')).toMatch(
      /"ping" is a built-in action[\s\S]*argv\.0: the program must be a literal absolute path/,
    );
  });

  it('reports YAML syntax errors and a missing file', async () => {
    const { path, result } = await load('broker: [unclosed');
    expect(result.ok || result.errors[0]).toContain(path);

    const missing = await loadConfig(join(dir, 'nope.yaml'));
    expect(missing.ok || missing.errors[0]).toMatch(/cannot read the file \(ENOENT\)/);
  });

  it('refuses an alias bomb with an error instead of throwing (regression: loadConfig threw)', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];

    for (const [index, name] of ['b', 'c', 'd', 'e', 'f'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + index);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }

    const { path, result } = await load(levels.join('\n'));

    expect(result).toEqual({
      ok: false,
      errors: [`${path}: too many YAML aliases (more than 100); write the values out`],
    });
  });

  it('reads YAML 1.1 tags such as !!binary as plain text, not as a Buffer', async () => {
    // Regression: a top-level !!binary became a Buffer and the error listed every Buffer method.
    const { result } = await load('!!binary aGk=');

    expect(result.ok || result.errors).toEqual([
      expect.stringMatching(/\(top level\): expected object$/),
    ]);
  });
});
