/**
 * The demo's upstream: answers every request with JSON saying what the
 * proxy forwarded (method, path, headers), so a newcomer sees the
 * X-Consumer-* headers the proxy set. The access token the proxy forwards is
 * shortened in the answer: it is the upstream's to use, not the terminal's
 * to show.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOrExplain } from '../common/listen-failure.js';

export interface EchoUpstream {
  readonly port: number;
  close(): Promise<void>;
}

/** The headers as shown: an Authorization value is cut to its scheme and a few characters. */
export function shownHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    shown[name] = name === 'authorization' ? `${text.slice(0, 16)}… (shortened by the demo)` : text;
  }
  return shown;
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify(
    { upstream: 'demo echo', method: req.method, path: req.url, headers: shownHeaders(req.headers) },
    null,
    2,
  );
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(`${body}\n`);
}

export async function startEchoUpstream(address: string, port: number): Promise<EchoUpstream> {
  const server: Server = createServer((req, res) => {
    // The body is not echoed; drain it so keep-alive connections stay usable.
    req.resume();
    req.once('end', () => answer(req, res));
  });
  await listenOrExplain(
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, address, () => resolve());
      }),
    { address, port, portFlag: '--upstream-port', addressFlag: '--upstream-port' },
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
