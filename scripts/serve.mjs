#!/usr/bin/env node
// A zero-dependency static server for web/ with the page's production headers (strict CSP,
// application/wasm), bound to 127.0.0.1 only.
//
//   node scripts/serve.mjs [--port N] [--isolate]
//     --port N    port to listen on (default: $PORT, else 8080)
//     --isolate   add COOP/COEP/CORP headers (cross-origin isolation, needed by SharedArrayBuffer)
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
].join('; ');

function usage() {
  return 'usage: node scripts/serve.mjs [--port N] [--isolate]\n' +
    '  --port N    port to listen on (default: $PORT, else 8080)\n' +
    '  --isolate   add COOP/COEP/CORP headers (cross-origin isolation)\n';
}

function parseArgs(argv) {
  const opts = { port: process.env.PORT ?? '8080', isolate: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--isolate') opts.isolate = true;
    else if (arg === '--port') opts.port = argv[++i];
    else if (arg.startsWith('--port=')) opts.port = arg.slice('--port='.length);
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(usage());
      process.exit(0);
    } else {
      process.stderr.write(`serve: unknown option '${arg}'\n${usage()}`);
      process.exit(2);
    }
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve: invalid port '${opts.port}'\n`);
    process.exit(2);
  }
  return { port, isolate: opts.isolate };
}

function baseHeaders(isolate) {
  const h = {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // A development server: always revalidate so a rebuilt module is picked up on reload.
    'Cache-Control': 'no-cache',
  };
  if (isolate) {
    h['Cross-Origin-Opener-Policy'] = 'same-origin';
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    h['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return h;
}

function isUnder(root, p) {
  return p === root || p.startsWith(root + path.sep);
}

// Maps a URL path to a file under ROOT, or null. Both the lexical path and the real path (after
// symlinks) must stay under ROOT; a directory maps to its index.html.
async function resolveFile(urlPath, realRoot) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { error: 400 };
  }
  if (decoded.includes('\0')) return { error: 400 };
  let file = path.resolve(ROOT, '.' + path.posix.normalize('/' + decoded));
  if (!isUnder(ROOT, file)) return { error: 403 };
  let info;
  try {
    info = await stat(file);
    if (info.isDirectory()) {
      // Relative links in dir/index.html resolve against dir/, so /dir must become /dir/.
      // Leading slashes collapse so the Location can never read as //other-host/.
      if (!urlPath.endsWith('/')) return { redirect: '/' + urlPath.replace(/^\/+/, '') + '/' };
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
  } catch {
    return { error: 404 };
  }
  if (!info.isFile()) return { error: 404 };
  const real = await realpath(file);
  if (!isUnder(realRoot, real)) return { error: 403 };
  return { file: real, size: info.size };
}

const STATUS_TEXT = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

function main() {
  const { port, isolate } = parseArgs(process.argv.slice(2));
  const headers = baseHeaders(isolate);

  const server = createServer(async (req, res) => {
    const send = (status, extra = {}) => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
      res.end(req.method === 'HEAD' ? undefined : `${status} ${STATUS_TEXT[status]}\n`);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { Allow: 'GET, HEAD' });
      const urlPath = new URL(req.url, 'http://localhost').pathname;
      const realRoot = await realpath(ROOT);
      const found = await resolveFile(urlPath, realRoot);
      if (found.error) return send(found.error);
      if (found.redirect) {
        res.writeHead(301, { ...headers, Location: found.redirect });
        return res.end();
      }
      const type = MIME[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': found.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(found.file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (err) {
      process.stderr.write(`serve: ${req.method} ${req.url}: ${err.message}\n`);
      if (!res.headersSent) send(404);
      else res.destroy();
    }
  });

  server.on('error', (err) => {
    const why = err.code === 'EADDRINUSE' ? `port ${port} is already in use (try --port or PORT=)` : err.message;
    process.stderr.write(`serve: ${why}\n`);
    process.exit(1);
  });

  server.listen(port, HOST, () => {
    const actual = server.address().port;
    process.stdout.write(`Serving ${ROOT} at http://localhost:${actual}/ (bound to ${HOST} only` +
      `${isolate ? ', cross-origin isolated' : ''}). Ctrl-C stops.\n`);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      server.close();
      server.closeAllConnections();
      process.exit(0);
    });
  }
}

main();
