/**
 * Serialises a CompiledConfig to exactly the text JSON.stringify gives (the
 * text that is hashed and pushed), reusing the text of each VirtualHost
 * object it has written before. A Translator hands back the same
 * VirtualHost object for a host whose routes did not change, so after a
 * small change only the changed hosts are serialised again.
 */
import type { CompiledConfig, VirtualHost } from '../contract/compiled-config.js';

/** Stands in for the virtual hosts; JSON.stringify writes it as `"\u0000…"`, which no real value produces there. */
const MARK = '\u0000portcullis:virtual-hosts';
const MARKED = `"virtualHosts":${JSON.stringify(MARK)}`;

export class ConfigWriter {
  /** Weak: a host's text goes when the Translator lets go of its VirtualHost. */
  readonly #hosts = new WeakMap<VirtualHost, string>();

  write(config: CompiledConfig): string {
    const hosts: string[] = [];
    for (const host of config.virtualHosts) {
      let text = this.#hosts.get(host);
      if (text === undefined) this.#hosts.set(host, (text = JSON.stringify(host)));
      hosts.push(text);
    }
    // Same keys in the same order, the hosts swapped for the mark. Keys before
    // virtualHosts hold only strings, where a quote is always escaped, so the
    // first unescaped `"virtualHosts":"` is the mark.
    const text = JSON.stringify({ ...config, virtualHosts: MARK });
    const at = text.indexOf(MARKED);
    return `${text.slice(0, at)}"virtualHosts":[${hosts.join(',')}]${text.slice(at + MARKED.length)}`;
  }
}
