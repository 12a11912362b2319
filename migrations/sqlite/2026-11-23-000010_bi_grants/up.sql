-- Resource permissions (Smartbi 2.9, perm/assignee/resource; docs/bi-catalog.md,
-- "Resource permissions").
--
-- bi_grants: one grant per resource and assignee. assignee_kind is USER, GROUP or ROLE;
-- assignee_id the user's, group's or role's id as perm/assignee/resource lists it (text:
-- groups come with issue 6). auth is ref, read or edit; scope NONE, FOLDER_FILE,
-- FOLDER_ONLY or FILE_ONLY. A grant goes with its resource.
CREATE TABLE bi_grants (
    resource_id BIGINT NOT NULL REFERENCES bi_resources (id) ON DELETE CASCADE,
    assignee_kind TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    auth TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (resource_id, assignee_kind, assignee_id)
);

-- A caller's grants are read by assignee on every catalog call.
CREATE INDEX bi_grants_by_assignee ON bi_grants (tenant_id, assignee_kind, assignee_id);
