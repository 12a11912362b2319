//! The identity rules every dialect relies on, run on real storage: roles reach users
//! through groups, disabled roles, users and tenants stop granting, named permissions
//! carry native codes, the group and organisation trees.

use std::sync::Arc;

use weir_identity::crypto::{BcryptHasher, JwtCodec};
use weir_identity::service::{
    AccountInput, AccountUpdate, ClientCredentials, GroupInput, GroupUpdate, IdentityPorts,
    LinkMode, RegisterInput, RoleChanges,
};
use weir_identity::{
    AuthError, GroupError, IdentityService, IdentitySettings, Principal, ROOT_GROUP, RoleError,
    UserStatus,
};
use weir_kernel::{IdGenerator, SystemClock};
use weir_storage::testing::TestDatabase;
use weir_storage::{Database, DatabaseOptions};

const PASSWORD: &str = "correct-horse-1";

struct Fixture {
    identity: IdentityService,
    admin: Principal,
    _db: Database,
    _place: TestDatabase,
}

fn fixture() -> Fixture {
    let place = TestDatabase::new().unwrap();
    let db = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    let identity = IdentityService::new(
        IdentityPorts {
            store: Arc::new(db.clone()),
            hasher: Arc::new(BcryptHasher::new(4)),
            tokens: Arc::new(JwtCodec::new(b"a test key of at least thirty-two bytes")),
            ids: Arc::new(IdGenerator::new(1, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
        },
        IdentitySettings::default(),
    );
    identity.ensure_default_tenant().unwrap();
    identity
        .register(
            "default",
            RegisterInput {
                email: "admin@example.com".into(),
                nickname: "Admin".into(),
                password: PASSWORD.into(),
            },
        )
        .unwrap();
    let admin = login(&identity, "default", "admin@example.com").unwrap();
    Fixture {
        identity,
        admin,
        _db: db,
        _place: place,
    }
}

fn login(identity: &IdentityService, tenant: &str, name: &str) -> Result<Principal, AuthError> {
    let pair =
        identity.token_by_password(tenant, &ClientCredentials::default(), name, PASSWORD, None)?;
    Ok(identity.authenticate(&pair.access_token).unwrap())
}

/// A user made by login name, with the test password, in the root group.
fn account(f: &Fixture, name: &str) {
    f.identity
        .create_account(
            &f.admin,
            AccountInput {
                username: name.into(),
                password: Some(PASSWORD.into()),
                ..AccountInput::default()
            },
        )
        .unwrap();
}

fn group(f: &Fixture, id: &str, parent: Option<&str>) {
    f.identity
        .create_group(
            &f.admin,
            GroupInput {
                id: Some(id.into()),
                parent_id: parent.map(Into::into),
                check_parent: true,
                name: id.to_uppercase(),
                ..GroupInput::default()
            },
        )
        .unwrap();
}

fn role_with_permissions(f: &Fixture, name: &str, permissions: &[&str]) -> weir_kernel::Id {
    f.identity
        .create_role(
            &f.admin,
            &RoleChanges {
                name: Some(name.into()),
                permissions: Some(permissions.iter().map(|p| (*p).to_owned()).collect()),
                ..RoleChanges::default()
            },
        )
        .unwrap()
        .role
        .id
}

#[test]
fn a_role_granted_to_a_group_reaches_its_members_and_only_while_they_are_in_it() {
    let f = fixture();
    account(&f, "carol");
    group(&f, "sales", None);
    role_with_permissions(&f, "viewers", &["view-device"]);
    let failed = f
        .identity
        .add_role_groups(&f.admin, "viewers", &["sales".into()], LinkMode::Append)
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let before = login(&f.identity, "default", "carol").unwrap();
    assert!(!before.can("device.view"));

    let failed = f
        .identity
        .add_user_groups(
            &f.admin,
            "carol",
            &["sales".into(), "nope".into()],
            None,
            LinkMode::Append,
        )
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].id, "nope");
    let carol = login(&f.identity, "default", "carol").unwrap();
    assert!(carol.can("device.view") && carol.can("device"));
    assert!(!carol.can("device.add"));
    assert!(carol.has_permission("view-device"));
    assert!(carol.groups.contains("sales") && carol.groups.contains(ROOT_GROUP));
    assert_eq!(
        carol
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["viewers"]
    );

    f.identity
        .remove_user_groups(&f.admin, "carol", &["sales".into()])
        .unwrap();
    let after = login(&f.identity, "default", "carol").unwrap();
    assert!(!after.can("device.view"));
    assert!(after.roles.is_empty());
}

