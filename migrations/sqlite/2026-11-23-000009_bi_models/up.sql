-- Data models and row permissions (docs/bi-query.md, docs/bi-catalog.md).
--
-- bi_models: beside an AUGMENTED_DATASET resource, its definition as JSON in the shape
-- augmented/create sends it ({"views": [{"id", "name", "alias"}], "dimensions": [{"name",
-- "alias", "viewName", "valueType"}], "measures": [{"name", "alias", "viewName",
-- "aggregator"}], "relations": [{"srcViewName", "destViewName", "linkType",
-- "srcFieldName", "destFieldName"}]}), and the storeType and extractType it was sent with.
CREATE TABLE bi_models (
    resource_id BIGINT PRIMARY KEY REFERENCES bi_resources (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    store_type TEXT NOT NULL,
    extract_type TEXT NOT NULL,
    definition_json TEXT NOT NULL
);

-- bi_row_perms: the row permission items of a TABLE resource, one row each, in the order
-- of position; item_json is the item in the shape dataperm/create sends it ({"itemName",
-- "applicable", "user", "group", "role", "expression"}). An item name is unique per table.
CREATE TABLE bi_row_perms (
    table_id BIGINT NOT NULL REFERENCES bi_resources (id) ON DELETE CASCADE,
    item_name TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    item_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (table_id, item_name)
);
