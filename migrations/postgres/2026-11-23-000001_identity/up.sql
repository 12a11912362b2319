-- Identity: tenants, users, roles, menus, grants and refresh tokens.
-- Times are epoch milliseconds; ids are 64-bit snowflakes minted by the server.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    initialized BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    nickname TEXT NOT NULL,
    -- nickname, case-folded by the server (Unicode-aware on both backends), for search
    nickname_folded TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    session_epoch BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT users_tenant_email UNIQUE (tenant_id, email)
);

CREATE TABLE roles (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    built_in BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT roles_tenant_name UNIQUE (tenant_id, name)
);

CREATE TABLE menus (
    id BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    menu_type TEXT NOT NULL,
    parent_id BIGINT,
    built_in BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    CONSTRAINT menus_tenant_code UNIQUE (tenant_id, code)
);
CREATE INDEX menus_tenant_parent ON menus (tenant_id, parent_id);

CREATE TABLE role_users (
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (role_id, user_id)
);
CREATE INDEX role_users_user ON role_users (user_id);

CREATE TABLE role_menus (
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    menu_id BIGINT NOT NULL REFERENCES menus (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (role_id, menu_id)
);
CREATE INDEX role_menus_menu ON role_menus (menu_id);

CREATE TABLE role_resources (
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (role_id, resource_type, resource_id)
);
CREATE INDEX role_resources_target ON role_resources (tenant_id, resource_type, resource_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
