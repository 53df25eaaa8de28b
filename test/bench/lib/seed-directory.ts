import {
  generateSecret,
  hashGeneratedSecret,
  type AclAccess,
  type AclSubject,
  type Store,
  type StoreWriter,
} from '@beckon/auth-service';
import { pino } from 'pino';

// A directory the size of a real deployment, written straight through the store API in one
// transaction (60,000 admin calls would take longer than every benchmark together). The same
// seed gives the same directory in SQLite and PostgreSQL.

export interface DirectoryShape {
  readonly agents: number;
  readonly apps: number;
  readonly grants: number;
  readonly rules: number;
  /** Site groups; each agent is in one site group and one role group. */
  readonly sites: number;
}

/** The realistic store: 10,000 agents, 200 apps, 50,000 grants and rules together. */
export const FULL_DIRECTORY: DirectoryShape = {
  agents: 10_000,
  apps: 200,
  grants: 40_000,
  rules: 10_000,
  sites: 200,
};

/** A tenth of it, for `--quick`. */
export const QUICK_DIRECTORY: DirectoryShape = {
  agents: 1_000,
  apps: 20,
  grants: 4_000,
  rules: 1_000,
  sites: 20,
};

const ROLES = ['web', 'db', 'cache'] as const;
/** Most grants name a few agents; this share names a whole site group instead. */
const GROUP_GRANT_SHARE = 0.02;
const MAX_AGENTS_PER_GRANT = 3;
const RANDOM_SEED = 0x5eed;

/** Secrets and their scrypt hashes, computed once and written to every store kind. */
export interface DirectorySecrets {
  readonly shape: DirectoryShape;
  readonly agentIds: readonly string[];
  readonly appIds: readonly string[];
  /** Plaintext secrets, by principal id (the benchmarks log in with them). */
  readonly secrets: ReadonlyMap<string, string>;
  readonly hashes: ReadonlyMap<string, string>;
}

export function agentId(index: number): string {
  return `agent-${String(index).padStart(5, '0')}`;
}

export function appId(index: number): string {
  return `app-${String(index).padStart(3, '0')}`;
}

function siteOf(agentIndex: number, shape: DirectoryShape): string {
  return `site-${String(agentIndex % shape.sites).padStart(3, '0')}`;
}

/** mulberry32: small, fast and deterministic, so both stores hold the same directory. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every principal gets its own secret and salted hash, as enrollment would give it. */
export function prepareSecrets(shape: DirectoryShape): DirectorySecrets {
  const agentIds = Array.from({ length: shape.agents }, (_, index) => agentId(index));
  const appIds = Array.from({ length: shape.apps }, (_, index) => appId(index));
  const secrets = new Map<string, string>();
  const hashes = new Map<string, string>();

  for (const id of [...agentIds, ...appIds]) {
    const secret = generateSecret();
    secrets.set(id, secret);
    hashes.set(id, hashGeneratedSecret(secret));
  }

  return { shape, agentIds, appIds, secrets, hashes };
}

/** Which agents each app is granted, by id or through a site group (the benchmarks ask these). */
export type GrantedAgents = ReadonlyMap<string, readonly string[]>;

async function writePrincipals(writer: StoreWriter, seed: DirectorySecrets): Promise<void> {
  const { shape } = seed;

  for (const [index, id] of seed.agentIds.entries()) {
    await writer.insertPrincipal({
      id,
      kind: 'agent',
      enabled: true,
      superuser: false,
      secretHash: seed.hashes.get(id) ?? '',
    });
    await writer.addMember(siteOf(index, shape), id);
    await writer.addMember(`role-${ROLES[index % ROLES.length] ?? 'web'}`, id);
  }

  for (const id of seed.appIds) {
    await writer.insertPrincipal({
      id,
      kind: 'app',
      enabled: true,
      superuser: false,
      secretHash: seed.hashes.get(id) ?? '',
    });
  }
}

async function writeGrants(
  writer: StoreWriter,
  seed: DirectorySecrets,
  random: () => number,
): Promise<GrantedAgents> {
  const { shape } = seed;
  const granted = new Map<string, Set<string>>(seed.appIds.map((id) => [id, new Set()]));

  for (let index = 0; index < shape.grants; index += 1) {
    const app = seed.appIds[index % shape.apps] ?? '';
    const agents: string[] = [];
    const groups: string[] = [];

    if (random() < GROUP_GRANT_SHARE) {
      const site = Math.floor(random() * shape.sites);
      groups.push(siteOf(site, shape));

      for (let agent = site; agent < shape.agents; agent += shape.sites) {
        granted.get(app)?.add(agentId(agent));
      }
    } else {
      const count = 1 + Math.floor(random() * MAX_AGENTS_PER_GRANT);

      for (let n = 0; n < count; n += 1) {
        const agent = agentId(Math.floor(random() * shape.agents));
        agents.push(agent);
        granted.get(app)?.add(agent);
      }
    }

    await writer.insertGrant({
      id: `grant_${index}`,
      appId: app,
      agents: [...new Set(agents)],
      groups,
      ...(random() < 0.5 ? { actions: ['ping', 'restart-service', 'deploy'] } : {}),
    });
  }

  return new Map([...granted].map(([app, agents]) => [app, [...agents]]));
}

interface RuleSpec {
  readonly subject: AclSubject;
  readonly pattern: string;
  readonly access: readonly AclAccess[];
  readonly effect: 'allow' | 'deny';
}

// Rules for other uses of the broker: per-agent metrics topics, per-app site feeds, shared
// group topics, and a few broker-wide ones (a deny among them), as an imported ACL file has.
function ruleFor(index: number, seed: DirectorySecrets, random: () => number): RuleSpec {
  const { shape } = seed;
  const roll = random();
  const agentIndex = Math.floor(random() * shape.agents);
  const site = siteOf(agentIndex, shape);

  if (roll < 0.6) {
    return {
      subject: { kind: 'principal', id: agentId(agentIndex) },
      pattern: `sites/${site}/agents/${agentId(agentIndex)}/metrics/#`,
      access: ['write'],
      effect: 'allow',
    };
  }

  if (roll < 0.85) {
    return {
      subject: { kind: 'principal', id: seed.appIds[index % shape.apps] ?? '' },
      pattern: `sites/${site}/+/+/metrics/#`,
      access: ['read', 'subscribe'],
      effect: 'allow',
    };
  }

  if (roll < 0.99) {
    return {
      subject: { kind: 'group', name: site },
      pattern: `sites/${site}/shared/#`,
      access: ['read', 'subscribe'],
      effect: 'allow',
    };
  }

  return roll < 0.995
    ? {
        subject: { kind: 'all' },
        pattern: 'legacy/%u/#',
        access: ['read', 'write'],
        effect: 'allow',
      }
    : {
        subject: { kind: 'all' },
        pattern: `restricted/${index}/#`,
        access: ['write'],
        effect: 'deny',
      };
}

/** Writes the directory in one transaction; returns which agents each app is granted. */
export async function seedDirectory(store: Store, seed: DirectorySecrets): Promise<GrantedAgents> {
  const random = seededRandom(RANDOM_SEED);

  return store.mutate('bench-seed', async (writer) => {
    await writePrincipals(writer, seed);
    const granted = await writeGrants(writer, seed, random);

    for (let index = 0; index < seed.shape.rules; index += 1) {
      await writer.insertRule({ id: `rule_${index}`, ...ruleFor(index, seed, random) });
    }

    await writer.audit({ action: 'bench.seed', target: 'directory' });

    return granted;
  });
}

/** A silent logger for the store the orchestrator opens to seed. */
export const quietLogger = pino({ level: 'warn' });
