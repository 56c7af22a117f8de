// The kind test's identity provider and echo upstream, run from the image's
// build stage (it keeps the development dependencies: oidc-provider).
//
//   node support.mjs idp    the demo's Okta-shaped test IdP on 127.0.0.1:8900
//   node support.mjs echo   an echo upstream on 0.0.0.0:8080
//
// The test IdP listens on loopback and names http://127.0.0.1:8900 in its
// issuer, so run.sh runs it as a container of the Portcullis pod: the proxy
// reaches it there, and `kubectl port-forward` reaches it from the host.
import { createServer } from 'node:http';

const role = process.argv[2];
const stopOnSignals = (stop) => {
  for (const signal of ['SIGTERM', 'SIGINT'])
    process.once(signal, () => void stop().then(() => process.exit(0)));
};

if (role === 'idp') {
  const { startTestIdp } = await import('/app/dist/demo/idp/test-idp.js');
  const { idpClients } = await import('/app/dist/demo/demo-clients.js');
  const idp = await startTestIdp({
    profile: 'okta',
    port: 8900,
    clients: idpClients('http://127.0.0.1:8000/payments/callback'),
  });
  console.log(`test IdP: ${idp.issuer}`);
  stopOnSignals(() => idp.stop());
} else if (role === 'echo') {
  // Says what the proxy forwarded, so run.sh can check the identity headers it set.
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }));
  });
  server.listen(8080, '0.0.0.0', () => console.log('echo upstream: 0.0.0.0:8080'));
  stopOnSignals(() => new Promise((resolve) => server.close(resolve)));
} else {
  console.error('usage: node support.mjs idp|echo');
  process.exit(2);
}
