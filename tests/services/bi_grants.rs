//! Resource permissions (document 2.9) on real storage, both backends: the level each
//! scope gives, by user and by role, on folders, datasources and what is under them;
//! listings filtered; hidden resources not found; grants gone with their resource; another
//! tenant's resources out of reach. Datasources here are never connected to.

use std::sync::Arc;

use weir_bi_catalog::catalog::{
    AesGcmSealer, Auth, Caller, CatalogError, CatalogPorts, CatalogService, CatalogSettings,
    ChildQuery, ConnectionFields, Describe, GrantRule, NewDatasource, NewFolder, NewSchema,
    Resource, ResourceRef, Root, TestTarget,
};
use weir_kernel::{AsProblem, Id, IdGenerator, ProblemKind, SystemClock};
use weir_storage::Database;
use weir_storage::testing::TestDatabase;

use crate::tenant;

struct World {
    catalog: CatalogService,
    db: Database,
    _place: TestDatabase,
}

fn world() -> World {
    let (place, db) = crate::database_with_tenants();
    let sealer = Arc::new(AesGcmSealer::from_hex(&AesGcmSealer::random_key_hex()).unwrap());
    World {
        catalog: CatalogService::new(
            CatalogPorts {
                store: Arc::new(db.clone()),
                drivers: Arc::new(crate::local_drivers(&place)),
                sealer,
                ids: Arc::new(IdGenerator::new(6, Box::new(SystemClock))),
                clock: Arc::new(SystemClock),
            },
            CatalogSettings::default(),
        ),
        db,
        _place: place,
    }
}

const ROLE: Id = Id(500);
const PUBLIC: ResourceRef = ResourceRef::Root(Root::Public);

fn admin() -> Caller {
    Caller::user(tenant("t1"), Id(1), "Admin").with_super_admin(true)
}

/// A plain user holding [`ROLE`].
fn bob() -> Caller {
    Caller::user(tenant("t1"), Id(2), "Bob").with_roles([ROLE])
}

use crate::count;

fn folder(w: &World, parent: ResourceRef, name: &str) -> Resource {
    w.catalog
        .create_folder(
            &admin(),
            NewFolder {
                parent,
                name: name.into(),
                alias: None,
                desc: None,
            },
        )
        .unwrap()
}

fn rule(users: &[Id], roles: &[Id], auth: &str, scope: &str) -> GrantRule {
    GrantRule {
        users: users.iter().map(Id::to_string).collect(),
        roles: roles.iter().map(Id::to_string).collect(),
        auth: Some(auth.into()),
        scope: Some(scope.into()),
        ..GrantRule::default()
    }
}

fn set(w: &World, on: &Resource, rules: &[GrantRule], replace: bool) {
    w.catalog
        .set_grants(&admin(), on.id.into(), rules, replace)
        .unwrap();
}

/// What `c` holds on `r`: none (not found), or the highest level that does not refuse.
fn level(w: &World, c: &Caller, r: &Resource) -> Option<Auth> {
    let id: ResourceRef = r.id.into();
    if let Err(e) = w.catalog.resource(c, id) {
        assert_eq!(e.problem().kind, ProblemKind::NotFound, "{e}");
        return None;
    }
    // edit: a grant on the resource needs edit and changes nothing when it re-sets the
    // same grants (the admin's own are re-written as they are).
    let grants = w.catalog.grants(&admin(), id).unwrap();
    let rules: Vec<GrantRule> = grants
        .iter()
        .map(|g| GrantRule {
            users: g.users.clone(),
            groups: g.groups.clone(),
            roles: g.roles.clone(),
            auth: Some(g.auth.as_str().into()),
            scope: Some(g.scope.as_str().into()),
        })
        .collect();
    match w.catalog.set_grants(c, id, &rules, true) {
        Ok(()) => Some(Auth::Edit),
        Err(CatalogError::Denied { need, held, .. }) => {
            assert_eq!(need, Auth::Edit);
            Some(held)
        }
        Err(e) => panic!("{e}"),
    }
}

