-- The hash of a flow's httpIn credential secret (the secret itself is shown once, never kept).
ALTER TABLE flows ADD COLUMN http_secret TEXT;
