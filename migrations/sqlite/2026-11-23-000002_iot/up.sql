-- IoT, SQLite flavour: REAL and BLOB where PostgreSQL has DOUBLE PRECISION and BYTEA.
-- The value tables carry no foreign keys: an ingest of 100,000 values a second must not pay a
-- lookup per row. Deleting a device or an entity removes its values explicitly.
CREATE TABLE devices (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    integration TEXT NOT NULL,
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    additional TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT devices_tenant_identifier UNIQUE (tenant_id, integration, identifier)
);
CREATE INDEX devices_tenant_created ON devices (tenant_id, created_at);

CREATE TABLE entities (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_key TEXT NOT NULL,
    key_folded TEXT NOT NULL,
    integration TEXT NOT NULL,
    device_id BIGINT REFERENCES devices (id) ON DELETE CASCADE,
    parent_key TEXT,
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    access_mod TEXT NOT NULL,
    value_type TEXT NOT NULL,
    value_attribute TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT entities_tenant_key UNIQUE (tenant_id, entity_key)
);
CREATE INDEX entities_device ON entities (device_id);
CREATE INDEX entities_tenant_parent ON entities (tenant_id, parent_key);

-- One row per entity: its newest value. Exactly one value column is set.
CREATE TABLE entity_latest (
    entity_id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    ts BIGINT NOT NULL,
    long_value BIGINT,
    double_value REAL,
    bool_value BOOLEAN,
    text_value TEXT,
    binary_value BLOB
);

-- Every value of every entity; one value per entity and millisecond.
CREATE TABLE entity_history (
    entity_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    tenant_id TEXT NOT NULL,
    long_value BIGINT,
    double_value REAL,
    bool_value BOOLEAN,
    text_value TEXT,
    binary_value BLOB,
    PRIMARY KEY (entity_id, ts)
);
