import type { ActionDescriptor } from '@beckon/shared';

/** The actions every agent answers itself, without spawning anything. */
export const BUILT_IN_DESCRIPTORS: readonly ActionDescriptor[] = [
  {
    name: 'ping',
    description: 'Answers at once with empty output; for health and latency checks.',
    args: {},
    builtIn: true,
  },
  {
    name: 'describe',
    description: "Answers with this agent's action catalogue as JSON on stdout.",
    args: {},
    builtIn: true,
  },
];

/** The configured actions' descriptors with the built-ins in front (once each). */
export function withBuiltIns(configured: readonly ActionDescriptor[]): ActionDescriptor[] {
  const builtInNames = new Set(BUILT_IN_DESCRIPTORS.map((descriptor) => descriptor.name));

  return [
    ...BUILT_IN_DESCRIPTORS,
    ...configured.filter((descriptor) => !builtInNames.has(descriptor.name)),
  ];
}
