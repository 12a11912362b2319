//! [`TimerLeases`] over the `timer_leases` table: which node fires each timer flow.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::upsert::excluded;
use weir_kernel::{Id, Millis, StoreError, TxMode};
use weir_workflow::TimerLeases;

use crate::backend::on_each_backend;
use crate::database::Database;
use crate::errors::OrStore;
use crate::filters::ids;
use crate::schema::{flows, timer_leases};

/// Most flows one statement names.
const CHUNK: usize = 1000;

impl TimerLeases for Database {
    fn claim(
        &self,
        node: &str,
        wanted: &[Id],
        now: Millis,
        until: Millis,
    ) -> Result<Vec<Id>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut wanted = ids(wanted);
        // In flow order, chunks included, so two nodes claiming at once lock rows in the
        // same order (PostgreSQL) and cannot deadlock.
        wanted.sort_unstable();
        self.transaction(TxMode::Write, |conn| {
            let mut held = Vec::with_capacity(wanted.len());
            // Chunks keep each statement under the backends' limits on bound values.
            for wanted in wanted.chunks(CHUNK) {
                // One statement for the chunk: a row per flow still enabled, taken when it is
                // new, this node's, or expired; another node's live lease is left as it is.
                // `FilterDsl::filter` is the DO UPDATE's WHERE (QueryDsl has no such method
                // on an insert).
                on_each_backend!(&mut *conn, |c| {
                    diesel::query_dsl::methods::FilterDsl::filter(
                        diesel::insert_into(timer_leases::table)
                            .values(
                                flows::table
                                    .filter(flows::id.eq_any(wanted))
                                    .filter(flows::enabled.eq(true))
                                    .order(flows::id)
                                    .select((
                                        flows::id,
                                        node.into_sql::<Text>(),
                                        until.into_sql::<BigInt>(),
                                    )),
                            )
                            .into_columns((
                                timer_leases::flow_id,
                                timer_leases::node,
                                timer_leases::expires_at,
                            ))
                            .on_conflict(timer_leases::flow_id)
                            .do_update()
                            .set((
                                timer_leases::node.eq(excluded(timer_leases::node)),
                                timer_leases::expires_at.eq(excluded(timer_leases::expires_at)),
                            )),
                        timer_leases::node
                            .eq(excluded(timer_leases::node))
                            .or(timer_leases::expires_at.lt(now)),
                    )
                    .execute(c)
                })
                .or_store()?;
                let mine: Vec<i64> = timer_leases::table
                    .filter(timer_leases::node.eq(node))
                    .filter(timer_leases::flow_id.eq_any(wanted))
                    // Written by this claim: not the lease of a flow disabled since.
                    .filter(timer_leases::expires_at.eq(until))
                    .select(timer_leases::flow_id)
                    .load(conn)
                    .or_store()?;
                held.extend(mine.into_iter().map(Id));
            }
            Ok(held)
        })
    }

    fn release(&self, node: &str, flows: &[Id]) -> Result<(), StoreError> {
        if flows.is_empty() {
            return Ok(());
        }
        self.transaction(TxMode::Write, |conn| {
            for flows in flows.chunks(CHUNK) {
                diesel::delete(
                    timer_leases::table
                        .filter(timer_leases::node.eq(node))
                        .filter(timer_leases::flow_id.eq_any(ids(flows))),
                )
                .execute(conn)
                .or_store()?;
            }
            Ok(())
        })
    }
}
