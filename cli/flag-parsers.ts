/**
 * How every flag of every command is read, in one place: each parser turns
 * the text of a flag (or of its environment variable) into a value, or
 * throws commander's InvalidArgumentError with what the value must be. The
 * CLI prints that as one line and exits 2 (see main.ts), so bad input never
 * reaches the code that would fail on it later with a stack.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { parseByteSize } from '../common/byte-size.js';
import { TrustedPeers } from '../proxy/traffic/trusted-peers.js';

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A port number; 0 asks the kernel for a free one. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be an integer ≥ 0');
  return n;
}

/** Bytes, `k`, `m` or `g` (nginx syntax); 0 is allowed (the flag says what it means). */
export function byteSize(value: string): number {
  const bytes = parseByteSize(value);
  if (bytes === undefined)
    throw new InvalidArgumentError('must be bytes, optionally with k, m or g (for example 4m)');
  return bytes;
}

export function positiveByteSize(value: string): number {
  const bytes = byteSize(value);
  if (bytes < 1) throw new InvalidArgumentError('must be at least 1 byte');
  return bytes;
}

/** A file that exists and can be read now, so that a typo fails at once and not as a start-up stack. */
export function readableFile(value: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(value).isFile();
    accessSync(value, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message,
    );
  }
  if (!isFile) throw new InvalidArgumentError('not a file');
  return value;
}

/** An address to listen on: an IP literal, or `localhost`. A host name would be resolved at bind time. */
export function bindAddress(value: string): string {
  if (isIP(value) === 0 && value !== 'localhost')
    throw new InvalidArgumentError('must be an IP address (such as 0.0.0.0, 127.0.0.1 or ::) or localhost');
  return value;
}

function items(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An http or https URL with a host, such as http://127.0.0.1:8001. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL (for example http://127.0.0.1:8001)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname)
    throw new InvalidArgumentError(`"${value}" must be an http:// or https:// URL with a host`);
  return value;
}

/** Comma-separated http(s) URLs; a repeated flag adds to the list. */
export function httpUrlList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...items(value).map(httpUrl)];
}

/** Comma-separated IPs and CIDRs, checked by the same code the proxy matches peers with. */
export function cidrList(value: string): string[] {
  const list = items(value);
  try {
    new TrustedPeers(list);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return list;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** A Kubernetes namespace name (an RFC 1123 label). */
export function namespace(value: string): string {
  if (!DNS_LABEL.test(value))
    throw new InvalidArgumentError(
      `"${value}" is not a namespace name (lower-case letters, digits and "-", at most 63)`,
    );
  return value;
}

/** Comma-separated namespaces; a repeated flag adds to the list. */
export function namespaceList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...items(value).map(namespace)];
}

/** A Kubernetes object name such as an IngressClass's (an RFC 1123 subdomain). */
export function objectName(value: string): string {
  if (!DNS_NAME.test(value))
    throw new InvalidArgumentError(
      `"${value}" is not a Kubernetes name (lower-case letters, digits, "-" and ".")`,
    );
  return value;
}

/** `namespace/name`, or `name` in the default namespace. */
export function namespacedName(value: string): string {
  const [first, second, ...rest] = value.split('/');
  if (rest.length > 0 || (second === undefined ? !DNS_NAME.test(first!) : !DNS_LABEL.test(first!)))
    throw new InvalidArgumentError(`"${value}" must be namespace/name`);
  if (second !== undefined) objectName(second);
  return value;
}

/** Comma-separated IPs or DNS names, as in an Ingress's status.loadBalancer; a repeated flag adds. */
export function hostList(value: string, previous: string[] | undefined): string[] {
  const hosts = items(value);
  for (const host of hosts)
    if (isIP(host) === 0 && !DNS_NAME.test(host.toLowerCase()))
      throw new InvalidArgumentError(`"${host}" is not an IP address or a DNS name`);
  return [...(previous ?? []), ...hosts];
}
