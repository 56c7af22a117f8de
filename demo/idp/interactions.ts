/**
 * Login and consent pages (oidc-provider leaves the end-user interaction to
 * the host application; its devInteractions are off because they refuse to
 * run outside development and their markup is not ours to rely on).
 *
 * Deliberately plain so both a headless Chromium and the HTTP-level
 * `completeLogin()` can drive it: one form with `input[name=login]`,
 * `input[name=password]` and a submit button, posted back to the IdP.
 * Consent is automatic: every requested scope and resource scope is granted
 * (first-party clients, as the gateway is for its IdP) by answering the
 * consent prompt with a 303 right away, so no second page is needed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import type { UserStore } from './users.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(action: string, clientId: string, error?: string): string {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Sign in - Portcullis test IdP</title></head>
<body>
  <h1>Sign in</h1>
  <p>to continue to <strong>${escapeHtml(clientId)}</strong></p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="${escapeHtml(action)}" autocomplete="off">
    <label>Username <input type="text" name="login" autofocus required></label>
    <label>Password <input type="password" name="password" required></label>
    <button type="submit" id="submit">Sign in</button>
  </form>
</body>
</html>`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
}

/**
 * Handles `<issuerPath>/interaction/<uid>[/login]`. Returns false when the
 * path is not an interaction path (the caller then hands it to the provider).
 */
export async function handleInteraction(
  provider: Provider,
  users: UserStore,
  prefix: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(pathname.slice(prefix.length));
  if (!pathname.startsWith(prefix) || !match) return false;
  const uid = match[1]!;
  const isLoginPost = match[2] === '/login';
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      send(res, 400, '<p>interaction mismatch</p>');
      return true;
    }
    const clientId = details.params.client_id;
    const action = `${prefix}/interaction/${uid}/login`;

    if (details.prompt.name === 'login') {
      if (!isLoginPost || req.method !== 'POST') {
        send(res, 200, loginPage(action, clientId));
        return true;
      }
      const form = await readForm(req);
      const user = users.authenticate(form.get('login'), form.get('password'));
      if (!user) {
        send(res, 200, loginPage(action, clientId, 'Invalid username or password.'));
        return true;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
      return true;
    }

    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (!accountId) throw new Error('consent prompt without a session');
      const grant =
        (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
        new provider.Grant({ accountId, clientId });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: details.grantId ? {} : { grantId } },
        { mergeWithLastSubmission: true },
      );
      return true;
    }

    send(res, 400, `<p>unsupported prompt ${escapeHtml(details.prompt.name)}</p>`);
    return true;
  } catch (err) {
    send(res, 400, `<p>interaction failed: ${escapeHtml((err as Error).message)}</p>`);
    return true;
  }
}
