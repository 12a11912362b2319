//! Pages of roles cut by the store (`RoleRepo::filtered_roles`): filtered, ordered by each
//! sortable property both ways and cut in SQL, on SQLite by default and on PostgreSQL when
//! `WEIR_TEST_DATABASE_URL` is set. The answers are those ThingsKit's role listing gave
//! when it sorted and paged in memory.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_identity::ports::RoleFilter;
use weir_identity::{IdentityTx, Role, Tenant};
use weir_kernel::store::{read, write};
use weir_kernel::{Direction, Id, PageRequest, Sort, TenantId, Transactions};
use weir_storage::{Database, DatabaseOptions, testing};

struct Fresh {
    db: Database,
    _place: testing::TestDatabase,
}

fn t() -> TenantId {
    TenantId::parse("t1").unwrap()
}

fn role(id: i64, name: &str, created: i64, updated: i64, enabled: bool) -> Role {
    let mut role = Role::new(Id(id), t(), name.into(), created);
    role.updated_at = updated;
    role.enabled = enabled;
    role
}

/// Four roles in tenant t1 and one in t2, which no page of t1 shows.
fn fresh() -> Fresh {
    let place = testing::TestDatabase::new().unwrap();
    let db = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    let identity: &dyn Transactions<dyn IdentityTx> = &db;
    write(identity, |tx| {
        for tenant in ["t1", "t2"] {
            let id = TenantId::parse(tenant).unwrap();
            tx.insert_tenant(&Tenant::top_level(id, tenant.into(), 0))?;
        }
        for r in [
            role(1, "beta", 30, 40, true),
            role(2, "Alpha", 10, 50, false),
            role(3, "gamma", 20, 10, true),
            role(4, "alpha", 20, 20, true),
        ] {
            tx.insert_role(&r)?;
        }
        let mut other = role(5, "alpha", 5, 5, true);
        other.tenant_id = TenantId::parse("t2").unwrap();
        tx.insert_role(&other)
    })
    .unwrap();
    Fresh { db, _place: place }
}

fn page(property: &str, descending: bool, number: u32, size: u32) -> PageRequest {
    PageRequest {
        number,
        size,
        sorts: vec![Sort {
            property: property.into(),
            direction: if descending {
                Direction::Desc
            } else {
                Direction::Asc
            },
        }],
    }
}

fn ids(f: &Fresh, filter: &RoleFilter, page: &PageRequest) -> (Vec<i64>, i64) {
    let identity: &dyn Transactions<dyn IdentityTx> = &f.db;
    let (roles, total) = read(identity, |tx| tx.filtered_roles(&t(), filter, page)).unwrap();
    (roles.iter().map(|r| r.id.0).collect(), total)
}

#[test]
fn orders_by_each_field_both_ways() {
    let f = fresh();
    let all = RoleFilter::default();
    let cases = [
        ("created_at", false, vec![2, 3, 4, 1]),
        ("created_at", true, vec![1, 4, 3, 2]),
        ("updated_at", false, vec![3, 4, 1, 2]),
        ("name", false, vec![2, 4, 1, 3]),
        ("name", true, vec![3, 1, 4, 2]),
        ("enabled", false, vec![2, 1, 3, 4]),
        ("role_type", false, vec![1, 2, 3, 4]),
    ];
    for (property, descending, expected) in cases {
        let got = ids(&f, &all, &page(property, descending, 1, 10));
        assert_eq!(got, (expected, 4), "{property} {descending}");
    }
    let newest_first = PageRequest {
        sorts: Vec::new(),
        ..page("name", false, 1, 10)
    };
    assert_eq!(ids(&f, &all, &newest_first).0, [1, 4, 3, 2]);
}

#[test]
fn cuts_pages() {
    let f = fresh();
    let all = RoleFilter::default();
    let q = |number| page("created_at", false, number, 3);
    assert_eq!(ids(&f, &all, &q(1)).0, [2, 3, 4]);
    assert_eq!(ids(&f, &all, &q(2)).0, [1]);
    let (beyond, total) = ids(&f, &all, &q(3));
    assert!(beyond.is_empty());
    assert_eq!(total, 4);
    let (huge, _) = ids(&f, &all, &page("name", true, u32::MAX, u32::MAX));
    assert!(huge.is_empty());
}

#[test]
fn filters_by_name_part_status_and_organisation() {
    let f = fresh();
    let by_name = |part: &str| RoleFilter {
        name_contains: Some(part.into()),
        ..RoleFilter::default()
    };
    let sorted = page("created_at", false, 1, 10);
    assert_eq!(ids(&f, &by_name(" ALPH "), &sorted), (vec![2, 4], 2));
    assert_eq!(ids(&f, &by_name("%"), &sorted), (vec![], 0));
    assert_eq!(ids(&f, &by_name("  "), &sorted).1, 4);
    let enabled = RoleFilter {
        enabled: Some(true),
        ..RoleFilter::default()
    };
    assert_eq!(
        ids(&f, &enabled, &page("created_at", false, 1, 2)),
        (vec![3, 4], 3)
    );
    let global = RoleFilter {
        global_only: true,
        ..RoleFilter::default()
    };
    assert_eq!(ids(&f, &global, &sorted).1, 4);
}
