//! Managing users, and what a user sees of themselves.

use std::collections::HashMap;
use std::sync::Arc;

use weir_kernel::store::{read, write};
use weir_kernel::{Id, Page, PageRequest};

use super::{IdentityService, MAX_BATCH, SearchQuery};
use crate::errors::{FieldError, UserError};
use crate::models::*;
use crate::ports::MenuRepo;
use crate::principal::Principal;

/// What `GET /user` answers.
#[derive(Debug, Clone)]
pub struct Me {
    /// The caller.
    pub user: User,
    /// The enabled roles they hold, directly and through groups.
    pub roles: Vec<Role>,
    /// The menus they see: every menu for the super admin, else those their roles grant.
    /// Shared with the principal cache, which keeps them until the next identity change.
    pub menus: Arc<Vec<Menu>>,
    /// Whether they are a super admin.
    pub super_admin: bool,
}

impl Me {
    fn of(p: &Principal, menus: Arc<Vec<Menu>>) -> Self {
        Self {
            user: p.user.clone(),
            roles: p.roles.clone(),
            menus,
            super_admin: p.super_admin,
        }
    }
}

/// A user with their roles, as the member search lists them.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user.
    pub user: User,
    /// The roles given to them directly.
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone)]
/// A user made by email, who signs in with it (see [`IdentityService::create_member`]).
pub struct NewMember {
    /// The email, also the login name; unique in the tenant.
    pub email: String,
    /// The display name, 1 to [`NAME_MAX`] characters.
    pub nickname: String,
    /// The password (see [`Password::parse`]).
    pub password: String,
}

#[derive(Debug, Clone)]
/// Changes to a user made by email.
pub struct UpdateMember {
    /// A new email; `None` keeps it. A user who signs in with their email then signs in
    /// with the new one.
    pub email: Option<String>,
    /// The display name, 1 to [`NAME_MAX`] characters.
    pub nickname: String,
}

/// Properties the member search can sort by.
pub const MEMBER_SORTS: &[&str] = &["created_at", "nickname", "email"];

impl IdentityService {
    /// The caller with their roles and menus (`GET /user`): the user and roles come from
    /// the token check, so only the menus are read here.
    pub fn me(&self, p: &Principal) -> Result<Me, UserError> {
        if let Some(me) = self.me_cached(p) {
            return Ok(me);
        }
        let ticket = self.cache.ticket();
        let menus = read(self.store(), |tx| {
            self.visible_menus(tx, &p.user, p.super_admin)
        })?;
        let menus = Arc::new(menus);
        self.cache
            .put_menus(ticket, p, menus.clone(), self.clock.now_ms());
        Ok(Me::of(p, menus))
    }

    /// [`Self::me`] without touching the store: `None` unless the caller's menus are
    /// cached (an async caller then runs [`Self::me`] on a blocking thread).
    pub fn me_cached(&self, p: &Principal) -> Option<Me> {
        let menus = self.cache.menus(p, self.clock.now_ms())?;
        Some(Me::of(p, menus))
    }

    fn visible_menus(
        &self,
        tx: &mut dyn MenuRepo,
        user: &User,
        super_admin: bool,
    ) -> Result<Vec<Menu>, UserError> {
        Ok(if super_admin {
            tx.menus(&user.tenant_id)?
        } else {
            tx.menus_of_user(&user.tenant_id, user.id)?
        })
    }

    /// Checks a query's paging against what the use-case can sort by.
    pub(crate) fn page_of(
        &self,
        q: &SearchQuery,
        sortable: &[&str],
    ) -> Result<PageRequest, FieldError> {
        q.page(self.settings.max_page_size, sortable)
            .map_err(Into::into)
    }

