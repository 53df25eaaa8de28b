import type { ArgvElement, AgentConfig } from '../config/schema.js';
import { BUILT_IN_ACTIONS } from '../config/load-config.js';

// A plain listing of the effective actions for `check-config`. The runner half of the agent
// provides the full report (`checkConfigReport`); this one only names actions and their argv.

function renderElement(element: ArgvElement): string {
  if (typeof element === 'string') {
    return JSON.stringify(element);
  }

  return element.flag === undefined ? `{${element.arg}}` : `{${element.arg}?${element.flag}}`;
}

export interface ActionListing {
  readonly name: string;
  readonly builtIn: boolean;
  readonly argv: readonly ArgvElement[];
}

export function listActions(config: Readonly<AgentConfig>): ActionListing[] {
  return [
    ...BUILT_IN_ACTIONS.map((name) => ({ name, builtIn: true, argv: [] })),
    ...Object.entries(config.actions).map(([name, action]) => ({
      name,
      builtIn: false,
      argv: action.argv,
    })),
  ];
}

export function renderActionList(config: Readonly<AgentConfig>): string[] {
  return listActions(config).map((action) =>
    action.builtIn
      ? `  ${action.name} (built-in)`
      : `  ${action.name}: ${action.argv.map(renderElement).join(' ')}`,
  );
}
