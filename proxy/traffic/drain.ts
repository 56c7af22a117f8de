/**
 * A worker's graceful drain of its traffic servers. Until `drain` is called
 * nothing here runs on the request path: the response class only gains its
 * keep-alive override when the drain begins.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';

/** Closes connections that went idle since the last sweep (answered with keep-alive before the drain began). */
const IDLE_SWEEP_MS = 250;

export class Drain {
  /** Read by the request handler: a request that arrives now is answered PCS_SHUTTING_DOWN. */
  active = false;
  /** The response class the traffic servers are created with. */
  readonly Response: typeof ServerResponse<IncomingMessage>;

  constructor() {
    this.Response = class TrafficResponse extends ServerResponse<IncomingMessage> {};
  }

  /**
   * Stops accepting, closes idle keep-alive connections at once and every
   * connection after its response; resolves when none is left, or after
   * `graceMs`, when whatever is still open is cut.
   */
  async drain(servers: Server[], graceMs: number): Promise<void> {
    this.active = true;
    // Node keeps a connection open after a response even once its server
    // is closed: every response from now on says `Connection: close`.
    const writeHead = ServerResponse.prototype.writeHead as (...args: unknown[]) => ServerResponse;
    Object.defineProperty(this.Response.prototype, 'writeHead', {
      configurable: true,
      writable: true,
      value: function (this: ServerResponse, ...args: unknown[]) {
        this.shouldKeepAlive = false;
        return writeHead.apply(this, args);
      },
    });
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    // close() closed the idle ones (Node 19+); these are the ones whose last
    // response began before the drain and so promised keep-alive.
    const sweep = setInterval(() => {
      for (const server of servers) server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)),
    );
    const outcome = await Promise.race([Promise.all(closed), deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (outcome === 'timeout') for (const server of servers) server.closeAllConnections();
  }
}
