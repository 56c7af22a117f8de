/**
 * Fits the demo's manifests to the ports it runs on: the openid-connect
 * issuer and redirect_uri, and the loopback EndpointSlices (with their
 * Services' targetPort) that lead to the echo upstream. Pure: text in, text
 * and a list of changes out. Only the values are rewritten, in place, so a
 * fitted copy keeps every comment and the author's layout.
 *
 * With the default ports nothing changes in examples/demo. The same function
 * checks a folder the demo is asked to use: any change it would make is a
 * mismatch the user must hear about (the proxy would call the wrong port).
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import { demoCallback, demoIssuer, type DemoPorts } from './ports.js';

export interface ManifestFile {
  /** Shown in messages; relative to the manifest folder. */
  path: string;
  text: string;
}

export interface FitChange {
  file: string;
  /** `Kind namespace/name` */
  object: string;
  field: string;
  from: string;
  to: string;
}

interface Edit {
  start: number;
  end: number;
  replacement: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return LOOPBACK.has(url.hostname) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `value` with its origin replaced by the origin of `target` (the path and query kept). */
function withOrigin(url: URL, target: string): string {
  const to = new URL(target);
  return `${to.origin}${url.pathname}${url.search}`;
}

const str = (node: unknown): string | undefined =>
  isScalar(node) && typeof node.value === 'string' ? node.value : undefined;

function objectName(doc: Document): string {
  const kind = str(doc.get('kind', true)) ?? '?';
  const namespace = str(doc.getIn(['metadata', 'namespace'], true)) ?? 'default';
  const name = str(doc.getIn(['metadata', 'name'], true)) ?? '?';
  return `${kind} ${namespace}/${name}`;
}

class FileFitter {
  readonly edits: Edit[] = [];
  readonly changes: FitChange[] = [];

  constructor(readonly file: ManifestFile) {}

  /** Replaces a scalar's source text when its value differs. */
  set(doc: Document, node: Node | undefined, field: string, to: string | number): void {
    if (!isScalar(node) || !node.range) return;
    const from = String(node.value);
    if (from === String(to)) return;
    const [start, end] = node.range;
    // Keep the author's quoting style for strings; numbers are written bare.
    const quote = node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : '';
    this.edits.push({ start, end, replacement: `${quote}${String(to)}${quote}` });
    this.changes.push({ file: this.file.path, object: objectName(doc), field, from, to: String(to) });
  }

  result(): string {
    let text = this.file.text;
    for (const edit of [...this.edits].sort((a, b) => b.start - a.start))
      text = text.slice(0, edit.start) + edit.replacement + text.slice(edit.end);
    return text;
  }
}

function fitPlugin(fitter: FileFitter, doc: Document, ports: DemoPorts): void {
  const config = doc.get('config', true);
  if (!isMap(config)) return;
  const issuer = config.get('issuer', true) as Node | undefined;
  const issuerUrl = str(issuer) === undefined ? undefined : isLoopbackUrl(str(issuer)!);
  if (issuerUrl) fitter.set(doc, issuer, 'config.issuer', withOrigin(issuerUrl, demoIssuer(ports)));
  const redirect = config.get('redirect_uri', true);
  const items = isSeq(redirect) ? redirect.items : [redirect];
  items.forEach((item, i) => {
    const url = str(item) === undefined ? undefined : isLoopbackUrl(str(item)!);
    if (url) fitter.set(doc, item as Node, `config.redirect_uri[${i}]`, withOrigin(url, demoCallback(ports)));
  });
}

/** Loopback slices: their ports become the upstream's; returns the Service they belong to. */
function fitSlice(fitter: FileFitter, doc: Document, ports: DemoPorts): string | undefined {
  const endpoints = doc.get('endpoints', true);
  const addresses = isSeq(endpoints)
    ? endpoints.items.flatMap((e) => {
        const a = isMap(e) ? e.get('addresses', true) : undefined;
        return isSeq(a) ? a.items.map((x) => str(x) ?? '') : [];
      })
    : [];
  if (addresses.length === 0 || !addresses.every((a) => a === '127.0.0.1' || a === '::1')) return undefined;
  const slicePorts = doc.get('ports', true);
  if (isSeq(slicePorts))
    slicePorts.items.forEach((p, i) => {
      if (isMap(p)) fitter.set(doc, p.get('port', true) as Node, `ports[${i}].port`, ports.upstream);
    });
  const namespace = str(doc.getIn(['metadata', 'namespace'], true)) ?? 'default';
  const service = str(doc.getIn(['metadata', 'labels', 'kubernetes.io/service-name'], true));
  return service === undefined ? undefined : `${namespace}/${service}`;
}

function fitService(fitter: FileFitter, doc: Document, ports: DemoPorts): void {
  const servicePorts = doc.getIn(['spec', 'ports'], true);
  if (!isSeq(servicePorts)) return;
  servicePorts.items.forEach((p, i) => {
    const target = isMap(p) ? p.get('targetPort', true) : undefined;
    if (isScalar(target) && typeof target.value === 'number')
      fitter.set(doc, target, `spec.ports[${i}].targetPort`, ports.upstream);
  });
}

/** The files with the demo's ports written in, and what was changed. */
export function fitManifests(
  files: ManifestFile[],
  ports: DemoPorts,
): { files: ManifestFile[]; changes: FitChange[] } {
  const parsed = files.map((file) => ({
    fitter: new FileFitter(file),
    docs: parseAllDocuments(file.text) as Document[],
  }));
  const loopbackServices = new Set<string>();
  for (const { fitter, docs } of parsed) {
    for (const doc of Array.isArray(docs) ? docs : []) {
      const kind = str(doc.get('kind', true));
      if (
        (kind === 'KongPlugin' || kind === 'KongClusterPlugin') &&
        str(doc.get('plugin', true)) === 'openid-connect'
      )
        fitPlugin(fitter, doc, ports);
      if (kind === 'EndpointSlice') {
        const service = fitSlice(fitter, doc, ports);
        if (service) loopbackServices.add(service);
      }
    }
  }
  for (const { fitter, docs } of parsed) {
    for (const doc of Array.isArray(docs) ? docs : []) {
      const namespace = str(doc.getIn(['metadata', 'namespace'], true)) ?? 'default';
      const name = str(doc.getIn(['metadata', 'name'], true));
      if (str(doc.get('kind', true)) === 'Service' && loopbackServices.has(`${namespace}/${name}`))
        fitService(fitter, doc, ports);
    }
  }
  return {
    files: parsed.map(({ fitter }) => ({ path: fitter.file.path, text: fitter.result() })),
    changes: parsed.flatMap(({ fitter }) => fitter.changes),
  };
}

/** One line per change, as the demo prints a mismatch. */
export function describeChange(change: FitChange): string {
  return `${change.file}: ${change.object} ${change.field} is ${change.from}, the demo needs ${change.to}`;
}
