-- Issue 17: single sign-on through each tenant's OpenID Connect provider
-- (crates/identity/src/sso.rs).

-- One provider per tenant. client_secret is never answered by the API.
CREATE TABLE sso_providers (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    -- space-separated, `openid` first
    scopes TEXT NOT NULL,
    groups_claim TEXT,
    default_role_id BIGINT,
    enabled BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Sign-ins on their way through a provider, each used once and kept at most ten minutes.
-- Keyed by a hash of the state, so the table holds nothing that finishes a sign-in alone.
CREATE TABLE sso_attempts (
    state_hash TEXT PRIMARY KEY,
    binding_hash TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    return_to TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX sso_attempts_created_at ON sso_attempts (created_at);

-- Which provider user (issuer, sub) is which Weir user; gone with the user.
CREATE TABLE external_identities (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id);
