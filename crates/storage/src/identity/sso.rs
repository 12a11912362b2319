//! Single sign-on: [`SsoRepo`] over diesel (providers, sign-ins in progress, links from
//! provider users to Weir users), with the rows of its three tables.

use diesel::prelude::*;
use weir_identity::SsoRepo;
use weir_identity::sso::{ExternalIdentity, SsoAttempt, SsoProvider};
use weir_kernel::{Id, Millis, StoreError, TenantId};

use super::IdentityRepo;
use super::shared::*;
use crate::errors::{OrStore, tenant_id};
use crate::schema::*;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_providers)]
struct ProviderRow {
    tenant_id: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    groups_claim: Option<String>,
    default_role_id: Option<i64>,
    enabled: bool,
    updated_at: i64,
}

impl From<&SsoProvider> for ProviderRow {
    fn from(p: &SsoProvider) -> Self {
        Self {
            tenant_id: p.tenant_id.to_string(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.clone(),
            scopes: p.scopes.join(" "),
            groups_claim: p.groups_claim.clone(),
            default_role_id: p.default_role_id.map(Id::get),
            enabled: p.enabled,
            updated_at: p.updated_at,
        }
    }
}

impl ProviderRow {
    fn into_provider(self) -> Result<SsoProvider, StoreError> {
        Ok(SsoProvider {
            tenant_id: tenant_id(self.tenant_id)?,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret,
            scopes: self.scopes.split(' ').map(str::to_owned).collect(),
            groups_claim: self.groups_claim,
            default_role_id: self.default_role_id.map(Id),
            enabled: self.enabled,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_attempts)]
struct AttemptRow {
    state_hash: String,
    binding_hash: String,
    tenant_id: String,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    return_to: Option<String>,
    created_at: i64,
}

impl From<&SsoAttempt> for AttemptRow {
    fn from(a: &SsoAttempt) -> Self {
        Self {
            state_hash: a.state_hash.clone(),
            binding_hash: a.binding_hash.clone(),
            tenant_id: a.tenant_id.to_string(),
            nonce: a.nonce.clone(),
            pkce_verifier: a.pkce_verifier.clone(),
            redirect_uri: a.redirect_uri.clone(),
            return_to: a.return_to.clone(),
            created_at: a.created_at,
        }
    }
}

impl AttemptRow {
    fn into_attempt(self) -> Result<SsoAttempt, StoreError> {
        Ok(SsoAttempt {
            state_hash: self.state_hash,
            binding_hash: self.binding_hash,
            tenant_id: tenant_id(self.tenant_id)?,
            nonce: self.nonce,
            pkce_verifier: self.pkce_verifier,
            redirect_uri: self.redirect_uri,
            return_to: self.return_to,
            created_at: self.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = external_identities)]
struct ExternalIdentityRow<'a> {
    tenant_id: &'a str,
    issuer: &'a str,
    subject: &'a str,
    user_id: i64,
    created_at: i64,
}

impl SsoRepo for IdentityRepo {
    fn sso_provider(&mut self, t: &TenantId) -> R<Option<SsoProvider>> {
        sso_providers::table
            .find(t.as_str())
            .select(ProviderRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(ProviderRow::into_provider)
            .transpose()
    }

    fn save_sso_provider(&mut self, provider: &SsoProvider) -> R<()> {
        // Replaced whole, inside the caller's transaction (one statement per backend would
        // need an upsert of each dialect).
        diesel::delete(sso_providers::table.find(provider.tenant_id.as_str()))
            .execute(self.c())
            .or_store()?;
        diesel::insert_into(sso_providers::table)
            .values(ProviderRow::from(provider))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn delete_sso_provider(&mut self, t: &TenantId) -> R<bool> {
        diesel::delete(sso_providers::table.find(t.as_str()))
            .execute(self.c())
            .or_store()
            .map(|n| n > 0)
    }

    fn insert_sso_attempt(&mut self, attempt: &SsoAttempt) -> R<()> {
        diesel::insert_into(sso_attempts::table)
            .values(AttemptRow::from(attempt))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn take_sso_attempt(&mut self, state_hash: &str) -> R<Option<SsoAttempt>> {
        let row: Option<AttemptRow> = sso_attempts::table
            .find(state_hash)
            .select(AttemptRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?;
        let Some(row) = row else { return Ok(None) };
        // Only the transaction whose delete removed the row may use it.
        let taken = diesel::delete(sso_attempts::table.find(state_hash))
            .execute(self.c())
            .or_store()?;
        if taken == 1 {
            row.into_attempt().map(Some)
        } else {
            Ok(None)
        }
    }

    fn purge_sso_attempts(&mut self, before: Millis, limit: i64) -> R<usize> {
        let old: Vec<String> = sso_attempts::table
            .filter(sso_attempts::created_at.lt(before))
            .select(sso_attempts::state_hash)
            .limit(limit)
            .load(self.c())
            .or_store()?;
        if old.is_empty() {
            return Ok(0);
        }
        diesel::delete(sso_attempts::table.filter(sso_attempts::state_hash.eq_any(&old)))
            .execute(self.c())
            .or_store()
    }

    fn external_identity(&mut self, t: &TenantId, issuer: &str, subject: &str) -> R<Option<Id>> {
        external_identities::table
            .find((t.as_str(), issuer, subject))
            .select(external_identities::user_id)
            .first(self.c())
            .optional()
            .or_store()
            .map(|id| id.map(Id))
    }

    fn insert_external_identity(&mut self, link: &ExternalIdentity) -> R<()> {
        diesel::insert_into(external_identities::table)
            .values(ExternalIdentityRow {
                tenant_id: link.tenant_id.as_str(),
                issuer: &link.issuer,
                subject: &link.subject,
                user_id: link.user_id.get(),
                created_at: link.created_at,
            })
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn groups_named(&mut self, t: &TenantId, names: &[String]) -> R<Vec<String>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        user_groups::table
            .filter(user_groups::tenant_id.eq(t.as_str()))
            .filter(
                user_groups::id.eq_any(names).or(user_groups::code
                    .ne("")
                    .and(user_groups::code.eq_any(names))),
            )
            .select(user_groups::id)
            .load(self.c())
            .or_store()
    }
}