fn names(w: &World, c: &Caller, id: ResourceRef) -> Vec<String> {
    w.catalog
        .child_list(
            c,
            id,
            &ChildQuery {
                include_descendants: true,
                ..ChildQuery::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|e| e.resource.name)
        .collect()
}

/// PUBLIC/team/{sub/deep, shop (a datasource)/main (a schema)}.
struct Tree {
    team: Resource,
    sub: Resource,
    deep: Resource,
    ds: Resource,
    schema: Resource,
}

fn tree(w: &World) -> Tree {
    let team = folder(w, PUBLIC, "team");
    let sub = folder(w, team.id.into(), "sub");
    let deep = folder(w, sub.id.into(), "deep");
    let ds = w
        .catalog
        .create_datasource(
            &admin(),
            NewDatasource {
                parent: Some(team.id.into()),
                name: "shop".into(),
                alias: None,
                desc: None,
                connection: ConnectionFields {
                    driver_type: Some("SQLITE".into()),
                    url: Some("jdbc:sqlite:/nowhere/shop.db".into()),
                    ..ConnectionFields::default()
                },
            },
        )
        .unwrap();
    let (schema, _) = w
        .catalog
        .create_schema(
            &admin(),
            NewSchema {
                datasource: ds.id.into(),
                name: "main".into(),
                catalog: None,
                need_sync: false,
            },
        )
        .unwrap();
    Tree {
        team,
        sub,
        deep,
        ds,
        schema,
    }
}

#[test]
fn each_scope_reaches_what_the_table_says_by_user_and_by_role() {
    let w = world();
    let t = tree(&w);
    let all = |w: &World| [&t.team, &t.sub, &t.deep, &t.ds, &t.schema].map(|r| level(w, &bob(), r));
    assert_eq!(all(&w), [None; 5]);
    assert!(names(&w, &bob(), PUBLIC).is_empty());

    let (r, e, n) = (Some(Auth::Ref), Some(Auth::Edit), None);
    let rd = Some(Auth::Read);
    for (scope, want) in [
        ("NONE", [rd, n, n, n, n]),
        ("FOLDER_FILE", [rd, rd, rd, rd, rd]),
        ("FOLDER_ONLY", [rd, rd, rd, n, n]),
        ("FILE_ONLY", [rd, n, n, rd, rd]),
    ] {
        // By user...
        set(&w, &t.team, &[rule(&[Id(2)], &[], "read", scope)], true);
        assert_eq!(all(&w), want, "{scope} for the user");
        // ...and by role, the same.
        set(&w, &t.team, &[rule(&[], &[ROLE], "read", scope)], true);
        assert_eq!(all(&w), want, "{scope} for the role");
    }
    // FILE_ONLY lists the folder and its datasource, with what is under it.
    assert_eq!(names(&w, &bob(), PUBLIC), ["team", "shop", "main"]);

    // The highest grant wins: the role reads everything, the user edits the sub-folders.
    set(
        &w,
        &t.team,
        &[
            rule(&[], &[ROLE], "ref", "FOLDER_FILE"),
            rule(&[Id(2)], &[], "edit", "FOLDER_ONLY"),
        ],
        true,
    );
    assert_eq!(all(&w), [e, e, e, r, r]);
    // A grant on the datasource reaches its schema, whatever its scope.
    set(&w, &t.ds, &[rule(&[Id(2)], &[], "edit", "NONE")], false);
    assert_eq!(all(&w), [e, e, e, e, e]);
    assert_eq!(
        names(&w, &bob(), PUBLIC),
        ["team", "sub", "deep", "shop", "main"]
    );
    // Another role's grant, or another user's, is not Bob's.
    set(
        &w,
        &t.ds,
        &[rule(&[Id(3)], &[Id(501)], "edit", "NONE")],
        true,
    );
    assert_eq!(level(&w, &bob(), &t.ds), r);
}

#[test]
fn hidden_resources_are_not_found_and_seen_ones_name_the_level_needed() {
    let w = world();
    let t = tree(&w);
    let e = w
        .catalog
        .update_folder(&bob(), t.sub.id.into(), Describe::default())
        .unwrap_err();
    assert_eq!(
        e.problem().message,
        format!("resource {} not found", t.sub.id)
    );
    // Hidden, even when the type is wrong for the action.
    let e = w.catalog.table(&bob(), t.sub.id.into()).unwrap_err();
    assert_eq!(e.problem().kind, ProblemKind::NotFound);
    // The roots are seen by everyone, and not changed by them.
    let e = w
        .catalog
        .create_folder(
            &bob(),
            NewFolder {
                parent: PUBLIC,
                name: "mine".into(),
                alias: None,
                desc: None,
            },
        )
        .unwrap_err();
    let p = e.problem();
    assert_eq!(
        (p.kind, p.code, p.message.as_str()),
        (
            ProblemKind::Forbidden,
            "forbidden_permission",
            "folder PUBLIC: this needs the edit permission on it, you hold ref"
        )
    );
    set(&w, &t.team, &[rule(&[Id(2)], &[], "read", "NONE")], false);
    let e = w.catalog.delete(&bob(), &[t.team.id.into()]).unwrap_err();
    assert_eq!(
        e.problem().message,
        format!(
            "folder {}: this needs the edit permission on it, you hold read",
            t.team.id
        )
    );
    assert_eq!(count(&w.db, "bi_resources"), 7);
}

#[test]
fn grants_go_with_their_resource_and_stay_in_their_tenant() {
    let w = world();
    let t = tree(&w);
    set(
        &w,
        &t.schema,
        &[rule(&[Id(2)], &[ROLE], "edit", "NONE")],
        false,
    );
    set(&w, &t.sub, &[rule(&[Id(2)], &[], "ref", "NONE")], false);
    assert_eq!(count(&w.db, "bi_grants"), 3);
    // Append: Bob's grant on sub is replaced, the role's added.
    set(
        &w,
        &t.sub,
        &[rule(&[Id(2)], &[ROLE], "read", "FOLDER_ONLY")],
        false,
    );
    assert_eq!(count(&w.db, "bi_grants"), 4);
    w.catalog.delete(&admin(), &[t.ds.id.into()]).unwrap();
    assert_eq!(count(&w.db, "bi_grants"), 2);

    // Another tenant's super admin does not reach them.
    let mallory = Caller::user(tenant("t2"), Id(9), "Mallory").with_super_admin(true);
    for id in [t.sub.id, t.team.id] {
        let e = w.catalog.grants(&mallory, id.into()).unwrap_err();
        assert_eq!(e.problem().message, format!("resource {id} not found"));
        let e = w
            .catalog
            .set_grants(&mallory, id.into(), &[], true)
            .unwrap_err();
        assert_eq!(e.problem().kind, ProblemKind::NotFound);
    }
    assert_eq!(count(&w.db, "bi_grants"), 2);
    // A grant in t1 naming a t2 user's id gives that user nothing in t2.
    let theirs = Caller::user(tenant("t2"), Id(2), "Bob in t2").with_roles([ROLE]);
    assert!(names(&w, &theirs, PUBLIC).is_empty());
}

#[test]
fn testing_an_unsaved_datasource_needs_the_right_to_register_one() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x int)")
        .unwrap();
    let unsaved = || {
        TestTarget::Unsaved(ConnectionFields {
            driver_type: Some("SQLITE".into()),
            url: Some(format!("jdbc:sqlite:{}", path.display())),
            ..ConnectionFields::default()
        })
    };
    // A plain user may not make the server reach a database they name...
    let e = w.catalog.test_datasource(&bob(), unsaved()).unwrap_err();
    assert_eq!(e.problem().kind, ProblemKind::Forbidden, "{e}");
    // ...until they may register datasources.
    w.catalog
        .set_grants(
            &admin(),
            ResourceRef::Root(Root::DataSources),
            &[rule(&[], &[ROLE], "edit", "NONE")],
            false,
        )
        .unwrap();
    w.catalog.test_datasource(&bob(), unsaved()).unwrap();
    w.catalog.test_datasource(&admin(), unsaved()).unwrap();
}
