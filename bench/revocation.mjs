#!/usr/bin/env node
/**
 * `npm run bench`, last part: revocation latency (issue 10). `portcullis run
 * --manifests DIR` serves a route with openid-connect (bearer JWTs from the
 * benchmark IdP fixture) and application-registration; the client's token
 * is verified once and then cached. Each round, side by side in one run:
 *
 * - baseline: an Ingress file is rewritten with a new path; time from the
 *   write to the first 200 on that path (the controller's change-to-serve);
 * - revocation: the ApplicationRegistration file is rewritten Revoked; time
 *   from the write to the first 403 for the cached token;
 * - approval: rewritten Approved again; time to the first 200.
 *
 * Target: revocation p99 under 1 s. Progress on stderr, Markdown on stdout,
 * JSON in bench/results/revocation-latest.json. See docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp } from './oidc-idp.mjs';
import { installCleanup } from './processes.mjs';
import { put, startRun } from './portcullis-run.mjs';
import { writeJson } from './report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REVOCATION_P99_MAX_MS = 1000;
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}

function get(agent, port, urlPath, headers = {}) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

/** Polls every 5 ms until `urlPath` answers `status`; the time since `since`, in ms. */
async function until(agent, port, urlPath, headers, status, since, boundMs = 15_000) {
  for (;;) {
    if ((await get(agent, port, urlPath, headers)) === status) return performance.now() - since;
    if (performance.now() - since > boundMs) throw new Error(`${urlPath} never answered ${status}`);
    await sleep(5);
  }
}

const registration = (state) => `apiVersion: portcullis.dev/v1alpha1
kind: ApplicationRegistration
metadata: { name: bench.bench.api, namespace: bench }
spec:
  application: { namespace: bench, name: bench }
  service: api
  state: ${state}
`;

const plainIngress = (p) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: plain, namespace: bench }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${p}, pathType: Prefix, backend: { service: { name: plain, port: { number: 80 } } } }
`;

function manifests(idp, upstreamPort) {
  return `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: bench, annotations: { konghq.com/plugins: "oidc,apps" } }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: api-local, namespace: bench, labels: { kubernetes.io/service-name: api } }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
---
apiVersion: v1
kind: Service
metadata: { name: plain, namespace: bench }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: plain-local, namespace: bench, labels: { kubernetes.io/service-name: plain } }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: oidc, namespace: bench }
plugin: openid-connect
config:
  issuer: ${idp.issuer}
  auth_methods: [bearer]
  consumer_claim: [application_id]
  consumer_by: [custom_id]
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: apps, namespace: bench }
plugin: application-registration
config: { display_name: Bench API }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: api, namespace: bench }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: /api, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
---
apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: bench, namespace: bench }
spec:
  clientId: bench-app
  registrations: [{ service: { namespace: bench, name: api } }]
`;
}

async function main() {
  const { values } = parseArgs({
    strict: false,
    options: { rounds: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } },
  });
  if (values.only && !values.only.split(',').includes('revocation')) {
    console.error('revocation benchmark: skipped (--only does not name revocation)');
    return;
  }
  const rounds = Math.max(5, Math.min(200, Number(values.rounds ?? 50) || 50));
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench/results/revocation-latest.json'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'portcullis-revocation-bench-'));
  const shutdown = installCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  setTimeout(() => void shutdown(4, 'revocation benchmark: over 300 s; stopping'), 300_000).unref();

  const upstream = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const idp = await startIdp();
  const dir = path.join(tmp, 'manifests');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'cluster.yaml'), manifests(idp, upstream.address().port));
  writeFileSync(path.join(dir, 'registration.yaml'), registration('Approved'));
  writeFileSync(path.join(dir, 'plain.yaml'), plainIngress('/edit-0'));

  const { ports } = await startRun({ dir, workers: 1, logFile: path.join(tmp, 'run.log') });
  const httpPort = ports.http;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const bearer = { authorization: `Bearer ${await idp.sign({ application_id: 'bench-app' })}` };
  await until(agent, httpPort, '/api/x', bearer, 200, performance.now());

  const edit = [];
  const revoke = [];
  const approve = [];
  console.error(`Revocation benchmark: ${rounds} rounds`);
  for (let k = 1; k <= rounds; k++) {
    // Off the folder's rescan and the controller's hold-off beats.
    await sleep(100 + Math.random() * 200);
    let t = performance.now();
    put(dir, 'plain.yaml', plainIngress(`/edit-${k}`));
    edit.push(await until(agent, httpPort, `/edit-${k}/x`, {}, 200, t));
    await sleep(100 + Math.random() * 200);
    t = performance.now();
    put(dir, 'registration.yaml', registration('Revoked'));
    revoke.push(await until(agent, httpPort, '/api/x', bearer, 403, t));
    await sleep(100 + Math.random() * 200);
    t = performance.now();
    put(dir, 'registration.yaml', registration('Approved'));
    approve.push(await until(agent, httpPort, '/api/x', bearer, 200, t));
  }
  const summary = (values) => ({
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
  });
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    rounds,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    edit: summary(edit),
    revoke: summary(revoke),
    approve: summary(approve),
    raw: {
      edit: edit.map((x) => round(x)),
      revoke: revoke.map((x) => round(x)),
      approve: approve.map((x) => round(x)),
    },
  };
  const pass = results.revoke.p99 < REVOCATION_P99_MAX_MS;
  results.checks = [{ name: `revocation p99 < ${REVOCATION_P99_MAX_MS} ms`, status: pass ? 'PASS' : 'FAIL' }];
  writeJson(out, results);
  const row = (name, s, base) =>
    `| ${name} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} | ${round(s.p50 / base.p50, 2)}x |`;
  console.log(`\n## Revocation (write to first answer, ms, ${rounds} rounds)\n
| Change | p50 | p90 | p99 | max | p50 / edit p50 |
| --- | --- | --- | --- | --- | --- |
${row('Ingress path edit (baseline): first 200', results.edit, results.edit)}
${row('Registration Revoked: first 403 (cached token)', results.revoke, results.edit)}
${row('Registration Approved: first 200', results.approve, results.edit)}

${results.checks.map((c) => `- ${c.status} ${c.name}`).join('\n')}
`);
  await idp.close();
  upstream.close();
  await shutdown(0);
}

await main();
