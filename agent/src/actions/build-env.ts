import type { ActionConfig } from '../config/schema.js';

/**
 * Given to an action that declares no PATH of its own. The program itself is an absolute path
 * and never looked up; this is for the scripts it runs, which expect to find `sed` or
 * `systemctl`. It names only system directories, so it leaks nothing about the agent.
 */
export const DEFAULT_ACTION_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The whole environment of one run: what the action declares, plus the default PATH when it
 * declares none. Nothing is inherited from the agent, whose own environment may hold secrets.
 */
export function buildEnv(action: ActionConfig): Readonly<Record<string, string>> {
  return { PATH: DEFAULT_ACTION_PATH, ...action.env };
}
