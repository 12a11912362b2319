//! Accounts named by login name: what directory-style APIs (Smartbi's) do with users —
//! create without an email, find by id or name, enable and disable, and the roles given
//! to a user by name.

use std::collections::BTreeSet;

use rand::RngCore;
use weir_kernel::store::read;
use weir_kernel::{Id, TenantId};

use super::IdentityService;
use super::groups::{LinkFailure, LinkMode};
use crate::errors::{FieldError, RoleError, UserError};
use crate::models::*;
use crate::ports::{GroupRepo, RoleRepo, UserRepo};
use crate::principal::Principal;

/// A user made by login name.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    /// The login name (see [`crate::models::parse_username`]); refused when taken.
    pub username: String,
    /// An email, unique in the tenant; `None`: the account has none.
    pub email: Option<String>,
    /// The display name; the username when `None`.
    pub nickname: Option<String>,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; `None`: empty.
    pub description: Option<String>,
    /// `None` gives a random password nobody knows: the account cannot sign in until an
    /// administrator sets one.
    pub password: Option<String>,
    /// Whether the account may sign in; `None`: enabled.
    pub enabled: Option<bool>,
    /// The default group; the root when `None` or unknown (unless `check_group`).
    pub group_id: Option<String>,
    /// Refuse with [`UserError::GroupNotFound`] when `group_id` names no group, rather than
    /// fall back to the root.
    pub check_group: bool,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// A new display name, 1 to [`NAME_MAX`] characters.
    pub nickname: Option<String>,
    /// A new description, at most [`DESCRIPTION_MAX`] characters.
    pub description: Option<String>,
    /// A new password; setting it ends every session of the user.
    pub password: Option<String>,
    /// Enables or disables the account; disabling ends every session of the user.
    pub enabled: Option<bool>,
}

/// A user with their default group.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user.
    pub user: User,
    /// Their default group; `None` if they are in none.
    pub default_group: Option<Group>,
}

impl IdentityService {
    /// The user `key` names: an id, else a login name.
    pub(crate) fn user_by_key(
        &self,
        tx: &mut dyn UserRepo,
        t: &TenantId,
        key: &str,
    ) -> Result<User, UserError> {
        let key = key.trim();
        if let Ok(id) = key.parse::<Id>()
            && let Some(u) = tx.user(t, id)?
        {
            return Ok(u);
        }
        tx.user_by_username(t, key)?
            .ok_or_else(|| UserError::NotFoundNamed(key.into()))
    }

    fn account_of(&self, tx: &mut dyn GroupRepo, user: User) -> Result<Account, UserError> {
        let default_group = tx
            .groups_of_user(&user.tenant_id, user.id)?
            .into_iter()
            .find(|l| l.is_default)
            .map(|l| l.group);
        Ok(Account {
            user,
            default_group,
        })
    }

    /// The hash of a password nobody knows.
    fn unknowable_password(&self) -> Result<String, UserError> {
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        let password = Password::parse("password", &hex::encode(secret))?;
        Ok(self.hasher.hash(&password)?)
    }

