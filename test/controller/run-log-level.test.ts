/**
 * One log level for every process: `portcullis run --log-level debug` must
 * reach the proxy's workers and the plugins inside them (the openid-connect
 * plugin logs each refusal's reason at debug level, for operators only).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { RunProcess } from '../support/run-process.js';

const MANIFESTS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: demo }
spec:
  ports: [{ name: http, port: 80, targetPort: 9 }]
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: oidc, namespace: demo }
plugin: openid-connect
config:
  issuer: http://127.0.0.1:9/unused
  client_id: [gateway]
  auth_methods: [bearer]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
  namespace: demo
  annotations: { konghq.com/plugins: oidc }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: /api, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
`;

let dir: string;
let run: RunProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-log-level-'));
  await writeFile(join(dir, 'all.yaml'), MANIFESTS);
  run = await RunProcess.start(dir, ['--log-level', 'debug']);
}, 30_000);

afterAll(async () => {
  await run?.stop();
  await rm(dir, { recursive: true, force: true });
});

it("the plugin's debug decision log appears under run --log-level debug", async () => {
  const res = await http({ port: run.ports.http, path: '/api' });
  expect(res.status).toBe(401);
  const line = await eventually(
    async () =>
      run.output
        .split('\n')
        .find((l) => l.includes('"msg":"decision"') && l.includes('"outcome":"no_credentials"')),
    `a debug decision line; output:\n${run.output}`,
    5_000,
  );
  expect(JSON.parse(line).level).toBe(20);
});
