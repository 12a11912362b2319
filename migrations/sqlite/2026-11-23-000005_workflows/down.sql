DROP TABLE flow_versions;
DROP TABLE flows;
