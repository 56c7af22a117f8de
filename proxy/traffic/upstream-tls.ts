import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import {
  checkServerIdentity,
  createSecureContext,
  type ConnectionOptions,
  type DetailedPeerCertificate,
  type PeerCertificate,
} from 'node:tls';
import type { UpstreamTlsVerify } from '../../contract/index.js';

/** How the proxy connects to one upstream over TLS: verified or not, built once per config. */
export interface UpstreamTls {
  /** Tells pools apart: connections made with other trust settings are never shared. */
  key: string;
  /** For undici's `connect` and https.request (no servername: see upstreamServerName). */
  options: ConnectionOptions;
}

/** Kong's default: an upstream certificate is not verified unless the Service asks. */
export const UNVERIFIED: UpstreamTls = { key: 'unverified', options: { rejectUnauthorized: false } };

/** OpenSSL's name for this failure, so every TLS refusal carries a code of the same family. */
export const CHAIN_TOO_LONG = 'CERT_CHAIN_TOO_LONG';

/** Node's codes for a certificate that failed verification (the handshake itself went through). */
const VERIFY_CODES = new Set([
  CHAIN_TOO_LONG,
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'HOSTNAME_MISMATCH',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);

/** Whether an upstream error code means its certificate was refused. */
export function isCertificateRefusal(code: string | undefined): boolean {
  return code !== undefined && VERIFY_CODES.has(code);
}

/**
 * The connect options of a verified upstream. The CA certificates go into
 * one secure context, made here once, rather than into every connection.
 * Node has no verify-depth option, so the depth is checked after the chain
 * verified, on the chain Node built (see chainDepth).
 */
export function upstreamTls(verify: UpstreamTlsVerify | undefined): UpstreamTls {
  if (!verify) return UNVERIFIED;
  const { depth, caCertificates } = verify;
  const hash = createHash('sha256');
  for (const pem of caCertificates ?? []) hash.update(pem).update('\0');
  const key = `verify|${depth ?? ''}|${caCertificates ? hash.digest('hex') : 'default-ca'}`;
  const options: ConnectionOptions = {
    rejectUnauthorized: true,
    // Without CA certificates: Node's default store (Kong: its trusted certificates).
    ...(caCertificates ? { secureContext: createSecureContext({ ca: caCertificates }) } : {}),
    checkServerIdentity: (host, cert) => {
      const error = checkServerIdentity(host, cert);
      if (error || depth === undefined) return error;
      const found = chainDepth(cert as DetailedPeerCertificate);
      if (found <= depth) return undefined;
      return Object.assign(
        new Error(`certificate chain has ${found} intermediate CA certificates, more than ${depth}`),
        { code: CHAIN_TOO_LONG },
      );
    },
  };
  return { key, options };
}

/**
 * The intermediate CA certificates between the peer certificate and the
 * trust anchor, in the verified chain: OpenSSL's verify depth counts these
 * (depth 0: the peer's issuer is the trust anchor; a trusted self-signed peer
 * certificate is 0 too). Node links each certificate to its issuer, and the
 * self-signed anchor to itself.
 */
export function chainDepth(cert: DetailedPeerCertificate): number {
  let certificates = 1;
  let current: PeerCertificate = cert;
  const seen = new Set<string>([cert.fingerprint256]);
  for (;;) {
    const issuer = (current as DetailedPeerCertificate).issuerCertificate as PeerCertificate | undefined;
    if (!issuer || seen.has(issuer.fingerprint256)) break;
    seen.add(issuer.fingerprint256);
    certificates++;
    current = issuer;
  }
  // Leaf and anchor are not counted; a lone certificate is its own anchor.
  return Math.max(0, certificates - 2);
}

/**
 * The TLS server name for a request, as Kong does: the host of the Host
 * header sent upstream (an IP address is sent as no SNI, as RFC 6066 asks,
 * and the certificate is checked against the address).
 */
export function upstreamServerName(host: string): string | undefined {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name === '' || isIP(name) !== 0 ? undefined : name;
}
