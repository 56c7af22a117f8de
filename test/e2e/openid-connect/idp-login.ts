/**
 * Tokens from the test IdP the way an application gets them: a login by
 * authorization code with PKCE (`completeLogin` fills the IdP's form), for
 * the tests of the auth methods that take what such a login yields (an
 * opaque userinfo token, a refresh token).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fetch } from 'undici';
import { expect } from 'vitest';
import type { TestIdp } from './fixture.js';

export const CALLBACK = 'http://127.0.0.1/cb';
/** A client whose logins get plain OpenID Connect access tokens: opaque, good at userinfo only. */
export const PROFILE_APP = {
  clientId: 'profile-app',
  clientSecret: 'profile-app-secret',
  kind: 'application' as const,
  grantTypes: ['authorization_code', 'refresh_token'],
  responseTypes: ['code'],
  redirectUris: [CALLBACK],
  postLogoutRedirectUris: [],
  roles: [],
  opaqueTokens: false,
  userinfoTokens: true,
};

export interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
}

export async function endpoints(target: TestIdp): Promise<Endpoints> {
  return (await (await fetch(target.discoveryUrl)).json()) as Endpoints;
}

const basicAuth = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Alice's tokens from a login by authorization code (with PKCE) for `client`. */
export async function login(
  target: TestIdp,
  client: { clientId: string; clientSecret: string },
  scope: string,
): Promise<{ access_token: string; refresh_token?: string; id_token?: string }> {
  const { authorization_endpoint, token_endpoint } = await endpoints(target);
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: CALLBACK,
    scope,
    state: randomUUID(),
    nonce: randomUUID(),
    // oidc-provider grants offline_access only with a consent prompt.
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const alice = target.users.alice!;
  const { callbackUrl } = await target.completeLogin(url, {
    username: alice.username,
    password: alice.password,
  });
  const code = new URL(callbackUrl).searchParams.get('code');
  if (!code) throw new Error(`no code in ${callbackUrl}`);
  const res = await fetch(token_endpoint, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    }).toString(),
  });
  const tokens = (await res.json()) as { access_token?: string; refresh_token?: string; id_token?: string };
  if (!tokens.access_token) throw new Error(`token endpoint: ${JSON.stringify(tokens)}`);
  return tokens as { access_token: string };
}

export async function revoke(target: TestIdp, token: string, hint: string): Promise<void> {
  const { revocation_endpoint } = await endpoints(target);
  const gw = target.gateway;
  const res = await fetch(revocation_endpoint, {
    method: 'POST',
    headers: {
      authorization: basicAuth(gw.clientId, gw.clientSecret!),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token, token_type_hint: hint }).toString(),
  });
  expect(res.status).toBe(200);
}

export const userinfoToken = (target: TestIdp) =>
  login(target, PROFILE_APP, 'openid profile email').then((t) => t.access_token);
export const gatewayRefreshToken = async (target: TestIdp) => {
  const tokens = await login(
    target,
    { clientId: target.gateway.clientId, clientSecret: target.gateway.clientSecret! },
    'openid profile offline_access',
  );
  if (!tokens.refresh_token) throw new Error('no refresh token');
  return tokens.refresh_token;
};
