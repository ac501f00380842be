import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { pageDirectory } from './page-files';

/** The only interface the inspector listens on: it serves a local run to a local browser. */
export const INSPECTOR_HOST = '127.0.0.1';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** A running inspector server. */
export interface InspectorServer {
  /** "http://127.0.0.1:8123/" */
  readonly url: string;
  readonly port: number;
  /** Stop the server; resolves once it is closed. */
  close(): Promise<void>;
}

/** Options for serveInspector. */
export interface ServeOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Where the built page is; defaults to the package's own dist/page. */
  readonly pageDir?: string;
}

/** A port the server could not take, with the reason in words (in use, not allowed). */
export class InspectorPortError extends Error {}

/**
 * Serve the inspector page and one run (`payload`, from {@link inspectorPayload}) on 127.0.0.1.
 * Only GET of the page's own files and /run.json; nothing else is read from disk.
 */
export async function serveInspector(payload: string, options: ServeOptions = {}): Promise<InspectorServer> {
  const root = options.pageDir ?? pageDirectory();
  const body = Buffer.from(payload, 'utf8');
  const server = createServer((request, response) => {
    handle(root, body, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error');
    });
  });
  const port = options.port ?? 0;
  await listen(server, port);
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${INSPECTOR_HOST}:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${port} is in use (pick another with --port, or 0 for any free one)`
          : error.code === 'EACCES'
            ? `port ${port} is not allowed for this user (use one above 1023)`
            : `cannot listen on ${INSPECTOR_HOST}:${port}: ${error.message}`;
      fail(new InspectorPortError(why));
    });
    server.listen(port, INSPECTOR_HOST, () => done());
  });
}

async function handle(root: string, payload: Buffer, request: IncomingMessage, response: ServerResponse) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (path === '/run.json') {
    response.writeHead(200, { ...headers, 'content-type': TYPES['.json'], 'content-length': payload.length });
    response.end(request.method === 'HEAD' ? undefined : payload);
    return;
  }
  const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
  if (!file.startsWith(root + sep)) {
    response.writeHead(403, headers).end();
    return;
  }
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
    return;
  }
  response.writeHead(200, {
    ...headers,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': content.length,
  });
  response.end(request.method === 'HEAD' ? undefined : content);
}
