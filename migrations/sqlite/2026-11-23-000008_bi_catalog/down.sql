DROP TABLE bi_tables;
DROP TABLE bi_schemas;
DROP TABLE bi_datasources;
DROP TABLE bi_resources;