    /// Creates a user by login name, in the default group `input` names; for the super admin
    /// only. Refused when the login name or email is taken.
    pub fn create_account(&self, p: &Principal, input: AccountInput) -> Result<Account, UserError> {
        p.require_super_admin()?;
        let username = parse_username("name", &input.username)?;
        let email = input
            .email
            .as_deref()
            .map(|e| Email::parse("email", e))
            .transpose()?;
        let nickname = parse_name(
            "alias",
            input.nickname.as_deref().unwrap_or(&username),
            NAME_MAX,
        )?;
        let description = parse_text("desc", input.description.as_deref(), DESCRIPTION_MAX)?;
        let hash = match &input.password {
            Some(raw) => self.hasher.hash(&Password::parse("password", raw)?)?,
            None => self.unknowable_password()?,
        };
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            if tx.user_by_username(t, &username)?.is_some() {
                return Err(UserError::UsernameTaken(username.clone()));
            }
            if let Some(e) = &email
                && tx.user_by_email(t, e)?.is_some()
            {
                return Err(UserError::EmailTaken(e.as_str().into()));
            }
            let group = self
                .home_group(tx, t, input.group_id.as_deref(), input.check_group)?
                .ok_or_else(|| {
                    UserError::GroupNotFound(input.group_id.clone().unwrap_or_default())
                })?;
            let mut user = User::new(
                self.ids.next_id(),
                t.clone(),
                username.clone(),
                email.clone(),
                nickname.clone(),
                hash.clone(),
                self.clock.now_ms(),
            );
            user.description = description.clone();
            user.status = UserStatus::from_enabled(input.enabled.unwrap_or(true));
            tx.insert_user(&user)?;
            tx.add_user_groups(t, user.id, std::slice::from_ref(&group.id), Some(&group.id))?;
            self.account_of(tx, user)
        })
    }

    /// Applies `upd` to the account `key` names (an id, else a login name); for the super
    /// admin only, who may not disable themselves.
    pub fn update_account(
        &self,
        p: &Principal,
        key: &str,
        upd: AccountUpdate,
    ) -> Result<Account, UserError> {
        p.require_super_admin()?;
        self.change_account(&p.tenant_id, Some(p.user_id), key, upd)
    }

    /// What an operator changes from the command line (`weir user reset-password`, `weir
    /// user disable`): an account of `tenant` named by id or login name, as its super admin
    /// would, with no session of theirs to keep.
    pub fn operator_update_account(
        &self,
        tenant: &str,
        key: &str,
        upd: AccountUpdate,
    ) -> Result<Account, UserError> {
        let t = TenantId::parse(tenant).map_err(|e| FieldError::new("tenant", e.to_string()))?;
        if read(self.store(), |tx| tx.tenant(&t))?.is_none() {
            return Err(
                FieldError::new("tenant", format!("tenant `{tenant}` does not exist")).into(),
            );
        }
        self.change_account(&t, None, key, upd)
    }

    /// `upd` applied to the account `key` of tenant `t`; `acting` is the user making the
    /// change, who may not disable themselves.
    fn change_account(
        &self,
        t: &TenantId,
        acting: Option<Id>,
        key: &str,
        upd: AccountUpdate,
    ) -> Result<Account, UserError> {
        let nickname = parse_changed_name("alias", upd.nickname.as_deref(), NAME_MAX)?;
        let description = parse_changed_text("desc", upd.description.as_deref(), DESCRIPTION_MAX)?;
        let hash = upd
            .password
            .as_deref()
            .map(|raw| Password::parse("password", raw))
            .transpose()?
            .map(|pw| self.hasher.hash(&pw))
            .transpose()?;
        self.write_changing(t, |tx| {
            let mut user = self.user_by_key(tx, t, key)?;
            if let Some(n) = &nickname {
                user.nickname = n.clone();
            }
            if let Some(d) = &description {
                user.description = d.clone();
            }
            let disabling = upd.enabled == Some(false) && user.status.is_enabled();
            if disabling && Some(user.id) == acting {
                return Err(
                    FieldError::new("enabled", "you cannot disable your own account").into(),
                );
            }
            if let Some(enabled) = upd.enabled {
                user.status = UserStatus::from_enabled(enabled);
            }
            user.updated_at = self.clock.now_ms();
            if let Some(h) = &hash {
                user.password_hash = h.clone();
            }
            if disabling || hash.is_some() {
                self.revoke_sessions(tx, &mut user)?;
            } else {
                tx.update_user(&user)?;
            }
            self.account_of(tx, user)
        })
    }

    /// Enables or disables a user; a disabled one cannot sign in and every token of theirs
    /// stops working at once.
    pub fn set_user_status(
        &self,
        p: &Principal,
        key: &str,
        status: UserStatus,
    ) -> Result<Account, UserError> {
        self.update_account(
            p,
            key,
            AccountUpdate {
                enabled: Some(status.is_enabled()),
                ..AccountUpdate::default()
            },
        )
    }

    /// Deletes one user named by id or login name; answers the id.
    pub fn delete_account(&self, p: &Principal, key: &str) -> Result<Id, UserError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            let user = self.user_by_key(tx, &p.tenant_id, key)?;
            if user.id == p.user_id {
                return Err(UserError::DeleteSelf);
            }
            tx.delete_users(&p.tenant_id, &[user.id])?;
            Ok(user.id)
        })
    }

    /// The account `key` names (an id, else a login name) with its default group; for the
    /// super admin only.
    pub fn account(&self, p: &Principal, key: &str) -> Result<Account, UserError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let user = self.user_by_key(tx, &p.tenant_id, key)?;
            self.account_of(tx, user)
        })
    }

    /// The roles given to a user directly (not through groups), enabled or not.
    pub fn account_roles(&self, p: &Principal, key: &str) -> Result<Vec<Role>, UserError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let user = self.user_by_key(tx, &p.tenant_id, key)?;
            Ok(tx.direct_roles_of_user(&p.tenant_id, user.id)?)
        })
    }

    /// Gives a user roles named by name. Unknown roles are skipped and listed; with
    /// `Override` the user loses every direct role not named (the last super admin stays).
    pub fn add_account_roles(
        &self,
        p: &Principal,
        key: &str,
        roles: &[String],
        mode: LinkMode,
    ) -> Result<Vec<LinkFailure>, UserError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        let now = self.clock.now_ms();
        self.write_changing(&p.tenant_id, |tx| {
            let user = self.user_by_key(tx, t, key)?;
            let mut wanted = Vec::new();
            let mut failed = Vec::new();
            for name in roles {
                match tx.role_by_name(t, name.trim())? {
                    Some(r) => wanted.push(r),
                    None => failed.push(LinkFailure {
                        id: name.clone(),
                        msg: format!("role `{}` not found", name.trim()),
                    }),
                }
            }
            if mode.applied(roles.len(), wanted.len()) == LinkMode::Override {
                let keep: BTreeSet<Id> = wanted.iter().map(|r| r.id).collect();
                for r in tx.direct_roles_of_user(t, user.id)? {
                    if !keep.contains(&r.id) {
                        self.leave_role(tx, t, &r, user.id)?;
                    }
                }
            }
            for r in &wanted {
                tx.add_role_users(t, r.id, &[user.id], now)?;
            }
            Ok(failed)
        })
    }

    /// Takes roles (named by id or name) from a user.
    pub fn remove_account_roles(
        &self,
        p: &Principal,
        key: &str,
        roles: &[String],
    ) -> Result<(), UserError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let user = self.user_by_key(tx, t, key)?;
            for key in roles {
                match self.role_by_key(tx, t, key) {
                    Ok(r) => self.leave_role(tx, t, &r, user.id)?,
                    Err(RoleError::NotFoundNamed(_)) => {}
                    Err(RoleError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        return Err(UserError::Invalid(FieldError::new(
                            "roleList",
                            e.to_string(),
                        )));
                    }
                }
            }
            Ok(())
        })
    }

    /// Removes a user from a role, refusing to leave the super admin role empty.
    fn leave_role(
        &self,
        tx: &mut dyn RoleRepo,
        t: &TenantId,
        role: &Role,
        user: Id,
    ) -> Result<(), UserError> {
        tx.remove_role_users(t, role.id, &[user])?;
        if role.built_in && tx.count_role_users(t, role.id)? == 0 {
            return Err(FieldError::new(
                "roleList",
                "would leave the super admin role without any user",
            )
            .into());
        }
        Ok(())
    }
}
