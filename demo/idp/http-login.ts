/**
 * Drives the authorization endpoint at HTTP level, as a browser would but
 * without one: follows redirects by hand (`redirect: 'manual'`) with a small
 * path-aware cookie jar (oidc-provider's interaction cookie is scoped to the
 * interaction path and the resume cookie to the authorization path), posts
 * the login form, and stops at the first redirect leaving the IdP — the
 * client's redirect_uri, returned unfollowed — or, for `response_mode=form_post`,
 * at the page that would POST the response there: its action and fields.
 */
import { fetch, type Dispatcher } from 'undici';
import type { ImplicitResult, LoginCredentials } from './types.js';

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v || '/';
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string {
    const matching = [...this.#cookies.values()]
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function formAction(html: string): string | undefined {
  return /<form[^>]*action="([^"]+)"/i.exec(html)?.[1]?.replace(/&#38;/g, '&');
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The target and hidden fields of oidc-provider's auto-submitting form_post page, if `html` is one. */
function formPostResponse(html: string): { action: string; form: URLSearchParams } | undefined {
  if (!/<title>Submitting Callback<\/title>/.test(html)) return undefined;
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) return undefined;
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) {
    form.append(m[1]!, unescapeHtml(m[2]!));
  }
  return { action: unescapeHtml(action), form };
}

export async function completeLogin(
  authorizationUrl: string | URL,
  credentials: LoginCredentials,
  idpOrigin: string,
  dispatcher: Dispatcher | undefined,
): Promise<{ callbackUrl: string; form?: URLSearchParams }> {
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  let init: { method: string; body?: string; contentType?: string } = { method: 'GET' };
  let loginPosted = false;
  for (let hop = 0; hop < 25; hop += 1) {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(url, {
      method: init.method,
      body: init.body,
      headers,
      redirect: 'manual',
      dispatcher,
    });
    jar.store(url, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, url);
      if (next.origin !== idpOrigin) return { callbackUrl: next.href };
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const html = await res.text();
    const posted = formPostResponse(html);
    if (posted) return { callbackUrl: posted.action, form: posted.form };
    if (res.status === 200 && /name="login"/.test(html)) {
      if (loginPosted && /class="error"/.test(html)) {
        throw new Error(`login rejected for ${credentials.username}`);
      }
      const action = formAction(html);
      if (!action) throw new Error('login form without action');
      url = new URL(action, url);
      init = {
        method: 'POST',
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({ login: credentials.username, password: credentials.password }).toString(),
      };
      loginPosted = true;
      continue;
    }
    throw new Error(`unexpected ${res.status} from ${url.href}: ${html.slice(0, 500)}`);
  }
  throw new Error('too many redirects while completing login');
}

/** Parses the fragment (or query, for errors) of an implicit-flow callback. */
export function parseImplicitCallback(callbackUrl: string): ImplicitResult {
  const url = new URL(callbackUrl);
  const params = new URLSearchParams(url.hash ? url.hash.slice(1) : url.search);
  const get = (k: string): string | undefined => params.get(k) ?? undefined;
  const expires = get('expires_in');
  return {
    callbackUrl,
    access_token: get('access_token'),
    id_token: get('id_token'),
    token_type: get('token_type'),
    expires_in: expires === undefined ? undefined : Number(expires),
    scope: get('scope'),
    state: get('state'),
    iss: get('iss'),
    error: get('error'),
  };
}
