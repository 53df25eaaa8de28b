import { createServer } from 'node:http';
import { reportServerPauses } from '../lib/server-pauses.js';

// The baseline: the least any node:http service can do for the plug's request. It reads the
// body (as the auth-service must) and answers 200 with an empty body.
const server = createServer((request, response) => {
  request.resume();
  request.once('end', () => {
    response.writeHead(200, { 'content-length': '0' });
    response.end();
  });
});

reportServerPauses();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});

process.once('SIGTERM', () => server.close(() => process.exit(0)));