    /// One page of the tenant's users whose nickname or email contains the query's keyword,
    /// each with their direct roles, sorted by [`MEMBER_SORTS`]; for the super admin only.
    pub fn search_members(
        &self,
        p: &Principal,
        q: &SearchQuery,
    ) -> Result<Page<Member>, UserError> {
        p.require_super_admin()?;
        let page = &self.page_of(q, MEMBER_SORTS)?;
        read(self.store(), |tx| {
            let (users, total) = tx.search_users(&p.tenant_id, q.keyword(), page)?;
            let ids: Vec<Id> = users.iter().map(|u| u.id).collect();
            let mut roles: HashMap<Id, Vec<Role>> = HashMap::new();
            for (uid, role) in tx.roles_of_users(&p.tenant_id, &ids)? {
                roles.entry(uid).or_default().push(role);
            }
            let content = users
                .into_iter()
                .map(|u| Member {
                    roles: roles.remove(&u.id).unwrap_or_default(),
                    user: u,
                })
                .collect();
            Ok(Page::new(page, total, content))
        })
    }

    /// Creates a user signing in with their email, in the root group, and answers their id;
    /// for the super admin only. Refused when the email is taken.
    pub fn create_member(&self, p: &Principal, input: NewMember) -> Result<Id, UserError> {
        p.require_super_admin()?;
        let email = Email::parse("email", &input.email)?;
        let nickname = parse_name("nickname", &input.nickname, NAME_MAX)?;
        let password = Password::parse("password", &input.password)?;
        let hash = self.hasher.hash(&password)?;
        let now = self.clock.now_ms();
        self.write_changing(&p.tenant_id, |tx| {
            if tx.user_by_email(&p.tenant_id, &email)?.is_some() {
                return Err(UserError::EmailTaken(email.as_str().into()));
            }
            if tx.user_by_username(&p.tenant_id, email.as_str())?.is_some() {
                return Err(UserError::UsernameTaken(email.as_str().into()));
            }
            let user = User::new(
                self.ids.next_id(),
                p.tenant_id.clone(),
                email.as_str().to_owned(),
                Some(email.clone()),
                nickname.clone(),
                hash.clone(),
                now,
            );
            tx.insert_user(&user)?;
            self.join_root_group(tx, &user)?;
            Ok(user.id)
        })
    }

