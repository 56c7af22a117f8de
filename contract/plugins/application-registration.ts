import { Type, type Static } from '@sinclair/typebox';

/**
 * The `application-registration` plugin's config: Kong Gateway Enterprise's
 * schema (3.7 to 3.9, the last versions that have the plugin), field for
 * field, so a KongPlugin written for Kong works unchanged and nothing else
 * is accepted. What each field does here is in
 * docs/application-registration.md.
 */
export const ApplicationRegistrationConfig = Type.Object(
  {
    display_name: Type.String({ minLength: 1, description: 'The Service as the portal shows it.' }),
    description: Type.Optional(Type.String({ description: 'The Service, described for application teams.' })),
    auto_approve: Type.Boolean({
      default: false,
      description: 'Approve an Application that asks for the Service without an ApplicationRegistration.',
    }),
    show_issuer: Type.Boolean({
      default: false,
      description: 'Show the openid-connect issuer in the portal view, for applications to get tokens from.',
    }),
    enable_proxy_with_consumer_credential: Type.Boolean({
      default: false,
      description:
        'Let through a caller that an authenticating plugin verified but mapped to no Application (consumer_optional).',
    }),
  },
  { additionalProperties: false },
);

export type ApplicationRegistrationConfig = Static<typeof ApplicationRegistrationConfig>;
