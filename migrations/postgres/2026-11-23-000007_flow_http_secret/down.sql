ALTER TABLE flows DROP COLUMN http_secret;
