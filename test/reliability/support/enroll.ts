import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enroll } from '@beckon/agent';
import type { AdminApi } from '../../harness/admin-api.js';
import type { EnrolledAgent } from '../../harness/agent.js';

/** `beckon-agent enroll` against any running auth-service (in this process or its own). */
export async function enrollWith(
  auth: { readonly admin: AdminApi; readonly publicUrl: string },
  agentId: string,
  groups: readonly string[] = [],
): Promise<EnrolledAgent> {
  const dir = await mkdtemp(join(tmpdir(), `beckon-reliability-agent-${agentId}-`));
  const credentialsFile = join(dir, 'credentials.json');
  const token = await auth.admin.enrollToken(agentId, groups);
  const credentials = await enroll({
    url: auth.publicUrl,
    token,
    agentId,
    credentialsPath: credentialsFile,
  });

  return { agentId, dir, credentialsFile, password: credentials.password };
}
