import { PortcullisError } from './errors.js';

/**
 * One clear sentence for a port that cannot be bound, naming the flag to
 * change: shared by the proxy (its workers' traffic ports, admin, status)
 * and `run` (which checks every port before it starts anything).
 */
export interface ListenFailure {
  /** The errno code: EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND, ... */
  code: string;
  address: string;
  port: number;
  /** The flag that chose the port, e.g. `--http-port`. */
  portFlag: string;
  /** The flag that chose the address, e.g. `--address`. */
  addressFlag: string;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is in use by another process',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this host has no such address',
  ENOTFOUND: 'the address does not resolve',
  EAI_AGAIN: 'the address does not resolve',
  EINVAL: 'the address is not valid',
};

/** Whether the address, rather than the port, is what to fix. */
function addressIsTheProblem(code: string): boolean {
  return code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EINVAL';
}

export function describeListenFailure(failure: ListenFailure): string {
  const { code, address, port, portFlag, addressFlag } = failure;
  const reason = REASONS[code] ?? 'the port cannot be bound';
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  return addressIsTheProblem(code)
    ? `cannot listen on ${where}: ${reason} (${code}); check ${addressFlag} ${address}`
    : `cannot listen on ${where}: ${reason} (${code}); check ${portFlag} ${port}`;
}

/** An errno code from a failed listen, if it has one. */
export function listenErrorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Binds a port, or fails with PCS_STARTUP and one sentence naming its flag. */
export async function listenOrExplain<T>(
  listen: () => Promise<T>,
  where: { address: string; port: number; portFlag: string; addressFlag: string },
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw new PortcullisError(
      'PCS_STARTUP',
      describeListenFailure({ ...where, code: listenErrorCode(error) }),
    );
  }
}
