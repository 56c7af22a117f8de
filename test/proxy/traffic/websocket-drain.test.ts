/**
 * A WebSocket upgrade read once the drain has begun is refused with the
 * coded 503 and Connection: close, before routing or any plugin.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { handleUpgrade } from '../../../proxy/traffic/websocket.js';
import { TrustedPeers } from '../../../proxy/traffic/trusted-peers.js';

let server: Server | undefined;
afterEach(() => void server?.close());

async function upgradeAnswer(draining: boolean): Promise<string> {
  server = createServer();
  server.on(
    'upgrade',
    handleUpgrade({
      current: () => undefined,
      draining: () => draining,
      log: pino({ level: 'silent' }),
      options: { httpsRedirectPort: 443 },
      trusted: new TrustedPeers([]),
    }),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  await new Promise((resolve) => socket.on('close', resolve));
  return received;
}

it('draining: 503 PCS_SHUTTING_DOWN, Connection: close', async () => {
  const answer = await upgradeAnswer(true);
  expect(answer).toMatch(/^HTTP\/1\.1 503/);
  expect(answer.toLowerCase()).toContain('connection: close');
  expect(answer).toContain('"PCS_SHUTTING_DOWN"');
});

it('not draining: the usual path (here: no config yet)', async () => {
  expect(await upgradeAnswer(false)).toContain('"PCS_NOT_READY"');
});
