//! Single sign-on through a tenant's OpenID Connect provider: configuring it, starting a
//! sign-in, and finishing one (provisioning the user on their first sign-in, mapping their
//! groups, issuing Weir's own tokens). See [`crate::sso`].

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::RngCore;
use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, StoreError, TenantId};

use super::IdentityService;
use super::auth::sha256_hex;
use crate::errors::{AuthError, FieldError};
use crate::models::*;
use crate::ports::IdentityTx;
use crate::principal::Principal;
use crate::sso::*;

/// How many expired sign-ins one new sign-in clears away at most.
const PURGE_BATCH: i64 = 100;

/// A tenant's provider as its administrator sees it: the client secret is never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProviderView {
    /// See [`SsoProvider::issuer`].
    pub issuer: String,
    /// See [`SsoProvider::client_id`].
    pub client_id: String,
    /// Whether a client secret is stored (it always is once saved).
    pub has_client_secret: bool,
    /// See [`SsoProvider::scopes`].
    pub scopes: Vec<String>,
    /// See [`SsoProvider::groups_claim`].
    pub groups_claim: Option<String>,
    /// See [`SsoProvider::default_role_id`].
    pub default_role_id: Option<Id>,
    /// See [`SsoProvider::enabled`].
    pub enabled: bool,
    /// See [`SsoProvider::updated_at`].
    pub updated_at: Millis,
}

impl From<&SsoProvider> for SsoProviderView {
    fn from(p: &SsoProvider) -> Self {
        Self {
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            has_client_secret: !p.client_secret.is_empty(),
            scopes: p.scopes.clone(),
            groups_claim: p.groups_claim.clone(),
            default_role_id: p.default_role_id,
            enabled: p.enabled,
            updated_at: p.updated_at,
        }
    }
}

/// A sign-in that has started: send the browser to `redirect_url` with the `binding`
/// secret in a cookie; the callback must bring both back.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoStart {
    /// The provider's authorization URL.
    pub redirect_url: String,
    /// The secret that ties the sign-in to this browser (a cookie's value).
    pub binding: String,
}

impl std::fmt::Debug for SsoStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoStart")
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// A finished sign-in: Weir's tokens, and where the browser asked to go with them.
#[derive(Debug, Clone)]
pub struct SsoSignIn {
    /// Weir's own access and refresh tokens, as a password login issues them.
    pub tokens: TokenPair,
    /// The `return_to` the sign-in started with.
    pub return_to: Option<String>,
    /// Whether this sign-in created the user.
    pub provisioned: bool,
}

