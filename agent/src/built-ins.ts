import type { ActionDescriptor } from '@beckon/shared';
import { BUILT_IN_DESCRIPTORS } from './actions/describe-actions.js';

/**
 * The configured actions' descriptors with the built-ins in front (once each), whatever the
 * catalogue source put in: the daemon answers `ping` and `describe` itself.
 */
export function withBuiltIns(configured: readonly ActionDescriptor[]): ActionDescriptor[] {
  const builtInNames = new Set(BUILT_IN_DESCRIPTORS.map((descriptor) => descriptor.name));

  return [
    ...BUILT_IN_DESCRIPTORS,
    ...configured.filter((descriptor) => !builtInNames.has(descriptor.name)),
  ];
}
