DROP TABLE entity_history;
DROP TABLE entity_latest;
DROP TABLE entities;
DROP TABLE devices;
