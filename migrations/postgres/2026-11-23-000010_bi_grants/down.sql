DROP TABLE bi_grants;
