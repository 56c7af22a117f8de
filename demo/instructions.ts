/**
 * What `portcullis demo` prints once everything is up: where each piece
 * listens, then numbered steps of commands ready to paste. Pure text from the
 * ports and paths, so docs/demo.md can show exactly this (a test compares
 * them) and the end-to-end test can run every command it prints.
 *
 * Layout, relied on by that test: a command is a line indented by exactly
 * four spaces; the line after it may be `    # → <status> …`, the answer it
 * gets. Commands are POSIX shell.
 */
import { APPROVED, DEMO_USER, GATEWAY, PENDING, type DemoClient } from './demo-clients.js';
import { demoIssuer, proxyOrigin, DEMO_ADDRESS, type DemoPorts } from './ports.js';

export interface InstructionsInput {
  ports: DemoPorts;
  /** How to run the CLI from the user's directory, e.g. `node dist/cli/main.js`. */
  cli: string;
  /** The manifest folder as the user should type it. */
  manifests: string;
}

/** The one registration file the revoke step edits, relative to the manifest folder. */
export const REVOKE_FILE = 'payments/billing-registration.yaml';

/** The browser login's registration (the storefront Application). */
export const STOREFRONT_FILE = 'payments/storefront-registration.yaml';

/** Quotes a path for the shell only when it needs it. */
const sh = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

export function demoInstructions(input: InstructionsInput): string {
  const { ports } = input;
  const api = `${proxyOrigin(ports)}/payments/charges`;
  const controller = `http://${DEMO_ADDRESS}:${ports.controller}`;
  const basic = (c: DemoClient) => `curl -i -u ${c.id}:${c.secret} ${api}`;
  const inFolder = (file: string) => sh(`${input.manifests.replace(/\/$/, '')}/${file}`);
  const registration = inFolder(REVOKE_FILE);
  const token =
    `TOKEN=$(curl -s -u ${APPROVED.id}:${APPROVED.secret} -d grant_type=client_credentials -d scope=api:read ` +
    `${demoIssuer(ports)}/v1/token | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`;
  const lines = [
    'Portcullis demo: everything on 127.0.0.1. Ctrl-C stops it all.',
    '',
    `  proxy       ${proxyOrigin(ports)}  (HTTPS ${ports.https}, status ${ports.status}, admin ${ports.admin})`,
    `  controller  ${controller}  (readiness, the portal view)`,
    `  IdP         ${demoIssuer(ports)}  (an Okta-shaped test identity provider)`,
    `  upstream    http://${DEMO_ADDRESS}:${ports.upstream}  (echoes what the proxy forwards)`,
    `  manifests   ${input.manifests}  (watched: edit a file, the proxy follows)`,
    '',
    `1. Client credentials with Basic: the proxy exchanges them at the IdP.`,
    `   ${APPROVED.application} is approved, ${PENDING.application} is still pending.`,
    '',
    `    ${basic(APPROVED)}`,
    `    # → 200, and the upstream got x-consumer-id: ${APPROVED.application}`,
    `    ${basic(PENDING)}`,
    `    # → 403 {"message":"You cannot consume this service"}`,
    '',
    '2. A token from the IdP, sent as a bearer token.',
    '',
    `    ${token}`,
    `    curl -i -H "Authorization: Bearer $TOKEN" ${api}`,
    `    # → 200`,
    '',
    '3. A browser login (authorization code with PKCE, run by the proxy). Open',
    '',
    `   ${proxyOrigin(ports)}/payments/hello`,
    '',
    `   and sign in as ${DEMO_USER.username}, password ${DEMO_USER.password}. The page shows what the upstream`,
    `   got: x-consumer-id ${GATEWAY.application} (the proxy's own client, ${GATEWAY.id}).`,
    '',
    '4. The portal view: Services with application registration, Applications and their approvals.',
    '',
    `    ${input.cli} apps --controller ${controller}`,
    `    curl -s ${controller}/portal/applications`,
    '',
    `5. Revoke ${APPROVED.application}: one line of ${registration}`,
    '   (state: Approved → Revoked). The next request is refused, within a second. The same edit',
    `   in ${inFolder(STOREFRONT_FILE)} refuses the browser's session at its next reload.`,
    '',
    `    sed -i 's/state: Approved/state: Revoked/' ${registration}`,
    `    ${basic(APPROVED)}`,
    `    # → 403 {"message":"You cannot consume this service"}`,
    `    sed -i 's/state: Revoked/state: Approved/' ${registration}`,
    `    ${basic(APPROVED)}`,
    `    # → 200 again`,
    '',
  ];
  return lines.join('\n');
}
