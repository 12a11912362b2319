-- Which process (node) fires each timer flow: a lease it renews while it runs, so that
-- several processes on one database fire a timer once. No foreign key to flows: a lease
-- left by a node that died is harmless, and a claim racing a deletion must not fail the
-- node's whole renewal.
CREATE TABLE timer_leases (
    flow_id BIGINT PRIMARY KEY,
    node TEXT NOT NULL,
    -- Epoch milliseconds; after it, another node may take the lease.
    expires_at BIGINT NOT NULL
);
