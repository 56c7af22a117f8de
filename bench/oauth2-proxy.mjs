/**
 * nginx + oauth2-proxy, the ingress-nginx pattern for "authenticate in front
 * of a service": nginx asks oauth2-proxy with `auth_request` on every
 * request; oauth2-proxy (`--skip-jwt-bearer-tokens`) verifies the bearer JWT
 * against the IdP's JWKS (signature, issuer, audience, expiry) and answers
 * 202 or 401; on 202 nginx proxies to the upstream.
 *
 * oauth2-proxy is not a Debian package: it is built from the Go module proxy
 * (OAUTH2_PROXY_INSTALL below) and looked up on PATH and in
 * `$(go env GOPATH)/bin`. Both processes can be pinned to a CPU list with
 * taskset (`cpuList`), so the pair gets the same CPU budget as the proxy it
 * is compared with; GOMAXPROCS is set to the number of CPUs in that list.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNginx, nginxHttpConfig } from './nginx.mjs';
import { freePorts, startProcess, waitReady } from './processes.mjs';
import { findBinary, pinned } from './requirements.mjs';

export const OAUTH2_PROXY_VERSION = 'v7.15.6';
export const OAUTH2_PROXY_INSTALL = `GOFLAGS=-mod=mod go install github.com/oauth2-proxy/oauth2-proxy/v7@${OAUTH2_PROXY_VERSION}`;

/** oauth2-proxy's binary: PATH first, then the Go install directory; undefined when missing. */
export function findOauth2Proxy() {
  const onPath = findBinary('oauth2-proxy');
  if (onPath) return onPath;
  const go = findBinary('go');
  const gopath = go
    ? spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim()
    : undefined;
  const dirs = [process.env.GOBIN, gopath && path.join(gopath.split(path.delimiter)[0], 'bin')];
  dirs.push(path.join(os.homedir(), 'go', 'bin'));
  for (const dir of dirs) {
    if (dir && existsSync(path.join(dir, 'oauth2-proxy'))) return path.join(dir, 'oauth2-proxy');
  }
  return undefined;
}

/** Number of CPUs in a taskset list such as "1" or "0-1,3". */
export function cpuCount(cpuList) {
  return cpuList.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

/**
 * Start oauth2-proxy and an nginx in front of it.
 * @param {{ tmpDir: string }} ctx
 * @param {{ upstreamPort: number, issuer: string, clientId: string, clientSecret: string,
 *   host: string, bearer: string, readyPath: string, cpuList?: string, name?: string }} opts
 * @returns {Promise<import('./nginx.mjs').RunningServer & { oauth2ProxyPort: number }>}
 */
export async function startNginxOauth2Proxy(ctx, opts) {
  const bin = findOauth2Proxy();
  if (!bin) throw new Error(`oauth2-proxy not found; install with: ${OAUTH2_PROXY_INSTALL}`);
  const name = opts.name ?? 'nginx-oauth2-proxy';
  const dir = path.join(ctx.tmpDir, `${name}-auth`);
  mkdirSync(dir, { recursive: true });
  const [o2pPort, nginxPort] = await freePorts(2);
  const args = [
    '--provider=oidc',
    `--oidc-issuer-url=${opts.issuer}`,
    `--client-id=${opts.clientId}`,
    `--client-secret=${opts.clientSecret}`,
    `--cookie-secret=${randomBytes(16).toString('hex')}`,
    '--cookie-secure=false',
    '--email-domain=*',
    `--redirect-url=http://${opts.host}/oauth2/callback`,
    `--http-address=127.0.0.1:${o2pPort}`,
    // The auth_request endpoint only: 202 or 401, nothing proxied through it.
    '--upstream=static://202',
    '--skip-jwt-bearer-tokens=true',
    '--reverse-proxy=true',
    '--request-logging=false',
    '--auth-logging=false',
    '--standard-logging=false',
  ];
  const env = {
    ...process.env,
    GOMAXPROCS: String(opts.cpuList ? cpuCount(opts.cpuList) : os.availableParallelism()),
  };
  const o2p = pinned(opts.cpuList, bin, args);
  const child = startProcess(`${name}-auth`, o2p.command, o2p.args, {
    logFile: path.join(dir, 'output.log'),
    env,
  });
  try {
    await waitReady(child, `http://127.0.0.1:${o2pPort}/ping`, { timeoutMs: 15_000 });
  } catch (err) {
    await child.stop();
    throw err;
  }

  // As ingress-nginx renders `auth-url`: an internal location proxying the
  // original request's headers (not its body) to the auth service.
  const conf = (d) =>
    nginxHttpConfig(
      d,
      `  upstream u {
    server 127.0.0.1:${opts.upstreamPort};
    keepalive 64;
  }
  upstream auth {
    server 127.0.0.1:${o2pPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${nginxPort} backlog=4096;
    server_name ${opts.host};
    location = /_oauth2_auth {
      internal;
      proxy_pass http://auth/oauth2/auth;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Original-URI $request_uri;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location / {
      auth_request /_oauth2_auth;
      proxy_pass http://u;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }`,
    );
  let nginx;
  try {
    nginx = await startNginx(ctx, name, conf, nginxPort, {
      readyPath: opts.readyPath,
      headers: { Host: opts.host, Authorization: `Bearer ${opts.bearer}` },
      cpuList: opts.cpuList,
    });
  } catch (err) {
    await child.stop();
    throw err;
  }
  writeFileSync(path.join(dir, 'args.txt'), `${[o2p.command, ...o2p.args].join(' ')}\n`);
  return {
    name,
    baseUrl: nginx.baseUrl,
    port: nginxPort,
    oauth2ProxyPort: o2pPort,
    stop: async () => {
      await nginx.stop();
      await child.stop();
    },
  };
}
