import { AgentTrustResponse } from '@beckon/shared';
import { authenticatePrincipal } from '../http/authenticate.js';
import type { Router } from '../http/router.js';
import type { ServiceContext } from '../service-context.js';

/** `GET /v1/agent/trust`: an agent refreshes its trust root and groups with its credentials. */
export function registerAgentTrustRoute(router: Router, context: ServiceContext): void {
  router.add('GET', '/v1/agent/trust', async (request) => {
    const agent = await authenticatePrincipal(context, request, 'agent');

    return {
      status: 200,
      body: AgentTrustResponse.parse({
        agentId: agent.id,
        groups: [...agent.groups],
        trustRoot: context.directory.trustRoot(),
      }),
    };
  });
}
