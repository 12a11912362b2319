DROP TABLE bi_row_perms;
DROP TABLE bi_models;