/// The callback's parameters, as the provider sent the browser back.
#[derive(Debug, Clone, Default)]
pub struct SsoCallback {
    /// `state`.
    pub state: String,
    /// `code`, when the provider granted the sign-in.
    pub code: Option<String>,
    /// `error` (and `error_description`), when it did not.
    pub error: Option<String>,
    /// The cookie set when the sign-in started, if the browser sent it.
    pub binding: Option<String>,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl IdentityService {
    /// Lets tenants sign in through OpenID Connect providers, spoken to by `client`.
    /// Without one, every single sign-on use-case answers [`SsoError::NotConfigured`].
    pub fn sign_in_with(&self, client: Arc<dyn OpenIdClient>) {
        let _ = self.openid.set(client);
    }

    fn openid(&self) -> Result<&dyn OpenIdClient, SsoError> {
        self.openid
            .get()
            .map(|c| &**c)
            .ok_or(SsoError::NotConfigured)
    }

    /// The caller's tenant's provider, if configured; for the super admin only.
    pub fn sso_provider(&self, p: &Principal) -> Result<Option<SsoProviderView>, SsoError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            Ok(tx.sso_provider(&p.tenant_id)?.as_ref().map(Into::into))
        })
    }

    /// Configures the caller's tenant's provider (replacing any); for the super admin only.
    pub fn set_sso_provider(
        &self,
        p: &Principal,
        input: SsoProviderInput,
    ) -> Result<SsoProviderView, SsoError> {
        p.require_super_admin()?;
        let issuer = parse_issuer(&input.issuer)?;
        let client_id = parse_sso_field("client_id", &input.client_id)?;
        let client_secret = input
            .client_secret
            .as_deref()
            .map(|s| parse_sso_field("client_secret", s))
            .transpose()?;
        let scopes = parse_scopes(input.scopes.as_deref())?;
        let groups_claim = input
            .groups_claim
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| parse_sso_field("groups_claim", c))
            .transpose()?;
        let t = p.tenant_id.clone();
        self.write_changing(&t, |tx| {
            let stored = tx.sso_provider(&t)?;
            let client_secret = client_secret
                .or_else(|| stored.map(|s| s.client_secret))
                .ok_or_else(|| FieldError::new("client_secret", "is required"))?;
            if let Some(role) = input.default_role_id
                && tx.role(&t, role)?.is_none()
            {
                return Err(SsoError::RoleNotFound(role));
            }
            let provider = SsoProvider {
                tenant_id: t.clone(),
                issuer,
                client_id,
                client_secret,
                scopes,
                groups_claim,
                default_role_id: input.default_role_id,
                enabled: input.enabled.unwrap_or(true),
                updated_at: self.clock.now_ms(),
            };
            tx.save_sso_provider(&provider)?;
            Ok((&provider).into())
        })
    }

    /// Removes the caller's tenant's provider; for the super admin only. Users it
    /// provisioned stay (without a password, they can no longer sign in until given one).
    pub fn delete_sso_provider(&self, p: &Principal) -> Result<(), SsoError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            if tx.delete_sso_provider(&p.tenant_id)? {
                Ok(())
            } else {
                Err(SsoError::NotConfigured)
            }
        })
    }

    /// Starts a sign-in to `tenant` through its provider, coming back to `redirect_uri`
    /// (Weir's callback) and then to `return_to` (a path on Weir).
    pub fn begin_sso(
        &self,
        tenant: &str,
        return_to: Option<&str>,
        redirect_uri: &str,
    ) -> Result<SsoStart, SsoError> {
        let return_to = return_to
            .filter(|r| !r.is_empty())
            .map(parse_return_to)
            .transpose()?;
        let client = self.openid()?;
        let provider = self.enabled_provider(tenant)?;
        let request = client.authorization_request(&provider, redirect_uri)?;
        let binding = random_hex(32);
        let now = self.clock.now_ms();
        let attempt = SsoAttempt {
            state_hash: sha256_hex(&request.state),
            binding_hash: sha256_hex(&binding),
            tenant_id: provider.tenant_id.clone(),
            nonce: request.nonce.clone(),
            pkce_verifier: request.pkce_verifier.clone(),
            redirect_uri: redirect_uri.to_owned(),
            return_to,
            created_at: now,
        };
        write(self.store(), |tx| {
            tx.purge_sso_attempts(now - SSO_ATTEMPT_TTL_MS, PURGE_BATCH)?;
            tx.insert_sso_attempt(&attempt)
        })?;
        Ok(SsoStart {
            redirect_url: request.url,
            binding,
        })
    }

    /// Finishes a sign-in: checks the state against this browser's sign-in (used up
    /// whatever happens next), redeems the code, finds or provisions the user, maps their
    /// groups, and issues Weir's tokens.
    pub fn finish_sso(&self, callback: &SsoCallback) -> Result<SsoSignIn, SsoError> {
        let client = self.openid()?;
        if callback.state.is_empty() || callback.state.len() > 512 {
            return Err(SsoError::InvalidState);
        }
        let now = self.clock.now_ms();
        let attempt = write(self.store(), |tx| {
            tx.take_sso_attempt(&sha256_hex(&callback.state))
        })?
        .filter(|a| a.created_at + SSO_ATTEMPT_TTL_MS > now)
        .filter(|a| {
            callback
                .binding
                .as_deref()
                .is_some_and(|b| sha256_hex(b) == a.binding_hash)
        })
        .ok_or(SsoError::InvalidState)?;
        if let Some(error) = &callback.error {
            return Err(SsoError::ProviderRefused(error.chars().take(200).collect()));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .ok_or_else(|| FieldError::new("code", "is required"))?;
        let provider = self.enabled_provider(attempt.tenant_id.as_str())?;
        let claims = client.redeem(
            &provider,
            &attempt.redirect_uri,
            code,
            &attempt.pkce_verifier,
            &attempt.nonce,
        )?;
        let t = provider.tenant_id.clone();
        let (tokens, provisioned, changed) = write(self.store(), |tx| {
            let (user, provisioned) = match self.linked_user(tx, &t, &claims)? {
                Some(user) => (user, false),
                None => (self.provision(tx, &provider, &claims)?, true),
            };
            self.check_enabled(tx, &user).map_err(auth_to_sso)?;
            let regrouped = match &provider.groups_claim {
                Some(_) => self.sync_groups(tx, &user, &claims.groups)?,
                None => false,
            };
            let tokens = self.issue_tokens(tx, &user).map_err(auth_to_sso)?;
            Ok::<_, SsoError>((tokens, provisioned, provisioned || regrouped))
        })?;
        if changed {
            self.changed(&t);
        }
        Ok(SsoSignIn {
            tokens,
            return_to: attempt.return_to,
            provisioned,
        })
    }

    /// The tenant's provider, when configured and switched on.
    fn enabled_provider(&self, tenant: &str) -> Result<SsoProvider, SsoError> {
        read(self.store(), |tx| {
            let t = self
                .known_tenant(tx, tenant)?
                .ok_or_else(|| SsoError::TenantNotFound(tenant.chars().take(64).collect()))?;
            tx.sso_provider(&t)?
                .filter(|p| p.enabled)
                .ok_or(SsoError::NotConfigured)
        })
    }

    /// The user an earlier sign-in linked to this provider user, if they still exist.
    fn linked_user(
        &self,
        tx: &mut dyn IdentityTx,
        t: &TenantId,
        claims: &ExternalClaims,
    ) -> Result<Option<User>, StoreError> {
        match tx.external_identity(t, &claims.issuer, &claims.subject)? {
            Some(id) => tx.user(t, id),
            None => Ok(None),
        }
    }

    /// Creates the Weir user of a provider user's first sign-in: named by their
    /// `preferred_username`, else their verified email, else their `sub`; with no password
    /// (they sign in through the provider); in the root group; with the provider's default
    /// role. An existing account of the same name or email is never taken over.
    fn provision(
        &self,
        tx: &mut dyn IdentityTx,
        provider: &SsoProvider,
        claims: &ExternalClaims,
    ) -> Result<User, SsoError> {
        let t = &provider.tenant_id;
        let email = claims
            .email
            .as_deref()
            .filter(|_| claims.email_verified)
            .and_then(|e| Email::parse("email", e).ok());
        let username = [
            claims.preferred_username.as_deref(),
            email.as_ref().map(Email::as_str),
            Some(claims.subject.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(|u| parse_username("username", u).ok())
        .ok_or_else(|| {
            SsoError::AccountConflict("the identity provider gave no usable user name".into())
        })?;
        if tx.user_by_username(t, &username)?.is_some() {
            return Err(SsoError::AccountConflict(format!(
                "a user named {username} already exists in this tenant; it is not linked to the identity provider"
            )));
        }
        if let Some(e) = &email
            && tx.user_by_email(t, e)?.is_some()
        {
            return Err(SsoError::AccountConflict(format!(
                "a user with email {} already exists in this tenant; it is not linked to the identity provider",
                e.as_str()
            )));
        }
        let nickname: String = claims
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&username)
            .chars()
            .filter(|c| !c.is_control())
            .take(NAME_MAX)
            .collect();
        let now = self.clock.now_ms();
        // No password hash: the password grant never matches an empty hash.
        let user = User::new(
            self.ids.next_id(),
            t.clone(),
            username,
            email,
            nickname,
            String::new(),
            now,
        );
        tx.insert_user(&user)?;
        self.join_root_group(tx, &user)?;
        // A default role deleted since the provider was saved gives nothing.
        if let Some(role) = provider.default_role_id
            && tx.role(t, role)?.is_some()
        {
            tx.add_role_users(t, role, &[user.id], now)?;
        }
        tx.insert_external_identity(&ExternalIdentity {
            tenant_id: t.clone(),
            issuer: claims.issuer.clone(),
            subject: claims.subject.clone(),
            user_id: user.id,
            created_at: now,
        })?;
        Ok(user)
    }

    /// Makes the user's groups (besides the root) exactly those the groups claim names,
    /// by group id or code; names of no group are ignored. Answers whether anything moved.
    fn sync_groups(
        &self,
        tx: &mut dyn IdentityTx,
        user: &User,
        claimed: &[String],
    ) -> Result<bool, StoreError> {
        let t = &user.tenant_id;
        let claimed: Vec<String> = claimed.iter().take(SSO_MAX_GROUPS).cloned().collect();
        let wanted: BTreeSet<String> = tx
            .groups_named(t, &claimed)?
            .into_iter()
            .filter(|g| g != ROOT_GROUP)
            .collect();
        let current: BTreeSet<String> = tx
            .group_ids_of_user(t, user.id)?
            .into_iter()
            .filter(|g| g != ROOT_GROUP)
            .collect();
        let add: Vec<String> = wanted.difference(&current).cloned().collect();
        let remove: Vec<String> = current.difference(&wanted).cloned().collect();
        if !add.is_empty() {
            tx.add_user_groups(t, user.id, &add, None)?;
        }
        if !remove.is_empty() {
            tx.remove_user_groups(t, user.id, &remove)?;
        }
        Ok(!add.is_empty() || !remove.is_empty())
    }
}

fn auth_to_sso(e: AuthError) -> SsoError {
    match e {
        AuthError::Disabled => SsoError::Disabled,
        AuthError::Store(e) => SsoError::Store(e),
        other => SsoError::Store(StoreError::Internal(other.to_string())),
    }
}
