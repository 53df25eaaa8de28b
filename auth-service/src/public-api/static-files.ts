import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ApiError } from '../http/api-error.js';
import type { Reply, Router } from '../http/router.js';

// Only plain names: no separators, no leading dot, so nothing outside the folder and no
// hidden files can ever be named.
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.sh': 'text/x-shellscript; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.zip': 'application/zip',
  '.sig': 'application/octet-stream',
};

function notFound(): ApiError {
  return new ApiError('not_found', 'no such file');
}

// The file's path and size when `name` is a plain regular file directly in the folder.
async function locateFile(
  folder: string | undefined,
  name: string,
): Promise<{ path: string; size: number }> {
  if (folder === undefined || !FILE_NAME.test(name)) {
    throw notFound();
  }

  const path = join(folder, name);
  let stats;

  try {
    // lstat: a symbolic link is refused rather than followed out of the folder.
    stats = await lstat(path);
  } catch {
    throw notFound();
  }

  if (!stats.isFile()) {
    throw notFound();
  }

  return { path, size: stats.size };
}

async function serveFile(folder: string | undefined, name: string): Promise<Reply> {
  const { path, size } = await locateFile(folder, name);

  return {
    status: 200,
    stream: createReadStream(path),
    size,
    contentType: CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
  };
}

/** The placeholder in deploy/install.sh for the address it was served from. */
export const PUBLIC_URL_PLACEHOLDER = '@BECKON_PUBLIC_URL@';

// install.sh learns where it came from, so the one-line install needs no --url.
async function serveInstallScript(
  folder: string | undefined,
  publicUrl: string | undefined,
): Promise<Reply> {
  if (publicUrl === undefined) {
    return serveFile(folder, 'install.sh');
  }

  const { path } = await locateFile(folder, 'install.sh');
  const text = await readFile(path, 'utf8');
  const raw = Buffer.from(
    text.replaceAll(PUBLIC_URL_PLACEHOLDER, publicUrl.replace(/\/+$/, '')),
    'utf8',
  );

  return { status: 200, raw, contentType: CONTENT_TYPES['.sh'] ?? 'text/plain' };
}

/** `GET /install.sh` and `GET /agent/<file>`, both from the configured folder. */
export function registerStaticRoutes(
  router: Router,
  folder: string | undefined,
  publicUrl?: string,
): void {
  router.add('GET', '/install.sh', () => serveInstallScript(folder, publicUrl));
  router.add('GET', '/agent/:file', (request) => serveFile(folder, request.params.file ?? ''));
}
