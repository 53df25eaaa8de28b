/**
 * The agent's version. A constant rather than a read of package.json at run time: the
 * single-executable bundle (deploy/bundle) carries no package.json beside it. A test keeps it
 * equal to package.json's version.
 */
export const AGENT_VERSION = '0.1.0';

export function agentVersion(): string {
  return AGENT_VERSION;
}
