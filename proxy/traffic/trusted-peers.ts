import { BlockList, isIP } from 'node:net';

/** Peers (addresses or CIDRs) whose X-Forwarded-* headers describe the real client. */
export class TrustedPeers {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[]) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) throw new Error(`trusted proxy "${entry}" is not an IP address or CIDR`);
      if (bits === undefined) this.#list.addAddress(address, type);
      else {
        const prefix = Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv6' ? 128 : 32)) {
          throw new Error(`trusted proxy "${entry}" has an invalid prefix length`);
        }
        this.#list.addSubnet(address, prefix, type);
      }
    }
  }

  has(peer: string): boolean {
    if (this.#empty || !peer) return false;
    return this.#list.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: IPv4 peers on a dual-stack socket, written plainly. */
export function peerAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