#[test]
fn override_replaces_memberships_and_picks_the_first_group_as_default() {
    let f = fixture();
    account(&f, "dan");
    group(&f, "a", None);
    group(&f, "b", None);
    f.identity
        .add_user_groups(
            &f.admin,
            "dan",
            &["b".into(), "a".into()],
            None,
            LinkMode::Override,
        )
        .unwrap();
    let links = f.identity.user_groups(&f.admin, "dan").unwrap();
    let ids: Vec<(&str, bool)> = links
        .iter()
        .map(|l| (l.group.id.as_str(), l.is_default))
        .collect();
    assert_eq!(ids, [("a", false), ("b", true)]);
    assert_eq!(
        f.identity
            .account(&f.admin, "dan")
            .unwrap()
            .default_group
            .unwrap()
            .id,
        "b"
    );
    // Appending keeps both, and a default outside the user's groups is reported.
    let failed = f
        .identity
        .add_user_groups(
            &f.admin,
            "dan",
            &[ROOT_GROUP.into()],
            Some("zzz"),
            LinkMode::Append,
        )
        .unwrap();
    assert_eq!(failed[0].id, "zzz");
    assert_eq!(f.identity.user_groups(&f.admin, "dan").unwrap().len(), 3);
    // An override naming only unknown groups changes nothing; an empty one clears.
    let failed = f
        .identity
        .add_user_groups(&f.admin, "dan", &["typo".into()], None, LinkMode::Override)
        .unwrap();
    assert_eq!(failed[0].id, "typo");
    assert_eq!(f.identity.user_groups(&f.admin, "dan").unwrap().len(), 3);
    f.identity
        .add_user_groups(&f.admin, "dan", &[], None, LinkMode::Override)
        .unwrap();
    assert!(f.identity.user_groups(&f.admin, "dan").unwrap().is_empty());
}

#[test]
fn a_disabled_role_grants_nothing_until_enabled_again() {
    let f = fixture();
    account(&f, "erin");
    let role = role_with_permissions(&f, "operators", &["manage-device"]);
    f.identity
        .add_account_roles(&f.admin, "erin", &["operators".into()], LinkMode::Append)
        .unwrap();
    assert!(
        login(&f.identity, "default", "erin")
            .unwrap()
            .can("device.delete")
    );
    f.identity.set_role_enabled(&f.admin, role, false).unwrap();
    let erin = login(&f.identity, "default", "erin").unwrap();
    assert!(!erin.can("device.delete") && erin.roles.is_empty());
    f.identity.set_role_enabled(&f.admin, role, true).unwrap();
    assert!(
        login(&f.identity, "default", "erin")
            .unwrap()
            .can("device.delete")
    );
}

#[test]
fn a_disabled_user_cannot_sign_in_and_their_tokens_stop_working() {
    let f = fixture();
    account(&f, "frank");
    let pair = f
        .identity
        .token_by_password(
            "default",
            &ClientCredentials::default(),
            "frank",
            PASSWORD,
            None,
        )
        .unwrap();
    f.identity
        .set_user_status(&f.admin, "frank", UserStatus::Disabled)
        .unwrap();
    assert!(f.identity.authenticate(&pair.access_token).is_err());
    assert!(matches!(
        login(&f.identity, "default", "frank"),
        Err(AuthError::Disabled)
    ));
    // A wrong password still says only that the credentials are wrong.
    assert!(matches!(
        f.identity.token_by_password(
            "default",
            &ClientCredentials::default(),
            "frank",
            "wrong-password",
            None
        ),
        Err(AuthError::InvalidCredentials)
    ));
    f.identity
        .update_account(
            &f.admin,
            "frank",
            AccountUpdate {
                enabled: Some(true),
                ..AccountUpdate::default()
            },
        )
        .unwrap();
    assert!(login(&f.identity, "default", "frank").is_ok());
    // Nobody disables themselves.
    assert!(
        f.identity
            .set_user_status(&f.admin, &f.admin.user_id.to_string(), UserStatus::Disabled)
            .is_err()
    );
}

