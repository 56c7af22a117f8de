/**
 * Serialises a CompiledConfig to exactly the text JSON.stringify gives (the
 * text that is hashed and pushed), reusing the text of each VirtualHost
 * object it has written before. A Translator hands back the same
 * VirtualHost object for a host whose routes did not change, and a patched
 * config keeps the unchanged ones (config-patch.ts), so after a small change
 * only the changed hosts are serialised again.
 */
import type { CompiledConfig, VirtualHost } from './compiled-config.js';

/** Stands in for the virtual hosts; JSON.stringify writes it as `"\u0000…"`, which no real value produces there. */
const MARK = '\u0000portcullis:virtual-hosts';
const MARKED = `"virtualHosts":${JSON.stringify(MARK)}`;

/** A config's text, and the text of everything but its virtual hosts (to tell whether that changed). */
export interface ConfigText {
  text: string;
  rest: string;
}

export class ConfigWriter {
  /** Weak: a host's text goes when nothing holds its VirtualHost any more. */
  readonly #hosts = new WeakMap<VirtualHost, string>();

  write(config: CompiledConfig): string {
    return this.writeParts(config).text;
  }

  writeParts(config: CompiledConfig): ConfigText {
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
    const text = `${rest.slice(0, at)}"virtualHosts":[${hosts.join(',')}]${rest.slice(at + MARKED.length)}`;
    return { text, rest };
  }
}
