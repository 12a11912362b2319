-- SQLite flavour: as PostgreSQL's, but a constraint cannot be renamed.
-- Issue 6: organisations (a tenant tree), user status and login names, role flags, named
-- permissions, and user groups with their members and role grants.

ALTER TABLE tenants ADD COLUMN parent_id TEXT;
ALTER TABLE tenants ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN sort_order BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE tenants SET path = '/' || id;

-- The old email column becomes the login name (the unique constraint follows it), and
-- email becomes optional: users made through the Smartbi API may have none.
ALTER TABLE users RENAME COLUMN email TO username;
-- SQLite keeps the constraint's old name inside the table definition; it now guards username.
ALTER TABLE users ADD COLUMN email TEXT;
UPDATE users SET email = username;
CREATE UNIQUE INDEX users_tenant_email_address ON users (tenant_id, email);
ALTER TABLE users ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'NORMAL';

ALTER TABLE roles ADD COLUMN alias TEXT NOT NULL DEFAULT '';
ALTER TABLE roles ADD COLUMN allow_edit_permissions BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE roles ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE roles ADD COLUMN role_type TEXT NOT NULL DEFAULT 'CUSTOMER_USER';
ALTER TABLE roles ADD COLUMN organisation_id TEXT;
ALTER TABLE roles ADD COLUMN creator_id BIGINT;
-- The user group the role belongs to (where it is listed); granting it to groups is
-- group_roles.
ALTER TABLE roles ADD COLUMN group_id TEXT;
UPDATE roles SET role_type = 'TENANT_ADMIN', allow_edit_permissions = FALSE WHERE built_in;

CREATE TABLE role_permissions (
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (role_id, name)
);

-- Group ids are text a client may choose, unique per tenant; every tenant has the root
-- DEPARTMENT (made by the server).
CREATE TABLE user_groups (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    parent_id TEXT,
    path TEXT NOT NULL,
    creator_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX user_groups_path ON user_groups (tenant_id, path);

CREATE TABLE group_users (
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_users_user ON group_users (user_id);

CREATE TABLE group_roles (
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, group_id, role_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_roles_role ON group_roles (role_id);
