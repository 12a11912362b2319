//! Registration of a tenant's first user, the token grants, and checking access tokens.

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::RngCore;
use sha2::{Digest, Sha256};
use weir_kernel::store::{read, write};
use weir_kernel::{Id, StoreError, TenantId};

use super::IdentityService;
use crate::errors::{AuthError, AuthenticateError};
use crate::models::*;
use crate::permissions::codes_of;
use crate::ports::{IdentityTx, RefreshTokenRepo, TenantRepo, TokenDecodeError, UserRepo};
use crate::principal::Principal;

#[derive(Debug, Clone)]
/// The tenant's first user, registering themselves (see [`IdentityService::register`]).
pub struct RegisterInput {
    /// Their email, which is also their login name.
    pub email: String,
    /// Their display name, 1 to [`NAME_MAX`] characters.
    pub nickname: String,
    /// Their password (see [`Password::parse`]).
    pub password: String,
}

#[derive(Debug, Clone, Default)]
/// The OAuth client of a token request. Both absent is accepted (first-party clients);
/// otherwise both must match the client of [`IdentitySettings`](super::IdentitySettings), or [`AuthError::InvalidClient`].
pub struct ClientCredentials {
    /// The client id, if sent.
    pub client_id: Option<String>,
    /// The client secret, if sent.
    pub client_secret: Option<String>,
}