    /// Changes a user's email and display name; for the super admin only. Refused when the
    /// new email is taken.
    pub fn update_member(
        &self,
        p: &Principal,
        id: Id,
        input: UpdateMember,
    ) -> Result<(), UserError> {
        p.require_super_admin()?;
        let nickname = parse_name("nickname", &input.nickname, NAME_MAX)?;
        let email = input
            .email
            .as_deref()
            .map(|e| Email::parse("email", e))
            .transpose()?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut user = tx.user(&p.tenant_id, id)?.ok_or(UserError::NotFound(id))?;
            if let Some(email) = email.filter(|e| Some(e) != user.email.as_ref()) {
                if tx.user_by_email(&p.tenant_id, &email)?.is_some() {
                    return Err(UserError::EmailTaken(email.as_str().into()));
                }
                // A user who signs in with their email keeps doing so.
                if Some(user.username.as_str()) == user.email.as_ref().map(Email::as_str) {
                    if tx.user_by_username(&p.tenant_id, email.as_str())?.is_some() {
                        return Err(UserError::UsernameTaken(email.as_str().into()));
                    }
                    user.username = email.as_str().to_owned();
                }
                user.email = Some(email);
            }
            user.nickname = nickname.clone();
            user.updated_at = self.clock.now_ms();
            tx.update_user(&user)?;
            Ok(())
        })
    }

    /// A super admin sets a user's password; every token of that user stops working.
    pub fn reset_password(&self, p: &Principal, id: Id, password: &str) -> Result<(), UserError> {
        p.require_super_admin()?;
        let password = Password::parse("password", password)?;
        let hash = self.hasher.hash(&password)?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut user = tx.user(&p.tenant_id, id)?.ok_or(UserError::NotFound(id))?;
            user.password_hash = hash.clone();
            self.revoke_sessions(tx, &mut user)?;
            Ok(())
        })
    }

    /// A user changes their own password; every token of theirs stops working. Wrong
    /// `old_password`s are throttled like logins (per user and client `address`): a stolen
    /// session must not become a way to guess the password.
    pub fn change_own_password(
        &self,
        p: &Principal,
        old_password: &str,
        new_password: &str,
        address: Option<&str>,
    ) -> Result<(), UserError> {
        let new_password = Password::parse("new_password", new_password)?;
        if old_password.is_empty() {
            return Err(FieldError::new("old_password", "must not be empty").into());
        }
        let account = format!("{}/#{}", p.tenant_id, p.user_id);
        let user = read(self.store(), |tx| {
            if let Some(retry_after_secs) = self.throttle.lockout(tx, &account, address)? {
                return Err(UserError::TooManyAttempts { retry_after_secs });
            }
            tx.user(&p.tenant_id, p.user_id)?
                .ok_or(UserError::NotFound(p.user_id))
        })?;
        if !self.hasher.verify(old_password, &user.password_hash) {
            write(self.store(), |tx| {
                self.throttle.record_failure(tx, &account, address)
            })?;
            return Err(UserError::WrongPassword);
        }
        write(self.store(), |tx| {
            self.throttle.record_success(tx, &account, address)
        })?;
        let hash = self.hasher.hash(&new_password)?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut user = tx
                .user(&p.tenant_id, p.user_id)?
                .ok_or(UserError::NotFound(p.user_id))?;
            user.password_hash = hash.clone();
            self.revoke_sessions(tx, &mut user)?;
            Ok(())
        })
    }

    /// Deletes users (all or none): an unknown id refuses the whole batch.
    pub fn delete_members(&self, p: &Principal, ids: &[Id]) -> Result<(), UserError> {
        p.require_super_admin()?;
        if ids.is_empty() {
            return Err(FieldError::new("user_id_list", "must name at least one user").into());
        }
        if ids.len() > MAX_BATCH {
            return Err(FieldError::new(
                "user_id_list",
                format!("must name at most {MAX_BATCH} users"),
            )
            .into());
        }
        if ids.contains(&p.user_id) {
            return Err(UserError::DeleteSelf);
        }
        self.write_changing(&p.tenant_id, |tx| {
            let found = tx.users(&p.tenant_id, ids)?;
            if let Some(missing) = ids.iter().find(|id| !found.iter().any(|u| u.id == **id)) {
                return Err(UserError::NotFound(*missing));
            }
            tx.delete_users(&p.tenant_id, ids)?;
            Ok(())
        })
    }

    /// The menus a user holds; a user may see their own, the super admin anyone's.
    pub fn member_menus(&self, p: &Principal, id: Id) -> Result<Vec<Menu>, UserError> {
        if id != p.user_id {
            p.require_super_admin()?;
        }
        read(self.store(), |tx| {
            let user = tx.user(&p.tenant_id, id)?.ok_or(UserError::NotFound(id))?;
            let target = self.principal_of(tx, &user)?;
            self.visible_menus(tx, &user, target.super_admin)
        })
    }

    /// Whether a user may reach a resource: the super admin may reach all of them, others
    /// through a role that was granted it.
    pub fn member_has_resource(
        &self,
        p: &Principal,
        id: Id,
        resource: &ResourceRef,
    ) -> Result<bool, UserError> {
        if id != p.user_id {
            p.require_super_admin()?;
        }
        read(self.store(), |tx| {
            let user = tx.user(&p.tenant_id, id)?.ok_or(UserError::NotFound(id))?;
            if self.principal_of(tx, &user)?.super_admin {
                return Ok(true);
            }
            Ok(tx.user_has_resource(&p.tenant_id, id, resource)?)
        })
    }

    /// Users of the caller's tenant among `ids` (the super admin only).
    pub fn members_by_ids(&self, p: &Principal, ids: &[Id]) -> Result<Vec<User>, UserError> {
        p.require_super_admin()?;
        Ok(read(self.store(), |tx| tx.users(&p.tenant_id, ids))?)
    }

    /// The nicknames of users of the caller's tenant among `ids` (others are left out),
    /// for lists that name who made what. Any signed-in user may read them: within a
    /// tenant, who created a flow or a dashboard is not a secret; emails and roles stay
    /// the super admin's to read.
    pub fn nicknames(
        &self,
        p: &Principal,
        ids: &[Id],
    ) -> Result<std::collections::BTreeMap<Id, String>, UserError> {
        let users = read(self.store(), |tx| tx.users(&p.tenant_id, ids))?;
        Ok(users.into_iter().map(|u| (u.id, u.nickname)).collect())
    }
}
