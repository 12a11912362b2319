DROP TABLE external_identities;
DROP TABLE sso_attempts;
DROP TABLE sso_providers;
