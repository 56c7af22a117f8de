/**
 * EXPERIMENTAL, bench only: a Bun.serve forwarding path behind Portcullis's
 * own route table, request checks and header policy, to measure what a
 * Bun-native proxy would keep of Bun's HTTP stack (docs/benchmarks.md, "Bun").
 *
 * It reuses the build's runtime-neutral modules (RuntimeConfig: routing,
 * balancers; resolveRequest; upstreamRequestHeaders/clientResponseHeaders;
 * TrafficMetrics) and replaces only fastify + node:http + undici with
 * Bun.serve + fetch. Not covered: plugins (they take fastify's request and
 * reply, so a route with any fails closed with 503 here), request body
 * limits, retries, timeouts, TLS, WebSockets, drain, config pushes, workers.
 *
 * Usage: bun bench/bun-serve-proxy.mjs DIST_DIR CONFIG_FILE PORT
 */
/* global Bun, Response, fetch, performance -- run by Bun, not Node */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, configFile, portText] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
const [{ RuntimeConfig }, { resolveRequest }, headers, { TrafficMetrics }, { ERROR_BODIES, ERRORS }, prom] =
  await Promise.all([
    load('proxy/runtime-config.js'),
    load('proxy/traffic/resolve.js'),
    load('proxy/traffic/headers.js'),
    load('proxy/metrics.js'),
    load('common/errors.js'),
    import('prom-client'),
  ]);

const port = Number(portText);
// Any pair will do: this prototype serves no TLS.
const runtime = new RuntimeConfig(JSON.parse(readFileSync(configFile, 'utf8')), 'bench', {
  cert: '',
  key: '',
});
const metrics = new TrafficMetrics(prom.register);

const error = (code) =>
  new Response(ERROR_BODIES[code], {
    status: ERRORS[code].status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

/** The fetch Headers as node:http's lower-cased object (repeated values joined as node:http does for most). */
function headerObject(h) {
  const out = {};
  for (const [name, value] of h) out[name] = value;
  return out;
}

async function handle(request, server) {
  const started = performance.now();
  const url = request.url;
  // request.url is absolute here; the route table wants the request target.
  const target = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  const incoming = headerObject(request.headers);
  const resolution = resolveRequest(runtime, target, incoming.host, request.method, 'http', 0, incoming);
  let response;
  let routeId = 'none';
  if (!resolution.ok) {
    response = resolution.location
      ? new Response(null, { status: resolution.status ?? 301, headers: { location: resolution.location } })
      : error(resolution.code);
  } else {
    routeId = resolution.route.id;
    const route = resolution.runtime;
    if (route.unavailable || route.plugins.length > 0) response = error('PCS_ROUTE_UNAVAILABLE');
    else {
      const origin = route.balancer.next();
      if (origin === undefined) response = error('PCS_NO_UPSTREAM_TARGETS');
      else {
        const peer = server.requestIP(request)?.address ?? '';
        const out = headers.upstreamRequestHeaders(incoming, {
          peer,
          trusted: false,
          proto: 'http',
          host: incoming.host,
          localPort: port,
          preserveHost: resolution.route.preserveHost,
          strippedPrefix: resolution.strippedPrefix,
          owned: route.owned,
        });
        try {
          const upstreamStarted = performance.now();
          const answer = await fetch(origin + resolution.upstreamPath + resolution.query, {
            method: request.method,
            headers: out,
            body: request.body,
            redirect: 'manual',
            decompress: false,
          });
          metrics.upstream(routeId, (performance.now() - upstreamStarted) / 1000);
          response = new Response(answer.body, {
            status: answer.status,
            headers: headers.clientResponseHeaders(headerObject(answer.headers)),
          });
        } catch {
          response = error('PCS_UPSTREAM_ERROR');
        }
      }
    }
  }
  // Counted when the headers go out, not when the body ends (Bun.serve has no per-response close event).
  metrics.request(routeId, request.method, response.status, (performance.now() - started) / 1000);
  return response;
}

Bun.serve({ hostname: '127.0.0.1', port, fetch: handle });
console.log(`bun-serve-proxy listening on ${port}`);
