/**
 * ID tokens presented as bearer access tokens, with real tokens from the
 * test IdP in each profile (Okta, Entra ID, PingFederate shapes), on routes
 * with no audience rule. An ID token is for the client that logged in, not
 * for an API (OpenID Connect Core §2, RFC 9068 §4): it must be refused even
 * when it carries no `nonce` and no token hash, while each profile's real
 * access tokens, issued in the same responses, are accepted.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type IdpProfile, type TestIdp } from '../../../demo/idp/test-idp.js';
import { expectAccepted, expectRefused, probePath } from './attack-support.js';

const PROFILES: IdpProfile[] = ['okta', 'azure', 'ping'];
/** Never reached: the login stops at the first redirect away from the IdP. */
const CALLBACK = 'http://127.0.0.1:9/callback';

const idps = {} as Record<IdpProfile, TestIdp>;
let echo: EchoServer;
let proxy: ProxyProcess;

beforeAll(async () => {
  echo = await startEcho();
  for (const profile of PROFILES) idps[profile] = await startTestIdp({ profile, redirectUris: [CALLBACK] });
  const builder = new ConfigBuilder().upstream('echo', [echo.port]);
  for (const profile of PROFILES) {
    const idp = idps[profile];
    // No audience_required: the ID token rule must hold without one.
    builder.plugin(`test/${profile}`, 'openid-connect', {
      issuer: idp.issuer,
      client_id: [idp.gateway.clientId],
      client_secret: [idp.gateway.clientSecret!],
      auth_methods: ['bearer'],
      bearer_token_param_type: ['header'],
    });
    builder.route(profile, `/${profile}`, 'echo', { plugins: [`test/${profile}`], service: 'test/echo' });
  }
  proxy = await startProxy({ workers: 2 });
  await proxy.pushOk(builder.build());
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await Promise.all(Object.values(idps).map((idp) => idp.stop()));
});

/** A browser login by the gateway client (authorization code + PKCE) that sends no nonce. */
async function codeFlowWithoutNonce(idp: TestIdp): Promise<oidc.TokenEndpointResponse> {
  const config = await oidc.discovery(
    new URL(idp.issuer),
    idp.gateway.clientId,
    idp.gateway.clientSecret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const verifier = oidc.randomPKCECodeVerifier();
  const state = randomUUID();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    response_type: 'code',
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const alice = idp.users.alice!;
  const { callbackUrl } = await idp.completeLogin(url.href, {
    username: alice.username,
    password: alice.password,
  });
  return oidc.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    idTokenExpected: true,
  });
}

async function send(profile: IdpProfile, token: string) {
  const path = probePath(`/${profile}`);
  return {
    path,
    res: await http({ port: proxy.httpPort, path, headers: { authorization: `Bearer ${token}` } }),
  };
}

describe.each(PROFILES)('%s', (profile) => {
  it('refuses the ID token of a code flow without nonce, accepts its access token', async () => {
    const idp = idps[profile];
    const tokens = await codeFlowWithoutNonce(idp);
    const idToken = decodeJwt(tokens.id_token!);
    // The evidence the rule rests on: none of the claims the old rule looked for.
    expect(idToken.aud).toBe(idp.gateway.clientId);
    for (const claim of ['nonce', 'at_hash', 'c_hash', 's_hash']) expect(idToken).not.toHaveProperty(claim);
    const refused = await send(profile, tokens.id_token!);
    expectRefused(echo, refused.path, refused.res, 401);
    expect(String(refused.res.headers['www-authenticate'])).toContain('error="invalid_token"');
    const accepted = await send(profile, tokens.access_token);
    expectAccepted(echo, accepted.path, accepted.res);
  });

  it('refuses the ID token of a password grant, accepts its access token', async () => {
    const idp = idps[profile];
    const alice = idp.users.alice!;
    const tokens = await idp.password(alice.username, alice.password, 'openid profile email');
    const refused = await send(profile, tokens.id_token!);
    expectRefused(echo, refused.path, refused.res, 401);
    const accepted = await send(profile, tokens.access_token!);
    expectAccepted(echo, accepted.path, accepted.res);
  });

  it('accepts a client-credentials access token', async () => {
    const idp = idps[profile];
    const tokens = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    const accepted = await send(profile, tokens.access_token!);
    expectAccepted(echo, accepted.path, accepted.res);
  });
});
