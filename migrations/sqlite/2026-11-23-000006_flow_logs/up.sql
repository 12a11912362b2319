-- Run logs: one row per run of a flow. trace_info holds the trace of every node the run
-- ran as one JSON array (message_id, node_id, node_label, status, start_time, time_cost,
-- error_message, input, output), read only when one log is shown.
-- Logs go with their flow, and so with their tenant. The retention job deletes the oldest
-- across all tenants, by start_time.
CREATE TABLE flow_logs (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    flow_id BIGINT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('SUCCESS', 'ERROR')),
    start_time BIGINT NOT NULL,
    time_cost BIGINT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    trace_info TEXT NOT NULL DEFAULT '[]'
);

-- The search filters by tenant and flow and orders by start_time. flow_id leads so that the
-- same index serves the cascade when a flow is deleted (a child key without an index of its
-- own makes both backends scan the whole table for every deleted flow).
CREATE INDEX flow_logs_flow_tenant_start ON flow_logs (flow_id, tenant_id, start_time);
CREATE INDEX flow_logs_start ON flow_logs (start_time);
