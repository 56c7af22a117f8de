/**
 * The Bun floor: the least a Bun.serve + fetch reverse proxy can do (one
 * upstream, no routing, checks, metrics or header policy), as
 * bench/node-floor-server.mjs is for Node. Usage: bun bench/bun-floor-server.mjs PORT UPSTREAM_PORT
 */
/* global Bun, Response, fetch -- run by Bun, not Node */
const [port, upstreamPort] = process.argv.slice(2).map(Number);
const upstream = `http://127.0.0.1:${upstreamPort}`;

Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__ready') return new Response('ok');
    // Bun's fetch keeps upstream connections alive and pools them itself.
    return fetch(upstream + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      decompress: false,
    });
  },
});
