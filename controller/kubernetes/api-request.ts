/**
 * Plain JSON requests to the Kubernetes API with a client-node KubeConfig
 * (server, credentials and TLS from the kubeconfig). Objects come back as the
 * API server sent them, exactly like watch events: no model classes, no Date
 * conversion, so list results and watch events have the same shape.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A non-2xx answer; `statusCode` is what client-node's informers look at (410 means relist). */
export class KubernetesApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubernetesApiError';
  }
}

export interface ApiRequestOptions {
  body?: unknown;
  /** Default `application/json`; use `application/merge-patch+json` or `application/json-patch+json` for PATCH. */
  contentType?: string;
  timeoutMs?: number;
}

export async function apiRequest<T = unknown>(
  kubeConfig: KubeConfig,
  method: string,
  path: string,
  options: ApiRequestOptions = {},
): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const requestOptions: RequestOptions = {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined
        ? {
            'content-type': options.contentType ?? 'application/json',
            'content-length': Buffer.byteLength(body),
          }
        : {}),
    },
    timeout: options.timeoutMs ?? 30_000,
  };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        if (status >= 200 && status < 300) {
          resolve(parsed as T);
          return;
        }
        const statusBody = (parsed ?? {}) as { reason?: string; message?: string };
        reject(
          new KubernetesApiError(
            status,
            statusBody.reason,
            `${method} ${url.pathname}: ${status} ${statusBody.message ?? res.statusMessage ?? ''}`.trim(),
          ),
        );
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * An error fit to log from the watch paths: API errors carry only method,
 * path, status and the server's message; anything else (a JSON parse error
 * quotes its input, which could be Secret data or a KongPlugin's inline
 * secret) is reduced to its name and code.
 */
export function errorSummary(err: unknown): string {
  if (err instanceof KubernetesApiError) return err.message;
  const { name, code } = (err ?? {}) as { name?: string; code?: string };
  return [name ?? 'Error', code].filter(Boolean).join(' ');
}
