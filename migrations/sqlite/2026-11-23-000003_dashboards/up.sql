-- Dashboards: a name and the console's widgets (a JSON array kept as text).
CREATE TABLE dashboards (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id BIGINT,
    name TEXT NOT NULL,
    widgets TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT dashboards_tenant_name UNIQUE (tenant_id, name)
);
