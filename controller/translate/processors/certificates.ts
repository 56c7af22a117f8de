/**
 * TLS to certificates: every `spec.tls` entry of our Ingresses names a
 * Secret (`tls.crt`, `tls.key`) in the Ingress's namespace and the SNI hosts
 * it serves. One certificate per Secret, id `namespace/name`, with the union
 * of its hosts.
 *
 * - A host served by two different Secrets goes to the oldest Ingress.
 * - An entry without hosts makes its Secret the default certificate (the
 *   oldest such Ingress wins).
 * - The pair must parse and match (checked with node:crypto, no I/O), so a
 *   bad Secret is reported here instead of failing the proxy's TLS setup.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Certificate } from '../../../contract/compiled-config.js';
import { addProblem, type Processor, type TranslateContext } from '../context.js';
import type { Ingress, Secret } from '../k8s-types.js';
import { arr, compareStrings, normalizeHost, record, ref, refOf, secretValue, str } from '../read.js';

interface Pair {
  cert: string;
  key: string;
}

/** The Secret's certificate and key, or the reason they are unusable (never their content). */
function readPair(secret: Secret): Pair | string {
  const cert = secretValue(secret, 'tls.crt');
  const key = secretValue(secret, 'tls.key');
  if (!cert || !key) return 'has no tls.crt or no tls.key';
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return 'has a tls.key that does not match tls.crt';
  } catch {
    return 'has a tls.crt or tls.key that is not valid PEM';
  }
  return { cert, key };
}

interface Claim {
  secretKey: string;
  ingress: Ingress;
}

export const certificatesProcessor: Processor = {
  name: 'certificates',
  run(ctx: TranslateContext) {
    const pairs = new Map<string, Pair | string>();
    const hostsBySecret = new Map<string, Set<string>>();
    const hostOwners = new Map<string, Claim>();
    let defaultOwner: Claim | undefined;

    for (const ingress of ctx.ingresses) {
      const tls = arr(record(ingress.spec)?.tls);
      if (tls.length === 0) continue;
      const ingressRef = refOf('Ingress', ingress);
      const namespace = ingress.metadata.namespace!;
      for (const entry of tls) {
        const secretName = str(record(entry)?.secretName);
        if (!secretName) continue; // SNI without termination: nothing to serve
        const secretKey = `${namespace}/${secretName}`;
        const secretRef = ref('Secret', namespace, secretName);
        const secret = ctx.index.secrets.get(secretKey);
        if (!secret) {
          addProblem(ctx, 'TLS_SECRET_NOT_FOUND', `TLS Secret ${secretKey} does not exist`, [
            ingressRef,
            secretRef,
          ]);
          continue;
        }
        let pair = pairs.get(secretKey);
        // Parsing and matching the key pair is costly: once per Secret object, across calls.
        if (pair === undefined) {
          pair = ctx.memo.useFor('tls-pair', secret, ctx.problems, () => readPair(secret));
          pairs.set(secretKey, pair);
        }
        if (typeof pair === 'string') {
          addProblem(ctx, 'TLS_SECRET_INVALID', `TLS Secret ${secretKey} ${pair}`, [ingressRef, secretRef]);
          continue;
        }

        const hosts: string[] = [];
        for (const raw of arr(record(entry)?.hosts)) {
          const host = typeof raw === 'string' ? normalizeHost(raw) : undefined;
          if (host) hosts.push(host);
          else
            addProblem(ctx, 'INGRESS_HOST_INVALID', `TLS host "${String(raw)}" is not a valid host name`, [
              ingressRef,
            ]);
        }
        const claimed = hostsBySecret.get(secretKey) ?? new Set<string>();
        hostsBySecret.set(secretKey, claimed);
        if (arr(record(entry)?.hosts).length === 0) {
          if (defaultOwner && defaultOwner.secretKey !== secretKey) {
            addProblem(
              ctx,
              'DEFAULT_CERTIFICATE_CONFLICT',
              `the default certificate is already Secret ${defaultOwner.secretKey} from older Ingress ${defaultOwner.ingress.metadata.namespace}/${defaultOwner.ingress.metadata.name}`,
              [ingressRef, secretRef, refOf('Ingress', defaultOwner.ingress)],
            );
          } else defaultOwner ??= { secretKey, ingress };
        }
        for (const host of hosts) {
          const owner = hostOwners.get(host);
          if (owner && owner.secretKey !== secretKey) {
            addProblem(
              ctx,
              'CERTIFICATE_HOST_CONFLICT',
              `TLS host ${host} is already served by Secret ${owner.secretKey} from older Ingress ${owner.ingress.metadata.namespace}/${owner.ingress.metadata.name}`,
              [ingressRef, secretRef, refOf('Ingress', owner.ingress)],
            );
            continue;
          }
          if (!owner) hostOwners.set(host, { secretKey, ingress });
          claimed.add(host);
        }
      }
    }

    const certificates: Certificate[] = [];
    for (const [secretKey, hosts] of hostsBySecret) {
      const pair = pairs.get(secretKey) as Pair;
      if (hosts.size === 0 && defaultOwner?.secretKey !== secretKey) continue;
      const [namespace, name] = secretKey.split('/') as [string, string];
      certificates.push({
        id: secretKey,
        hosts: [...hosts].sort(compareStrings),
        cert: pair.cert,
        key: pair.key,
        source: ref('Secret', namespace, name),
      });
    }
    ctx.certificates = certificates.sort((a, b) => compareStrings(a.id, b.id));
    if (defaultOwner) ctx.defaultCertificate = defaultOwner.secretKey;
  },
};