#[test]
fn a_disabled_tenant_refuses_its_users() {
    let f = fixture();
    let pair = f
        .identity
        .token_by_password(
            "default",
            &ClientCredentials::default(),
            "admin@example.com",
            PASSWORD,
            None,
        )
        .unwrap();
    f.identity.set_tenant_enabled("default", false).unwrap();
    assert!(f.identity.authenticate(&pair.access_token).is_err());
    assert!(matches!(
        login(&f.identity, "default", "admin@example.com"),
        Err(AuthError::Disabled)
    ));
    f.identity.set_tenant_enabled("default", true).unwrap();
    assert!(f.identity.authenticate(&pair.access_token).is_ok());
}

#[test]
fn organisations_form_a_tree_of_isolated_tenants() {
    let f = fixture();
    let east = f
        .identity
        .add_tenant("east", Some("East"), Some("default"))
        .unwrap();
    assert_eq!(east.path, "/default/east");
    assert_eq!(east.parent_id.unwrap().as_str(), "default");
    let north = f
        .identity
        .add_tenant("north", None, Some("default"))
        .unwrap();
    assert_eq!(north.order, 1);
    assert!(
        f.identity
            .add_tenant("west", None, Some("nowhere"))
            .is_err()
    );
    // The parent's admin sees nothing of the child: its groups are its own.
    group(&f, "sales", None);
    assert!(matches!(
        f.identity.group(&f.admin, "east"),
        Err(GroupError::NotFound(_))
    ));
    // A role may belong to the caller's own organisation only.
    let other = f.identity.create_role(
        &f.admin,
        &RoleChanges {
            name: Some("r".into()),
            organisation_id: Some(Some("east".into())),
            ..RoleChanges::default()
        },
    );
    assert!(matches!(other, Err(RoleError::Invalid(_))), "{other:?}");
    let own = f
        .identity
        .create_role(
            &f.admin,
            &RoleChanges {
                name: Some("r".into()),
                organisation_id: Some(Some("default".into())),
                ..RoleChanges::default()
            },
        )
        .unwrap();
    assert_eq!(own.role.organisation_id.unwrap().as_str(), "default");
}

