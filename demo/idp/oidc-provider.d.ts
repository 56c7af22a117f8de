/**
 * Minimal ambient types for `oidc-provider@9`, which ships plain JavaScript
 * without declarations. Only the surface the test IdP touches is described;
 * everything else stays `unknown` so a misuse fails type-checking rather than
 * silently compiling against `any`.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface OidcClient {
    clientId: string;
    clientAuthMethod: string;
    redirectUris: string[];
    grantTypeAllowed(type: string): boolean;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string | string[];
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface ResourceServerInstance {
    identifier(): string;
    audience?: string | string[];
    scope: string;
    accessTokenFormat?: 'opaque' | 'jwt';
  }

  /** The token objects handed to `extraTokenClaims` and the JWT customizer. */
  export interface TokenLike {
    kind: string;
    clientId?: string;
    accountId?: string;
    scope?: string;
    gty?: string;
    resourceServer?: ResourceServerInstance;
  }

  export interface OidcContext {
    oidc: {
      client?: OidcClient;
      params: Record<string, unknown>;
      route: string;
      provider: Provider;
      entity(name: string, value: unknown): void;
    };
    method: string;
    path: string;
    status: number;
    body: unknown;
  }

  export interface AccessTokenInstance extends TokenLike {
    resourceServer?: ResourceServerInstance;
    expiration: number;
    tokenType: string;
    save(): Promise<string>;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface IdTokenInstance {
    scope: string;
    set(key: string, value: unknown): void;
    issue(opts: { use: 'idtoken' }): Promise<string>;
  }

  export interface InteractionDetails {
    uid: string;
    grantId?: string;
    prompt: {
      name: string;
      reasons: string[];
      details: {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
    };
    params: Record<string, unknown> & { client_id: string };
    session?: { accountId: string };
  }

  export interface JwtStructuredToken {
    header: Record<string, unknown> | undefined;
    payload: Record<string, unknown>;
  }

  export interface AdapterPayload {
    [key: string]: unknown;
    uid?: string;
    userCode?: string;
    grantId?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(
      name: string,
      handler: (ctx: OidcContext, next: () => Promise<void>) => Promise<void>,
      params?: string | string[] | Set<string>,
    ): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
    Grant: {
      new (init: { accountId: string; clientId: string }): GrantInstance;
      find(id: string): Promise<GrantInstance | undefined>;
    };
    AccessToken: new (init: {
      accountId?: string;
      client: OidcClient;
      grantId?: string;
      gty: string;
      scope?: string;
    }) => AccessTokenInstance;
    IdToken: new (claims: Record<string, unknown>, opts: { ctx: OidcContext }) => IdTokenInstance;
    ResourceServer: new (identifier: string, info: ResourceServerInfo) => ResourceServerInstance;
    Client: { Schema: { prototype: { invalidate(message: string, code?: string): void } } };
  }

  export const errors: {
    InvalidGrant: new (description: string) => Error;
    InvalidTarget: new (description?: string) => Error;
    InvalidRequest: new (description: string) => Error;
  };

  export default Provider;
}
