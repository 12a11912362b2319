-- Issue 15: the login throttle's records, shared by every Weir process on the database
-- (crates/identity/src/throttle.rs). One row per key: a pair (account and address), an
-- address or an account. last_event is the later of last_failure and locked_until, so that
-- forgotten rows are found through an index and deleted.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    locks BIGINT NOT NULL,
    last_event BIGINT NOT NULL
);
CREATE INDEX login_throttle_last_event ON login_throttle (last_event);
