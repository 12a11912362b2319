-- The BI catalog (docs/bi-catalog.md): one tree of typed resources per tenant, and what
-- datasources, schemas and tables keep beside their resource.
--
-- root_key names the two root folders of a tenant (DATA_SOURCES, PUBLIC); it is NULL for
-- every other resource, and only the roots have no parent. Names are unique among
-- siblings, exactly (case included); that index also serves the lookups by parent.
CREATE TABLE bi_resources (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES bi_resources (id) ON DELETE CASCADE,
    root_key TEXT,
    resource_type TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    creator_id BIGINT,
    creator_name TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX bi_resources_sibling_name ON bi_resources (tenant_id, parent_id, name);
CREATE UNIQUE INDEX bi_resources_root ON bi_resources (tenant_id, root_key);

-- password_sealed is the connectPassword sealed with AES-256-GCM (never in clear); NULL
-- when the datasource has none.
CREATE TABLE bi_datasources (
    resource_id BIGINT PRIMARY KEY REFERENCES bi_resources (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    driver_type TEXT NOT NULL,
    driver_class_name TEXT NOT NULL,
    driver_catalog TEXT,
    url TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    password_sealed TEXT,
    max_connection BIGINT NOT NULL,
    transaction_isolation BIGINT NOT NULL
);

-- schema_name is the schema's name in the datasource (the resource's name may be
-- changed); sync_all: a sync mirrors every table of the schema.
CREATE TABLE bi_schemas (
    resource_id BIGINT PRIMARY KEY REFERENCES bi_resources (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    datasource_id BIGINT NOT NULL REFERENCES bi_resources (id) ON DELETE CASCADE,
    schema_name TEXT NOT NULL,
    catalog TEXT,
    sync_all BOOLEAN NOT NULL DEFAULT FALSE,
    synced_at BIGINT
);

CREATE UNIQUE INDEX bi_schemas_name ON bi_schemas (datasource_id, schema_name);

-- columns_json: the table's columns as last read, a JSON array of
-- {"name", "nativeType", "fieldType", "nullable"} in the table's order.
CREATE TABLE bi_tables (
    resource_id BIGINT PRIMARY KEY REFERENCES bi_resources (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    schema_id BIGINT NOT NULL REFERENCES bi_resources (id) ON DELETE CASCADE,
    table_kind TEXT NOT NULL,
    columns_json TEXT NOT NULL,
    synced_at BIGINT NOT NULL
);

CREATE INDEX bi_tables_schema ON bi_tables (schema_id);
