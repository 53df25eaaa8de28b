/**
 * The actions the local system's agent offers: harmless, read-only, and each showing one kind
 * of typed argument, so the printed `beckon send` line works on any Linux machine.
 */
export const EXAMPLE_ACTIONS = {
  hello: {
    description: 'Greets someone by name (a string argument with a pattern).',
    argv: ['/bin/echo', 'hello', { arg: 'name' }],
    args: { name: { type: 'string', pattern: '[A-Za-z][A-Za-z -]{0,39}' } },
  },
  uptime: {
    description: 'How long this host has been up.',
    argv: ['/usr/bin/uptime'],
  },
  'disk-usage': {
    description: 'Disk usage of one allowed mount point (a string argument from a list).',
    argv: ['/bin/df', '-h', '--', { arg: 'mount' }],
    args: { mount: { type: 'string', enum: ['/', '/tmp'] } },
  },
  'sleep-for': {
    description: 'Sleeps a few seconds (an integer argument with a range); try cancelling it.',
    argv: ['/bin/sleep', { arg: 'seconds' }],
    args: { seconds: { type: 'integer', min: 1, max: 60 } },
    timeoutSeconds: 90,
  },
} as const;
