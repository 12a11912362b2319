-- Workflows: a flow (name, state, newest version) and every saved design of it.
-- name_folded is the name case-folded by the server, for searches that answer alike on
-- both backends.
CREATE TABLE flows (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    remark TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL,
    user_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX flows_tenant_created ON flows (tenant_id, created_at);

-- Old versions are kept; they go with their flow.
CREATE TABLE flow_versions (
    flow_id BIGINT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    design_data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, version)
);
