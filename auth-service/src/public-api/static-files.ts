import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
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

async function serveFile(folder: string | undefined, name: string): Promise<Reply> {
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

  return {
    status: 200,
    stream: createReadStream(path),
    size: stats.size,
    contentType: CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
  };
}

/** `GET /install.sh` and `GET /agent/<file>`, both from the configured folder. */
export function registerStaticRoutes(router: Router, folder: string | undefined): void {
  router.add('GET', '/install.sh', () => serveFile(folder, 'install.sh'));
  router.add('GET', '/agent/:file', (request) => serveFile(folder, request.params.file ?? ''));
}
