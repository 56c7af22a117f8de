/**
 * The Node.js floor: the least a fastify + undici reverse proxy can do (one
 * upstream, no routing, no path checks, no metrics, no header policy). Run
 * beside Portcullis so the report separates what the runtime costs from what
 * Portcullis adds. Usage: node bench/node-floor-server.mjs PORT UPSTREAM_PORT
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 256, pipelining: 1 });
const app = Fastify({ logger: false });
app.all('*', (request, reply) => {
  reply.hijack();
  const res = reply.raw;
  const headers = {};
  for (const name in request.headers) {
    if (name !== 'connection' && name !== 'keep-alive') headers[name] = request.headers[name];
  }
  pool.dispatch(
    { path: request.raw.url, method: request.method, headers, body: null },
    {
      onRequestStart() {},
      onResponseStart(_c, status, headers) {
        delete headers.connection;
        delete headers['keep-alive'];
        delete headers['transfer-encoding'];
        res.writeHead(status, headers);
      },
      onResponseData(_c, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        res.statusCode = 502;
        res.end();
      },
    },
  );
});
app.get('/__ready', async () => 'ok');
await app.listen({ host: '127.0.0.1', port });
