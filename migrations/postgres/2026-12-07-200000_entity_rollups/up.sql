-- Issue 16: rollups of numeric history (crates/iot/src/rollup.rs), per entity, per minute
-- (span 60000) and per hour (span 3600000), bucket being the span's start (epoch ms). Kept
-- at ingest in the transaction that appends the history; aggregates over long windows read
-- them for whole minutes and hours (docs/scaling.md, "Rollups and retention").
-- value_sum is scaled by 2^-64, as the raw aggregates scale their running totals.
CREATE TABLE entity_rollups (
    entity_id BIGINT NOT NULL,
    span BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    tenant_id TEXT NOT NULL,
    value_count BIGINT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    min_value DOUBLE PRECISION NOT NULL,
    max_value DOUBLE PRECISION NOT NULL,
    first_ts BIGINT NOT NULL,
    first_value DOUBLE PRECISION NOT NULL,
    last_ts BIGINT NOT NULL,
    last_value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (entity_id, span, bucket)
) WITH (fillfactor = 70);
-- Room in each page: a row's update (at every ingest of its bucket) stays in its page and
-- leaves the key untouched (a HOT update).

-- The history stored before: minutes from the raw points, hours from the minutes.
INSERT INTO entity_rollups
SELECT entity_id, 60000, ts - ((ts % 60000) + 60000) % 60000, MIN(tenant_id), COUNT(*),
       SUM(COALESCE(double_value, CAST(long_value AS DOUBLE PRECISION)) * 5.421010862427522e-20),
       MIN(COALESCE(double_value, CAST(long_value AS DOUBLE PRECISION))),
       MAX(COALESCE(double_value, CAST(long_value AS DOUBLE PRECISION))),
       MIN(ts), 0, MAX(ts), 0
FROM entity_history
WHERE double_value IS NOT NULL OR long_value IS NOT NULL
GROUP BY entity_id, ts - ((ts % 60000) + 60000) % 60000;

INSERT INTO entity_rollups
SELECT entity_id, 3600000, bucket - ((bucket % 3600000) + 3600000) % 3600000, MIN(tenant_id),
       SUM(value_count), SUM(value_sum), MIN(min_value), MAX(max_value), MIN(first_ts), 0,
       MAX(last_ts), 0
FROM entity_rollups
WHERE span = 60000
GROUP BY entity_id, bucket - ((bucket % 3600000) + 3600000) % 3600000;

UPDATE entity_rollups SET
    first_value = (SELECT COALESCE(h.double_value, CAST(h.long_value AS DOUBLE PRECISION))
                   FROM entity_history h
                   WHERE h.entity_id = entity_rollups.entity_id AND h.ts = entity_rollups.first_ts),
    last_value = (SELECT COALESCE(h.double_value, CAST(h.long_value AS DOUBLE PRECISION))
                  FROM entity_history h
                  WHERE h.entity_id = entity_rollups.entity_id AND h.ts = entity_rollups.last_ts);
