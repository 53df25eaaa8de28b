import type { ActionConfig } from '../config/schema.js';

const MS_PER_SECOND = 1_000;

/** The action's timeout in whole milliseconds (at least one). */
export function actionTimeoutMs(action: Pick<ActionConfig, 'timeoutSeconds'>): number {
  return Math.max(1, Math.round(action.timeoutSeconds * MS_PER_SECOND));
}