#[test]
fn groups_move_with_their_subtree_and_refuse_cycles_and_orphans() {
    let f = fixture();
    group(&f, "a", None);
    group(&f, "b", Some("a"));
    group(&f, "c", Some("b"));
    group(&f, "z", None);
    assert_eq!(
        f.identity.group(&f.admin, "c").unwrap().path,
        "/DEPARTMENT/a/b/c"
    );
    let moved = f
        .identity
        .update_group(
            &f.admin,
            "b",
            GroupUpdate {
                parent_id: Some("z".into()),
                ..GroupUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(moved.path, "/DEPARTMENT/z/b");
    assert_eq!(
        f.identity.group(&f.admin, "c").unwrap().path,
        "/DEPARTMENT/z/b/c"
    );
    let cycle = f.identity.update_group(
        &f.admin,
        "z",
        GroupUpdate {
            parent_id: Some("c".into()),
            ..GroupUpdate::default()
        },
    );
    assert!(matches!(cycle, Err(GroupError::Cycle)), "{cycle:?}");
    assert!(matches!(
        f.identity.delete_group(&f.admin, "z"),
        Err(GroupError::HasChildren(2))
    ));
    assert!(matches!(
        f.identity.delete_group(&f.admin, ROOT_GROUP),
        Err(GroupError::Root)
    ));
    // An unknown parent: refused when checked, the root otherwise.
    let checked = f.identity.create_group(
        &f.admin,
        GroupInput {
            parent_id: Some("missing".into()),
            check_parent: true,
            name: "x".into(),
            ..GroupInput::default()
        },
    );
    assert!(matches!(checked, Err(GroupError::ParentNotFound(_))));
    let lenient = f
        .identity
        .create_group(
            &f.admin,
            GroupInput {
                parent_id: Some("missing".into()),
                name: "x".into(),
                ..GroupInput::default()
            },
        )
        .unwrap();
    assert_eq!(lenient.parent_id.as_deref(), Some(ROOT_GROUP));
    assert_eq!(lenient.id.len(), 36, "a UUID: {}", lenient.id);
}

#[test]
fn locked_permissions_and_unknown_names_are_refused() {
    let f = fixture();
    let locked = f
        .identity
        .create_role(
            &f.admin,
            &RoleChanges {
                name: Some("locked".into()),
                permissions: Some(vec!["view-report".into()]),
                allow_edit_permissions: Some(false),
                ..RoleChanges::default()
            },
        )
        .unwrap();
    assert_eq!(locked.permissions, ["view-report"]);
    let edit = f.identity.change_role(
        &f.admin,
        locked.role.id,
        &RoleChanges {
            permissions: Some(vec![]),
            ..RoleChanges::default()
        },
    );
    assert!(
        matches!(edit, Err(RoleError::PermissionsLocked(_))),
        "{edit:?}"
    );
    let unknown = f.identity.create_role(
        &f.admin,
        &RoleChanges {
            name: Some("x".into()),
            permissions: Some(vec!["fly".into()]),
            ..RoleChanges::default()
        },
    );
    assert!(matches!(unknown, Err(RoleError::UnknownPermission(_))));
    // Nothing of the refused role was kept.
    assert!(matches!(
        f.identity.find_role(&f.admin, "x"),
        Err(RoleError::NotFoundNamed(_))
    ));
}

#[test]
fn accounts_without_email_sign_in_by_name_and_names_are_unique() {
    let f = fixture();
    account(&f, "zhangsan");
    let p = login(&f.identity, "default", "zhangsan").unwrap();
    assert_eq!(p.user.username, "zhangsan");
    assert!(p.user.email.is_none());
    let again = f.identity.create_account(
        &f.admin,
        AccountInput {
            username: "zhangsan".into(),
            ..AccountInput::default()
        },
    );
    assert!(again.is_err());
    // Without a password nobody can sign in until one is set.
    f.identity
        .create_account(
            &f.admin,
            AccountInput {
                username: "lisi".into(),
                ..AccountInput::default()
            },
        )
        .unwrap();
    assert!(matches!(
        login(&f.identity, "default", "lisi"),
        Err(AuthError::InvalidCredentials)
    ));
}

#[test]
fn a_page_of_role_profiles_is_cut_by_the_store_for_the_super_admin_only() {
    use weir_identity::service::RoleFilter;
    use weir_kernel::{Direction, PageRequest, Sort};
    let f = fixture();
    for name in ["ops-b", "ops-a", "sales"] {
        role_with_permissions(&f, name, &["view-device"]);
    }
    let by_name = |number, size| PageRequest {
        number,
        size,
        sorts: vec![Sort {
            property: "name".into(),
            direction: Direction::Asc,
        }],
    };
    let ops = RoleFilter {
        name_contains: Some("OPS".into()),
        ..RoleFilter::default()
    };
    let page = f
        .identity
        .role_profile_page(&f.admin, &ops, &by_name(2, 1))
        .unwrap();
    let names: Vec<&str> = page.content.iter().map(|p| p.role.name.as_str()).collect();
    assert_eq!((names, page.total, page.page_number), (vec!["ops-b"], 2, 2));
    assert_eq!(page.content[0].permissions, ["view-device"]);
    // Every role of the tenant, the built-in one too, on a page capped at the maximum.
    let all = f
        .identity
        .role_profile_page(&f.admin, &RoleFilter::default(), &by_name(1, u32::MAX))
        .unwrap();
    assert_eq!((all.total, all.page_size), (4, 1000));
    let unsortable = PageRequest {
        sorts: vec![Sort {
            property: "color".into(),
            direction: Direction::Asc,
        }],
        ..by_name(1, 10)
    };
    let refused = f
        .identity
        .role_profile_page(&f.admin, &RoleFilter::default(), &unsortable);
    assert!(matches!(refused, Err(RoleError::Invalid(_))), "{refused:?}");
    account(&f, "carol");
    let carol = login(&f.identity, "default", "carol").unwrap();
    let denied = f
        .identity
        .role_profile_page(&carol, &RoleFilter::default(), &by_name(1, 10));
    assert!(matches!(denied, Err(RoleError::Denied(_))), "{denied:?}");
}
