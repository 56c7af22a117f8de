/**
 * Serialises a CompiledConfig to exactly the text JSON.stringify gives (the
 * text that is hashed and pushed), reusing the text of each VirtualHost
 * object it has written before. A Translator hands back the same
 * VirtualHost object for a host whose routes did not change, and a patched
 * config keeps the unchanged ones (config-patch.ts), so after a small change
 * only the changed hosts are serialised again.
 */
import { createHash } from 'node:crypto';
import type { CompiledConfig, VirtualHost } from './compiled-config.js';

/** Stands in for the virtual hosts; JSON.stringify writes it as `"\u0000…"`, which no real value produces there. */
const MARK = '\u0000portcullis:virtual-hosts';
const MARKED = `"virtualHosts":${JSON.stringify(MARK)}`;

/**
 * A config's hash without its text: the sha256 of the text, fed part by
 * part, and the text made only if asked for. A controller whose proxies
 * take patches never needs the 8 MB string, and not making one per change
 * spares the garbage collector.
 */
export interface ConfigDigest {
  hash: string;
  /** The text of everything but the virtual hosts, to tell whether that changed. */
  rest: string;
  /** The whole text (made once, on first call). */
  text(): string;
}

export class ConfigWriter {
  /** Weak: a host's text goes when nothing holds its VirtualHost any more. */
  readonly #hosts = new WeakMap<VirtualHost, string>();

  write(config: CompiledConfig): string {
    const { head, hosts, tail } = this.#parts(config);
    return `${head}${hosts.join(',')}${tail}`;
  }

  /** The hash of `write(config)`, computed without making that string. */
  digest(config: CompiledConfig): ConfigDigest {
    const { head, hosts, tail, rest } = this.#parts(config);
    const sha = createHash('sha256').update(head);
    for (let i = 0; i < hosts.length; i++) {
      if (i > 0) sha.update(',');
      sha.update(hosts[i]!);
    }
    let text: string | undefined;
    return {
      hash: sha.update(tail).digest('hex'),
      rest,
      text: () => (text ??= `${head}${hosts.join(',')}${tail}`),
    };
  }

  #parts(config: CompiledConfig): { head: string; hosts: string[]; tail: string; rest: string } {
    const hosts: string[] = [];
    for (const host of config.virtualHosts) {
      let text = this.#hosts.get(host);
      if (text === undefined) this.#hosts.set(host, (text = JSON.stringify(host)));
      hosts.push(text);
    }
    // Same keys in the same order, the hosts swapped for the mark. Keys before
    // virtualHosts hold only strings, where a quote is always escaped, so the
    // first unescaped `"virtualHosts":"` is the mark.
    const rest = JSON.stringify({ ...config, virtualHosts: MARK });
    const at = rest.indexOf(MARKED);
    return {
      head: `${rest.slice(0, at)}"virtualHosts":[`,
      hosts,
      tail: `]${rest.slice(at + MARKED.length)}`,
      rest,
    };
  }
}
