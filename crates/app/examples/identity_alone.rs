//! The identity domain alone, embedded in a program: no HTTP server, no IoT, no workflow.
//!
//! It opens Weir's storage on an SQLite file, builds `IdentityService` on its ports the way
//! `Weir::assemble_with` does (bcrypt, HS256 JWT, ids, clock), then: adds a tenant, registers
//! its first user (its super admin), adds a second user, creates a role granting one
//! function code (the `device.view` menu) to that user, signs the user in with their
//! password and checks what the principal of the access token may do.
//!
//! cargo run -p weir --example identity_alone                (a temporary folder, removed)
//! cargo run -p weir --example identity_alone -- my.db       (this SQLite file, kept)
//!
//! See docs/embedding.md. Exits non-zero if a check does not hold.

use std::error::Error;
use std::sync::Arc;

use rand::RngCore;
use weir_identity::crypto::{BcryptHasher, JwtCodec};
use weir_identity::service::{
    ClientCredentials, IdentityPorts, MenuNode, NewMember, RegisterInput, RoleChanges,
};
use weir_identity::{IdentityService, IdentitySettings, Principal};
use weir_kernel::{Id, IdGenerator, SystemClock};
use weir_storage::{Database, DatabaseOptions};

const TENANT: &str = "acme";
const GRANTED: &str = "device.view";
const NOT_GRANTED: &str = "device.add";

fn main() -> Result<(), Box<dyn Error>> {
    // The database: the file the first argument names, else one in a temporary folder
    // that is removed when `_dir` goes.
    let _dir;
    let url = match std::env::args().nth(1) {
        Some(path) => path,
        None => {
            _dir = tempfile::tempdir()?;
            _dir.path().join("identity.db").display().to_string()
        }
    };
    println!("storage: SQLite file {url}");
    // Opens the pool and runs the migrations (every domain's tables; only identity's are
    // used here).
    let database = Database::open(&DatabaseOptions::new(url))?;

    // The ports, as Weir::assemble_with builds them. The signing key is kept in the
    // database, so tokens stay valid across runs on one file; a program may bring its own.
    let key = database.setting_or_init("auth.signing_key", || {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    })?;
    let clock = Arc::new(SystemClock);
    let node = database.allocate_id_node()?;
    let identity = IdentityService::new(
        IdentityPorts {
            store: Arc::new(database.clone()),
            // The lowest cost bcrypt allows: this is a demonstration, not a deployment.
            hasher: Arc::new(BcryptHasher::new(weir_identity::crypto::MIN_BCRYPT_COST)),
            tokens: Arc::new(JwtCodec::new(key.as_bytes())),
            ids: Arc::new(IdGenerator::new(node, Box::new(SystemClock))),
            clock,
        },
        IdentitySettings::default(),
    );

    // A tenant with its seeded menus (function codes), super admin role and root group.
    identity.ensure_default_tenant()?;
    let tenant = match identity
        .tenants()?
        .into_iter()
        .find(|t| t.id.as_str() == TENANT)
    {
        Some(t) => t,
        None => identity.add_tenant(TENANT, Some("Acme"), None)?,
    };
    println!("tenant: {} ({})", tenant.id, tenant.name);

    // Its first user becomes its super admin.
    let admin_email = "admin@acme.example";
    let admin_password = "admin-password-1";
    if !identity.tenant_initialized(TENANT)? {
        identity.register(
            TENANT,
            RegisterInput {
                email: admin_email.into(),
                nickname: "Admin".into(),
                password: admin_password.into(),
            },
        )?;
        println!("registered {admin_email}, the tenant's super admin");
    }
    let admin = sign_in(&identity, admin_email, admin_password)?;
    println!(
        "signed in as {admin_email}: super admin = {}",
        admin.super_admin
    );

    // A second user, and a role granting them one menu code.
    let email = format!("viewer-{}@acme.example", unique());
    let password = "viewer-password-1";
    let viewer_id = identity.create_member(
        &admin,
        NewMember {
            email: email.clone(),
            nickname: "Viewer".into(),
            password: password.into(),
        },
    )?;
    println!("created user {email} ({viewer_id})");
    let menu = menu_id(&identity.menu_tree(&admin)?, GRANTED)
        .ok_or(format!("the tenant has no `{GRANTED}` menu"))?;
    let role = identity.create_role(
        &admin,
        &RoleChanges {
            name: Some(format!("Device viewers {}", unique())),
            menus: Some(vec![menu]),
            members: Some(vec![viewer_id]),
            ..RoleChanges::default()
        },
    )?;
    println!(
        "created role `{}` granting `{GRANTED}` to {email}",
        role.role.name
    );

    // The user signs in with their password; the access token speaks for them.
    let viewer = sign_in(&identity, &email, password)?;
    let mut failed = false;
    for (code, expected) in [(GRANTED, true), (NOT_GRANTED, false)] {
        let got = viewer.can(code);
        let verdict = if got == expected { "ok" } else { "WRONG" };
        println!("{email} can `{code}`: {got} (expected {expected}) {verdict}");
        failed |= got != expected;
    }
    if viewer.super_admin {
        println!("{email} is a super admin: WRONG");
        failed = true;
    }
    if failed {
        return Err("a permission check did not hold".into());
    }
    println!("every check held");
    Ok(())
}

/// Signs in with a password (the `password` grant) and checks the access token, as the
/// HTTP layer does for each request.
fn sign_in(
    identity: &IdentityService,
    login: &str,
    password: &str,
) -> Result<Principal, Box<dyn Error>> {
    let tokens =
        identity.token_by_password(TENANT, &ClientCredentials::default(), login, password, None)?;
    Ok(identity.authenticate(&tokens.access_token)?)
}

/// The id of the menu with `code`, anywhere in the tree.
fn menu_id(tree: &[MenuNode], code: &str) -> Option<Id> {
    tree.iter().find_map(|node| {
        if node.menu.code == code {
            Some(node.menu.id)
        } else {
            menu_id(&node.children, code)
        }
    })
}

/// A suffix that keeps names unique when the example runs again on the same file.
fn unique() -> String {
    let mut bytes = [0u8; 3];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
