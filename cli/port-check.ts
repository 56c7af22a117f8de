/**
 * `run` checks every port before it starts anything, so that a taken port
 * fails at once with one line naming its flag, and says so when the holder
 * is an older Portcullis proxy (one left by a `run` that was killed).
 */
import { createServer } from 'node:net';
import { isIPv6 } from 'node:net';
import { describeListenFailure, listenErrorCode } from '../common/listen-failure.js';

export interface PortToCheck {
  address: string;
  port: number;
  portFlag: string;
  addressFlag: string;
}

/** The errno code when `address:port` cannot be bound now, else undefined. */
function tryBind(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(listenErrorCode(error)));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

function url(address: string, port: number, path: string): string {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}${path}`;
}

/** What a Portcullis proxy answers there, if one does: its admin API or its status port. */
async function portcullisAt(admin: PortToCheck, status: PortToCheck): Promise<string | undefined> {
  // Loaded here: every command imports this module, few get this far.
  const { request } = await import('undici');
  const ask = async (where: PortToCheck, path: string) => {
    try {
      const res = await request(url(where.address, where.port, path), {
        headersTimeout: 1000,
        bodyTimeout: 1000,
      });
      return (await res.body.json().catch(() => ({}))) as {
        error?: unknown;
        hash?: unknown;
        status?: unknown;
      };
    } catch {
      return undefined;
    }
  };
  const config = await ask(admin, '/config');
  if (config?.error === 'PCS_ADMIN_UNAUTHORIZED' || config?.hash !== undefined)
    return `another Portcullis proxy answers on ${url(admin.address, admin.port, '')} (probably left by an earlier portcullis run that was killed); stop it first`;
  const ready = await ask(status, '/readyz');
  if (ready?.error === 'PCS_SHUTTING_DOWN')
    return `another Portcullis proxy on ${url(status.address, status.port, '')} is shutting down (it drains for at most its --drain-timeout); start again once it is gone`;
  if (ready?.error === 'PCS_NOT_READY' || ready?.status === 'ready')
    return `another Portcullis proxy answers on ${url(status.address, status.port, '')}; stop it first`;
  return undefined;
}

/**
 * The first port of `ports` that cannot be bound, as one sentence (and
 * whether an old Portcullis proxy holds it); undefined when all are free.
 * Port 0 (any free port) is not checked.
 */
export async function firstUnbindablePort(
  ports: PortToCheck[],
  proxy: { admin: PortToCheck; status: PortToCheck },
): Promise<{ message: string; failure: PortToCheck & { code: string } } | undefined> {
  for (const where of ports) {
    if (where.port === 0) continue;
    const code = await tryBind(where.address, where.port);
    if (code === undefined) continue;
    const holder = code === 'EADDRINUSE' ? await portcullisAt(proxy.admin, proxy.status) : undefined;
    const message = describeListenFailure({ ...where, code });
    return { message: holder ? `${message}: ${holder}` : message, failure: { ...where, code } };
  }
  return undefined;
}