pub(super) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl IdentityService {
    /// Whether the tenant has its first user (`GET /user/status`).
    pub fn tenant_initialized(&self, tenant: &str) -> Result<bool, AuthError> {
        read(self.store(), |tx| {
            let t = self
                .known_tenant(tx, tenant)?
                .ok_or_else(|| AuthError::TenantNotFound(tenant.into()))?;
            Ok(tx.count_users(&t)? > 0)
        })
    }

    /// Registers the tenant's first user, who becomes its super admin. Refused once the
    /// tenant has a user.
    pub fn register(&self, tenant: &str, input: RegisterInput) -> Result<Id, AuthError> {
        let email = Email::parse("email", &input.email)?;
        let nickname = parse_name("nickname", &input.nickname, NAME_MAX)?;
        let password = Password::parse("password", &input.password)?;
        // Cheap refusals first, so a closed registration costs no bcrypt round.
        if self.tenant_initialized(tenant)? {
            return Err(AuthError::AlreadyInitialized);
        }
        let hash = self.hasher.hash(&password)?;
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            let t = self
                .known_tenant(tx, tenant)?
                .ok_or_else(|| AuthError::TenantNotFound(tenant.into()))?;
            if !tx.claim_tenant_initialization(&t)? {
                return Err(AuthError::AlreadyInitialized);
            }
            if tx.user_by_email(&t, &email)?.is_some() {
                return Err(AuthError::EmailTaken(email.as_str().into()));
            }
            let user = User::new(
                self.ids.next_id(),
                t.clone(),
                email.as_str().to_owned(),
                Some(email.clone()),
                nickname.clone(),
                hash.clone(),
                now,
            );
            tx.insert_user(&user)?;
            self.join_root_group(tx, &user)?;
            let admin = tx
                .role_by_name(&t, SUPER_ADMIN_ROLE)?
                .ok_or_else(|| StoreError::Internal("tenant has no super admin role".into()))?;
            tx.add_role_users(&t, admin.id, &[user.id], now)?;
            Ok((t, user.id))
        })
        .map(|(t, id)| {
            self.changed(&t);
            id
        })
    }

    fn check_client(&self, client: &ClientCredentials) -> Result<(), AuthError> {
        // The reference console always sends both; clients that omit them are let through
        // only when they omit both, as the reference product does for first-party clients.
        match (&client.client_id, &client.client_secret) {
            (None, None) => Ok(()),
            (Some(id), Some(secret))
                if sha256_hex(id) == sha256_hex(&self.settings.client_id)
                    && sha256_hex(secret) == sha256_hex(&self.settings.client_secret) =>
            {
                Ok(())
            }
            _ => Err(AuthError::InvalidClient),
        }
    }

    /// The user a login names: by username, else by email.
    fn user_by_login(
        &self,
        tx: &mut dyn UserRepo,
        t: &TenantId,
        login: &str,
    ) -> Result<Option<User>, StoreError> {
        if let Some(u) = tx.user_by_username(t, login.trim())? {
            return Ok(Some(u));
        }
        match Email::parse("username", login) {
            Ok(email) => tx.user_by_email(t, &email),
            Err(_) => Ok(None),
        }
    }

    /// Refuses a user who may not sign in: disabled, or of a disabled tenant.
    pub(super) fn check_enabled(
        &self,
        tx: &mut dyn TenantRepo,
        user: &User,
    ) -> Result<(), AuthError> {
        let tenant_enabled = tx.tenant(&user.tenant_id)?.is_some_and(|t| t.enabled);
        if user.status.is_enabled() && tenant_enabled {
            Ok(())
        } else {
            Err(AuthError::Disabled)
        }
    }

    /// The `password` grant: `username` is the login name or the email.
    pub fn token_by_password(
        &self,
        tenant: &str,
        client: &ClientCredentials,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<TokenPair, AuthError> {
        self.check_client(client)?;
        let login = parse_username("username", username)?;
        if password.is_empty() {
            return Err(crate::errors::FieldError::new("password", "must not be empty").into());
        }
        let account = format!("{tenant}/{}", login.to_lowercase());
        let user = read(self.store(), |tx| {
            if let Some(retry_after_secs) = self.throttle.lockout(tx, &account, address)? {
                return Err(AuthError::TooManyAttempts { retry_after_secs });
            }
            let t = self
                .known_tenant(tx, tenant)?
                .ok_or_else(|| AuthError::TenantNotFound(tenant.into()))?;
            Ok::<_, AuthError>(self.user_by_login(tx, &t, &login)?)
        })?;
        let ok = match &user {
            Some(u) => self.hasher.verify(password, &u.password_hash),
            None => {
                let dummy = self.dummy_hash.get_or_init(|| {
                    // Only the time spent matters here: an empty hash if one cannot be made.
                    Password::parse("password", "not-a-real-password")
                        .ok()
                        .and_then(|p| self.hasher.hash(&p).ok())
                        .unwrap_or_default()
                });
                let _ = self.hasher.verify(password, dummy);
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            write(self.store(), |tx| {
                self.throttle.record_failure(tx, &account, address)
            })?;
            return Err(AuthError::InvalidCredentials);
        };
        write(self.store(), |tx| {
            self.throttle.record_success(tx, &account, address)
        })?;
        write(self.store(), |tx| {
            self.check_enabled(tx, &user)?;
            self.issue_tokens(tx, &user)
        })
    }

    /// The `refresh_token` grant: the old refresh token is used up, a new pair is issued.
    pub fn token_by_refresh(
        &self,
        client: &ClientCredentials,
        refresh_token: &str,
    ) -> Result<TokenPair, AuthError> {
        self.check_client(client)?;
        if refresh_token.is_empty() || refresh_token.len() > 256 {
            return Err(AuthError::InvalidRefreshToken);
        }
        let hash = sha256_hex(refresh_token);
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            let record = tx
                .take_refresh_token(&hash)?
                .filter(|r| r.expires_at > now)
                .ok_or(AuthError::InvalidRefreshToken)?;
            let user = tx
                .user(&record.tenant_id, record.user_id)?
                .ok_or(AuthError::InvalidRefreshToken)?;
            self.check_enabled(tx, &user)?;
            self.issue_tokens(tx, &user)
        })
    }

    pub(super) fn issue_tokens(
        &self,
        tx: &mut dyn RefreshTokenRepo,
        user: &User,
    ) -> Result<TokenPair, AuthError> {
        let now = self.clock.now_ms();
        let ttl = self.settings.access_token_ttl_secs;
        let mut jti = [0u8; 16];
        rand::rng().fill_bytes(&mut jti);
        let claims = AccessClaims {
            sub: user.id.to_string(),
            tid: user.tenant_id.to_string(),
            sep: user.session_epoch,
            iat: now / 1000,
            exp: now / 1000 + ttl,
            jti: hex::encode(jti),
        };
        let access_token = self.tokens.encode(&claims)?;
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let refresh_token = hex::encode(secret);
        tx.insert_refresh_token(&RefreshTokenRecord {
            token_hash: sha256_hex(&refresh_token),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id,
            expires_at: now + self.settings.refresh_token_ttl_secs * 1000,
            created_at: now,
        })?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: ttl,
        })
    }

    /// The token's tenant, user and session epoch, once its signature and expiry pass.
    fn claims_of(&self, token: &str) -> Result<(TenantId, Id, i64), AuthenticateError> {
        let claims = self.tokens.decode(token).map_err(|e| match e {
            TokenDecodeError::Expired => AuthenticateError::Expired,
            TokenDecodeError::Malformed => AuthenticateError::Malformed,
        })?;
        let user_id: Id = claims
            .sub
            .parse()
            .map_err(|_| AuthenticateError::Malformed)?;
        let tenant = TenantId::parse(&claims.tid).map_err(|_| AuthenticateError::Malformed)?;
        Ok((tenant, user_id, claims.sep))
    }

    /// Checks an access token and loads who it speaks for. A token of a deleted user, or
    /// one issued before the user's tokens were revoked, is refused. The principal comes
    /// from the cache when it holds the user (see [`Self::authenticate_cached`]); else it
    /// is read from the store and cached.
    pub fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError> {
        let (tenant, user_id, epoch) = self.claims_of(token)?;
        let now = self.clock.now_ms();
        if let Some(p) = self.cache.get(&tenant, user_id, epoch, now) {
            return Ok((*p).clone());
        }
        // Taken before reading, so a change committed during the read keeps it uncached.
        let ticket = self.cache.ticket();
        let principal = read(self.store(), |tx| {
            let (user, tenant_enabled) = tx
                .user_and_tenant_state(&tenant, user_id)?
                .ok_or(AuthenticateError::Revoked)?;
            if user.session_epoch != epoch {
                return Err(AuthenticateError::Revoked);
            }
            if !(tenant_enabled && user.status.is_enabled()) {
                return Err(AuthenticateError::Disabled);
            }
            self.principal_of(tx, &user)
                .map_err(AuthenticateError::from)
        })?;
        self.cache.put(ticket, Arc::new(principal.clone()), now);
        Ok(principal)
    }

    /// [`Self::authenticate`] without touching the store, so an async caller can try it
    /// in place before going to a blocking thread: a refused token (bad signature,
    /// expired) or a cached principal is answered; `None` means the store must be read.
    pub fn authenticate_cached(&self, token: &str) -> Option<Result<Principal, AuthenticateError>> {
        let (tenant, user_id, epoch) = match self.claims_of(token) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        self.cache
            .get(&tenant, user_id, epoch, self.clock.now_ms())
            .map(|p| Ok((*p).clone()))
    }

    /// Who the user with this login name (or email) is, for a caller that vouched for them
    /// another way (the Smartbi dialect's encrypted `smartbiToken`): `None` when the tenant
    /// has no such user; `Disabled` for a disabled one. With `password`, it must be the
    /// user's password, else `InvalidCredentials`. Not throttled: only holders of the
    /// vouching key get here.
    pub fn principal_by_username(
        &self,
        tenant: &str,
        username: &str,
        password: Option<&str>,
    ) -> Result<Option<Principal>, AuthError> {
        let principal = read(self.store(), |tx| -> Result<_, AuthError> {
            let t = self
                .known_tenant(tx, tenant)?
                .ok_or_else(|| AuthError::TenantNotFound(tenant.into()))?;
            match self.user_by_login(tx, &t, username)? {
                Some(user) => {
                    self.check_enabled(tx, &user)?;
                    Ok(Some(self.principal_of(tx, &user)?))
                }
                None => Ok(None),
            }
        })?;
        if let (Some(p), Some(password)) = (&principal, password)
            && !self.hasher.verify(password, &p.user.password_hash)
        {
            return Err(AuthError::InvalidCredentials);
        }
        Ok(principal)
    }

    pub(crate) fn principal_of(
        &self,
        tx: &mut dyn IdentityTx,
        user: &User,
    ) -> Result<Principal, StoreError> {
        let t = &user.tenant_id;
        let roles = tx.roles_of_user(t, user.id)?;
        let super_admin = roles.iter().any(|r| r.built_in);
        let groups = tx.group_ids_of_user(t, user.id)?.into_iter().collect();
        let (codes, permissions) = if super_admin || roles.is_empty() {
            (BTreeSet::new(), BTreeSet::new())
        } else {
            let role_ids: Vec<Id> = roles.iter().map(|r| r.id).collect();
            let permissions: BTreeSet<String> =
                tx.permissions_of_roles(t, &role_ids)?.into_iter().collect();
            let mut codes: BTreeSet<String> =
                tx.menu_codes_of_roles(t, &role_ids)?.into_iter().collect();
            codes.extend(codes_of(permissions.iter().map(String::as_str)).map(str::to_owned));
            (codes, permissions)
        };
        let resources = if super_admin {
            None
        } else if roles.is_empty() {
            Some(Vec::new())
        } else {
            Some(tx.resources_of_user(t, user.id)?)
        };
        Ok(Principal {
            tenant_id: t.clone(),
            user_id: user.id,
            user: user.clone(),
            roles,
            groups,
            super_admin,
            codes,
            permissions,
            resources,
        })
    }

    /// Revokes every access and refresh token of a user (inside the caller's transaction).
    pub(crate) fn revoke_sessions(
        &self,
        tx: &mut dyn IdentityTx,
        user: &mut User,
    ) -> Result<(), StoreError> {
        user.session_epoch += 1;
        user.updated_at = self.clock.now_ms();
        tx.update_user(user)?;
        tx.delete_refresh_tokens_of_user(&user.tenant_id, user.id)
    }
}
