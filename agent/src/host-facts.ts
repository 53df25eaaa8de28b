import { arch, hostname, platform, release } from 'node:os';
import type { HostFacts } from '@beckon/shared';

/** What every granted app may learn about this host; nothing else (no addresses, no users). */
export function hostFacts(): HostFacts {
  return {
    hostname: hostname().slice(0, 255),
    platform: platform().slice(0, 32),
    arch: arch().slice(0, 32),
    release: release().slice(0, 128),
    node: process.version.slice(0, 32),
  };
}
