import { createSecureContext, type SecureContext } from 'node:tls';
import type { CompiledConfig, Problem } from '../../contract/index.js';

export interface PemPair {
  cert: string;
  key: string;
}

/**
 * The TLS side of one config: SNI name to SecureContext, built once per
 * config so that the handshake does two map lookups at most. Swapping the
 * store swaps every certificate at once.
 */
export class CertificateStore {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>();
  readonly defaultPem: PemPair;

  private constructor(defaultPem: PemPair) {
    this.defaultPem = defaultPem;
  }

  /** Throws on a certificate that cannot be loaded; `certificateProblems` reports them first. */
  static build(config: CompiledConfig, fallback: PemPair): CertificateStore {
    const byId = new Map(config.certificates.map((c) => [c.id, c]));
    const chosen = config.defaultCertificate ? byId.get(config.defaultCertificate) : undefined;
    const store = new CertificateStore(chosen ? { cert: chosen.cert, key: chosen.key } : fallback);
    for (const certificate of config.certificates) {
      const context = createSecureContext({ cert: certificate.cert, key: certificate.key });
      for (const host of certificate.hosts) {
        // First certificate listed for a name wins; the controller orders them.
        const [map, name] = host.startsWith('*.') ? [store.#wildcard, host.slice(2)] : [store.#exact, host];
        if (!map.has(name)) map.set(name, context);
      }
    }
    return store;
  }

  /** The context for an SNI name, or undefined to use the server's default certificate. */
  lookup(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.#exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

/** Certificates that cannot be loaded (bad PEM, key not matching), naming their source. */
export function certificateProblems(config: CompiledConfig): Problem[] {
  const problems: Problem[] = [];
  config.certificates.forEach((certificate, i) => {
    try {
      createSecureContext({ cert: certificate.cert, key: certificate.key });
    } catch (error) {
      problems.push({
        path: `/certificates/${i}`,
        message: `certificate "${certificate.id}" cannot be loaded: ${(error as Error).message}`,
        source: certificate.source,
      });
    }
  });
  return problems;
}
