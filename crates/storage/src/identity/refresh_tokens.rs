//! Refresh tokens: [`RefreshTokenRepo`] over diesel.

use diesel::prelude::*;
use weir_identity::{RefreshTokenRecord, RefreshTokenRepo};
use weir_kernel::{Id, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::errors::OrStore;
use crate::schema::*;

impl RefreshTokenRepo for IdentityRepo {
    fn insert_refresh_token(&mut self, token: &RefreshTokenRecord) -> R<()> {
        diesel::insert_into(refresh_tokens::table)
            .values(RefreshTokenRow::from(token))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn take_refresh_token(&mut self, token_hash: &str) -> R<Option<RefreshTokenRecord>> {
        let row: Option<RefreshTokenRow> = refresh_tokens::table
            .find(token_hash)
            .select(RefreshTokenRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?;
        let Some(row) = row else { return Ok(None) };
        // Only the transaction whose delete removed the row may use it.
        let taken = diesel::delete(refresh_tokens::table.find(token_hash))
            .execute(self.c())
            .or_store()?;
        if taken == 1 {
            row.into_record().map(Some)
        } else {
            Ok(None)
        }
    }

    fn delete_refresh_tokens_of_user(&mut self, t: &TenantId, user: Id) -> R<()> {
        diesel::delete(
            refresh_tokens::table
                .filter(refresh_tokens::tenant_id.eq(t.as_str()))
                .filter(refresh_tokens::user_id.eq(user.get())),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }
}
