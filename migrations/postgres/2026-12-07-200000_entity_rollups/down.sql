DROP TABLE entity_rollups;
