// A real OpenID Connect provider for Weir's single sign-on tests: the certified
// `oidc-provider` package, configured from the environment by the test that starts it.
//
//   OP_PORT      port to listen on (127.0.0.1)
//   OP_ISSUER    issuer URL (default http://127.0.0.1:OP_PORT)
//   OP_CLIENTS   JSON array of clients: [{client_id, client_secret, redirect_uris}]
//   OP_ACCOUNTS  JSON object: login -> extra claims (e.g. {"alice": {"groups": ["ops"]}})
//
// Sign-in uses the package's development interactions: any login name, any password (the
// login name becomes `sub`). Consent is given at once. Prints "listening" when ready.
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = process.env.OP_ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OP_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));
const accounts = JSON.parse(process.env.OP_ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients,
  // Every claim of the granted scopes goes into the ID token, as Keycloak, Okta and
  // Entra ID can be set to do: Weir reads the ID token only.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true, methods: ['S256'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const extra = accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@example.test`,
          email_verified: true,
          name: `${id[0].toUpperCase()}${id.slice(1)} Example`,
          preferred_username: id,
          ...extra,
        };
      },
    };
  },
  // First-party test clients: consent is granted without asking.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'groups']);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log('listening');
});
