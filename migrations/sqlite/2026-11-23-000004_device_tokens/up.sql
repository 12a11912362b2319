-- Device credentials: one token per device, kept as its SHA-256 (the token itself is shown
-- once, when it is issued). HTTP ingest and the embedded MQTT broker accept it.
CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL UNIQUE REFERENCES devices (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
