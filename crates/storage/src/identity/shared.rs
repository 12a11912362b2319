//! What several of the identity repository's aggregates share: the result type, the rule
//! for which roles a user holds, and users matched by a keyword.

use diesel::prelude::*;
use weir_identity::User;
use weir_kernel::{StoreError, TenantId};

use super::rows::UserRow;
use crate::backend::MultiBackend;
use crate::filters::contains_pattern;
use crate::schema::*;

pub(super) type R<T> = Result<T, StoreError>;

/// Whether `roles::id` is a role the user holds: given directly, or given to one of the
/// user's groups. (Boxed subqueries cannot sit inside these queries, so macros keep the
/// rule written once.)
macro_rules! held_by_user {
    ($t:expr, $user:expr) => {
        roles::id
            .eq_any(
                role_users::table
                    .filter(role_users::tenant_id.eq($t.as_str()))
                    .filter(role_users::user_id.eq($user.get()))
                    .select(role_users::role_id),
            )
            .or(roles::id.eq_any(
                group_roles::table
                    .filter(group_roles::tenant_id.eq($t.as_str()))
                    .filter(
                        group_roles::group_id.eq_any(
                            group_users::table
                                .filter(group_users::tenant_id.eq($t.as_str()))
                                .filter(group_users::user_id.eq($user.get()))
                                .select(group_users::group_id),
                        ),
                    )
                    .select(group_roles::role_id),
            ))
    };
}

/// The ids of the enabled roles a user holds, directly or through a group, as a subquery.
macro_rules! roles_of_user {
    ($t:expr, $user:expr) => {
        roles::table
            .filter(roles::tenant_id.eq($t.as_str()))
            .filter(roles::enabled.eq(true))
            .filter(held_by_user!($t, $user))
            .select(roles::id)
    };
}

pub(super) use {held_by_user, roles_of_user};

/// The tenant's users whose nickname, email or login name contains `keyword`: the user
/// search and the lists of a role's members and non-members.
pub(super) fn users_matching<'a>(
    t: &'a TenantId,
    keyword: Option<&str>,
) -> users::BoxedQuery<'a, MultiBackend> {
    let mut q = users::table
        .filter(users::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword {
        let pat = contains_pattern(k);
        q = q.filter(
            users::nickname_folded
                .like(pat.clone())
                .escape('\\')
                .or(users::email.like(pat.clone()).escape('\\'))
                .or(users::username.like(pat).escape('\\')),
        );
    }
    q
}

pub(super) fn load_users(rows: Vec<UserRow>) -> R<Vec<User>> {
    rows.into_iter().map(UserRow::into_user).collect()
}
