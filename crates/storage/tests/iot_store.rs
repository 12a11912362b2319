//! The IoT repository on a real database: SQLite by default, PostgreSQL when
//! `WEIR_TEST_DATABASE_URL` is set (CI's second pass).

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use weir_identity::{IdentityTx, Tenant};
use weir_iot::model::{AccessMod, EntityDefinition, EntityType, ValueAttribute, ValueType};
use weir_iot::ports::{
    Aggregate, AggregateResult, Device, DeviceFilter, Entity, EntityFilter, IotTx, ValuePoint,
    VisibleSet,
};
use weir_iot::value::EntityValue;
use weir_kernel::store::{read, write};
use weir_kernel::{Id, PageRequest, StoreError, TenantId, Transactions};
use weir_storage::{Database, DatabaseOptions, testing};

/// A fresh database with the tenants t1 and t2.
struct Fresh {
    db: Database,
    _place: testing::TestDatabase,
}

fn fresh() -> Fresh {
    let place = testing::TestDatabase::new().unwrap();
    let db = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    let identity: &dyn Transactions<dyn IdentityTx> = &db;
    for t in ["t1", "t2"] {
        write(identity, |tx| {
            tx.insert_tenant(&Tenant::top_level(TenantId::parse(t).unwrap(), t.into(), 0))
        })
        .unwrap();
    }
    Fresh { db, _place: place }
}

fn store(f: &Fresh) -> &dyn Transactions<dyn IotTx> {
    &f.db
}

fn t(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

fn def(identifier: &str, value_type: ValueType) -> EntityDefinition {
    EntityDefinition {
        identifier: identifier.into(),
        name: format!("Name of {identifier}"),
        entity_type: EntityType::Property,
        access_mod: AccessMod::RW,
        value_type,
        value_attribute: ValueAttribute {
            unit: Some("u".into()),
            ..Default::default()
        },
        children: vec![],
    }
}

fn entity(
    id: i64,
    device: Option<Id>,
    key: &str,
    parent: Option<&str>,
    d: EntityDefinition,
) -> Entity {
    Entity {
        id: Id(id),
        tenant_id: t("t1"),
        key: key.into(),
        integration: "demo".into(),
        device_id: device,
        parent_key: parent.map(Into::into),
        definition: d,
        created_at: 1,
        updated_at: 1,
    }
}

fn point(entity: i64, ts: i64, value: EntityValue) -> ValuePoint {
    ValuePoint {
        entity_id: Id(entity),
        timestamp: ts,
        value,
    }
}

fn page(size: i64) -> PageRequest {
    PageRequest::new(Some(1), Some(size), vec![], 1000, &[]).unwrap()
}

/// Device 10 with LONG 100, DOUBLE 101, STRING 102, BOOLEAN 103, BINARY 104, and OBJECT
/// 105 with its child 106.
fn seed(f: &Fresh) {
    let device = Device {
        id: Id(10),
        tenant_id: t("t1"),
        integration: "demo".into(),
        identifier: "d1".into(),
        name: "Boiler Ünit".into(),
        additional: json!({"interval": 5}).as_object().unwrap().clone(),
        created_at: 1,
        updated_at: 1,
    };
    let d = Some(Id(10));
    let mut object = def("loc", ValueType::Object);
    object.entity_type = EntityType::Property;
    let entities = vec![
        entity(
            100,
            d,
            "demo.device.d1.temp",
            None,
            def("temp", ValueType::Long),
        ),
        entity(
            101,
            d,
            "demo.device.d1.hum",
            None,
            def("hum", ValueType::Double),
        ),
        entity(
            102,
            d,
            "demo.device.d1.state",
            None,
            def("state", ValueType::String),
        ),
        entity(
            103,
            d,
            "demo.device.d1.on",
            None,
            def("on", ValueType::Boolean),
        ),
        entity(
            104,
            d,
            "demo.device.d1.raw",
            None,
            def("raw", ValueType::Binary),
        ),
        entity(105, d, "demo.device.d1.loc", None, object),
        entity(
            106,
            d,
            "demo.device.d1.loc.lat",
            Some("demo.device.d1.loc"),
            def("lat", ValueType::Double),
        ),
    ];
    write(store(f), |tx| {
        tx.insert_device(&device)?;
        tx.insert_entities(&entities)
    })
    .unwrap();
}

#[test]
fn devices_and_entities_round_trip_and_stay_in_their_tenant() {
    let f = fresh();
    seed(&f);
    read(store(&f), |tx| -> Result<(), StoreError> {
        let d = tx.device(&t("t1"), Id(10))?.unwrap();
        assert_eq!(
            (d.name.as_str(), d.additional["interval"].clone()),
            ("Boiler Ünit", json!(5))
        );
        assert!(
            tx.device(&t("t2"), Id(10))?.is_none(),
            "another tenant sees nothing"
        );
        assert!(tx.entity(&t("t2"), Id(100))?.is_none());
        let by_name = DeviceFilter {
            keyword: Some("ünit".into()),
            ..Default::default()
        };
        let (found, total) = tx.search_devices(&t("t1"), &by_name, &page(10))?;
        assert_eq!((found.len(), total), (1, 1));
        let granted = |integrations: &[&str], devices: &[i64], entities: &[i64]| VisibleSet {
            integrations: integrations.iter().map(|s| s.to_string()).collect(),
            devices: devices.iter().map(|i| Id(*i)).collect(),
            entities: entities.iter().map(|i| Id(*i)).collect(),
            dashboards: Vec::new(),
        };
        let none = DeviceFilter {
            visible: Some(granted(&[], &[], &[100])),
            ..Default::default()
        };
        assert_eq!(
            tx.search_devices(&t("t1"), &none, &page(10))?.1,
            0,
            "an entity grant shows no device"
        );
        let device = DeviceFilter {
            visible: Some(granted(&[], &[10], &[])),
            ..Default::default()
        };
        assert_eq!(tx.search_devices(&t("t1"), &device, &page(10))?.1, 1);
        let integration = DeviceFilter {
            visible: Some(granted(&["demo"], &[], &[])),
            ..Default::default()
        };
        assert_eq!(tx.search_devices(&t("t1"), &integration, &page(10))?.1, 1);
        let one = EntityFilter {
            visible: Some(granted(&[], &[], &[100, 106])),
            ..Default::default()
        };
        assert_eq!(tx.search_entities(&t("t1"), &one, &page(10))?.1, 2);
        let via_device = EntityFilter {
            visible: Some(granted(&[], &[10], &[])),
            ..Default::default()
        };
        assert_eq!(tx.search_entities(&t("t1"), &via_device, &page(10))?.1, 7);
        let elsewhere = EntityFilter {
            visible: Some(granted(&["other"], &[], &[])),
            ..Default::default()
        };
        assert_eq!(tx.search_entities(&t("t1"), &elsewhere, &page(10))?.1, 0);
        let e = tx.entity(&t("t1"), Id(101))?.unwrap();
        assert_eq!(e.definition.value_type, ValueType::Double);
        assert_eq!(e.definition.value_attribute.unit.as_deref(), Some("u"));
        assert_eq!(tx.children(&t("t1"), "demo.device.d1.loc")?.len(), 1);
        let (all, total) = tx.search_entities(&t("t1"), &EntityFilter::default(), &page(100))?;
        assert_eq!((all.len(), total), (7, 7));
        let roots = EntityFilter {
            exclude_children: true,
            ..Default::default()
        };
        assert_eq!(tx.search_entities(&t("t1"), &roots, &page(100))?.1, 6);
        let numbers = EntityFilter {
            value_types: vec![ValueType::Long, ValueType::Double],
            ..Default::default()
        };
        assert_eq!(tx.search_entities(&t("t1"), &numbers, &page(100))?.1, 3);
        let keyword = EntityFilter {
            keyword: Some("NAME OF TE".into()),
            ..Default::default()
        };
        assert_eq!(
            tx.search_entities(&t("t1"), &keyword, &page(100))?.0[0].key,
            "demo.device.d1.temp"
        );
        assert_eq!(
            tx.counts_by_integration(&t("t1"))?,
            vec![("demo".to_string(), 1, 7)]
        );
        assert!(tx.counts_by_integration(&t("t2"))?.is_empty());
        Ok(())
    })
    .unwrap();
}

#[test]
fn values_keep_history_and_the_newest_latest() {
    let f = fresh();
    seed(&f);
    let tenant = t("t1");
    let mut points: Vec<ValuePoint> = (1..=2500)
        .map(|i| point(100, i, EntityValue::Long(i % 10)))
        .collect();
    points.push(point(100, 5, EntityValue::Long(99))); // same millisecond again: skipped
    points.extend([
        point(101, 10, EntityValue::Double(1.5)),
        point(101, 20, EntityValue::Double(2.5)),
        point(102, 1, EntityValue::String("on".into())),
        point(102, 2, EntityValue::String("off".into())),
        point(102, 3, EntityValue::String("on".into())),
        point(103, 1, EntityValue::Boolean(false)),
        point(104, 1, EntityValue::Binary(vec![0, 1, 255])),
    ]);
    write(store(&f), |tx| {
        tx.append_history(&tenant, &points)?;
        tx.upsert_latest(&tenant, &points)
    })
    .unwrap();
    // An older point arriving later does not replace the latest value.
    let late = [
        point(101, 15, EntityValue::Double(9.9)),
        point(100, 3000, EntityValue::Long(7)),
    ];
    write(store(&f), |tx| tx.upsert_latest(&tenant, &late)).unwrap();
    read(store(&f), |tx| -> Result<(), StoreError> {
        let mut latest = tx.latest(&tenant, &[Id(100), Id(101), Id(103), Id(104)])?;
        latest.sort_by_key(|p| p.entity_id);
        assert_eq!(latest[0], point(100, 3000, EntityValue::Long(7)));
        assert_eq!(latest[1], point(101, 20, EntityValue::Double(2.5)));
        assert_eq!(latest[2].value, EntityValue::Boolean(false));
        assert_eq!(latest[3].value, EntityValue::Binary(vec![0, 1, 255]));
        assert!(tx.latest(&t("t2"), &[Id(100)])?.is_empty());

        let (newest, total) = tx.history(&tenant, Id(100), 1, 2500, &page(3))?;
        assert_eq!(total, 2500);
        assert_eq!(
            newest.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
            vec![2500, 2499, 2498]
        );
        assert_eq!(
            tx.history(&tenant, Id(100), 5, 5, &page(3))?.0[0].value,
            EntityValue::Long(5)
        );

        let number = |r| match r {
            AggregateResult::Number(v) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            number(tx.aggregate(&tenant, Id(100), 1, 2500, Aggregate::Min)?),
            Some(0.0)
        );
        assert_eq!(
            number(tx.aggregate(&tenant, Id(100), 1, 2500, Aggregate::Max)?),
            Some(9.0)
        );
        assert_eq!(
            number(tx.aggregate(&tenant, Id(100), 1, 2500, Aggregate::Sum)?),
            Some(11250.0)
        );
        assert_eq!(
            number(tx.aggregate(&tenant, Id(100), 1, 2500, Aggregate::Avg)?),
            Some(4.5)
        );
        assert_eq!(
            number(tx.aggregate(&tenant, Id(101), 0, 100, Aggregate::Avg)?),
            Some(2.0)
        );
        assert_eq!(
            number(tx.aggregate(&tenant, Id(101), 500, 600, Aggregate::Max)?),
            None
        );
        assert_eq!(
            tx.aggregate(&tenant, Id(101), 0, 15, Aggregate::Last)?,
            AggregateResult::Last(Some(point(101, 10, EntityValue::Double(1.5))))
        );
        assert_eq!(
            tx.aggregate(&tenant, Id(102), 0, 10, Aggregate::Count)?,
            AggregateResult::Counts(vec![("on".into(), 2), ("off".into(), 1)])
        );
        assert_eq!(
            tx.aggregate(&tenant, Id(103), 0, 10, Aggregate::Count)?,
            AggregateResult::Counts(vec![("false".into(), 1)])
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn deleting_removes_values_and_children() {
    let f = fresh();
    seed(&f);
    let tenant = t("t1");
    let points = [
        point(105, 1, EntityValue::Double(1.0)),
        point(106, 1, EntityValue::Double(2.0)),
        point(100, 1, EntityValue::Long(1)),
    ];
    write(store(&f), |tx| {
        tx.append_history(&tenant, &points[1..])?;
        tx.upsert_latest(&tenant, &points[1..])
    })
    .unwrap();
    write(store(&f), |tx| {
        tx.delete_entities(&tenant, &[Id(105)]).map(drop)
    })
    .unwrap();
    read(store(&f), |tx| -> Result<(), StoreError> {
        assert!(
            tx.entity(&tenant, Id(106))?.is_none(),
            "the child went with its parent"
        );
        assert!(tx.latest(&tenant, &[Id(106)])?.is_empty());
        assert!(tx.entity(&tenant, Id(100))?.is_some());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        write(store(&f), |tx| tx.delete_devices(&t("t2"), &[Id(10)])).unwrap(),
        0,
        "not another tenant's"
    );
    assert_eq!(
        write(store(&f), |tx| tx.delete_devices(&tenant, &[Id(10)])).unwrap(),
        1
    );
    read(store(&f), |tx| -> Result<(), StoreError> {
        assert!(tx.entities_of_device(&tenant, Id(10))?.is_empty());
        assert!(tx.latest(&tenant, &[Id(100)])?.is_empty());
        assert_eq!(tx.history(&tenant, Id(100), 0, 10, &page(10))?.1, 0);
        Ok(())
    })
    .unwrap();
}

/// Every stored rollup of `entity` over [0, 10 h), per span.
fn stored_rollups(f: &Fresh, entity: i64) -> Vec<Option<weir_iot::rollup::Rollup>> {
    use weir_iot::rollup::{HOUR, SPANS};
    read(store(f), |tx| -> Result<_, StoreError> {
        SPANS
            .iter()
            .map(|&span| tx.rollup(&t("t1"), Id(entity), span, 0, 10 * HOUR))
            .collect()
    })
    .unwrap()
}

#[test]
fn rollups_follow_the_stored_points_and_the_migration_rebuilds_them() {
    use diesel::connection::SimpleConnection;
    use weir_iot::rollup::{HOUR, MINUTE, Rollup, SPANS, rows_of};
    let f = fresh();
    let tenant = t("t1");
    // LONG 300 and DOUBLE 301 (no entity rows needed: value tables have no foreign keys);
    // a batch straddling minutes and hours, then one repeating some of its times with
    // other values (skipped), plus new ones.
    let first: Vec<ValuePoint> = (0..2000)
        .map(|i| point(300 + i % 2, i * 4_321, EntityValue::Long(i * 7 % 97 - 40)))
        .map(|mut p| {
            if p.entity_id == Id(301) {
                p.value = EntityValue::Double(p.timestamp as f64 / 8.0 % 50.0);
            }
            p
        })
        .collect();
    write(store(&f), |tx| tx.append_history(&tenant, &first)).unwrap();
    let again: Vec<ValuePoint> = first
        .iter()
        .step_by(3)
        .map(|p| point(p.entity_id.get(), p.timestamp, EntityValue::Long(1_000_000)))
        .chain((0..50).map(|i| point(300, 2000 * 4_321 + i * 1_000, EntityValue::Long(i))))
        .collect();
    write(store(&f), |tx| tx.append_history(&tenant, &again)).unwrap();
    let stored: Vec<ValuePoint> = first
        .iter()
        .chain(&again[again.len() - 50..])
        .cloned()
        .collect();
    for entity in [300, 301] {
        let want: Vec<Option<Rollup>> = SPANS
            .iter()
            .map(|&span| {
                Rollup::combine(
                    rows_of(stored.iter().filter(|p| p.entity_id == Id(entity)))
                        .into_iter()
                        .filter(|r| r.span == span)
                        .map(|r| Some(r.rollup)),
                )
            })
            .collect();
        assert_eq!(stored_rollups(&f, entity), want, "entity {entity}");
        // One minute alone.
        let minute = read(store(&f), |tx| {
            tx.rollup(&tenant, Id(entity), MINUTE, MINUTE, 2 * MINUTE)
        })
        .unwrap()
        .unwrap();
        let raw = read(store(&f), |tx| {
            tx.history_rollup(
                &tenant,
                Id(entity),
                if entity == 300 {
                    ValueType::Long
                } else {
                    ValueType::Double
                },
                MINUTE,
                2 * MINUTE - 1,
            )
        })
        .unwrap()
        .unwrap();
        assert_eq!(minute, raw);
    }
    let before = [stored_rollups(&f, 300), stored_rollups(&f, 301)];
    assert!(before[0][1].unwrap().count > 0);

    // The migration builds the rollups of the history stored before it.
    let up = match f.db.backend() {
        weir_storage::Backend::Postgres => {
            include_str!("../../../migrations/postgres/2026-12-07-200000_entity_rollups/up.sql")
        }
        weir_storage::Backend::Sqlite => {
            include_str!("../../../migrations/sqlite/2026-12-07-200000_entity_rollups/up.sql")
        }
    };
    f.db.transaction(weir_kernel::TxMode::Write, |c| {
        c.batch_execute(&format!("DROP TABLE entity_rollups; {up}"))
            .map_err(|e| StoreError::Internal(e.to_string()))
    })
    .unwrap();
    assert_eq!([stored_rollups(&f, 300), stored_rollups(&f, 301)], before);

    // Retention: the oldest points first, in bounded batches; rollups whose bucket ended.
    let deleted = write(store(&f), |tx| {
        tx.delete_history_before(&tenant, Id(300), HOUR, 100)
    })
    .unwrap();
    assert_eq!(deleted, 100);
    let (left, total) = read(store(&f), |tx| {
        tx.history(&tenant, Id(300), 0, HOUR - 1, &page(1))
    })
    .unwrap();
    let old = stored
        .iter()
        .filter(|p| p.entity_id == Id(300) && p.timestamp < HOUR)
        .count();
    assert_eq!(total as usize, old - 100);
    assert_eq!(
        left[0].timestamp,
        stored
            .iter()
            .rfind(|p| p.entity_id == Id(300) && p.timestamp < HOUR)
            .unwrap()
            .timestamp
    );
    let rest = write(store(&f), |tx| {
        tx.delete_history_before(&tenant, Id(300), HOUR, 100_000)
    })
    .unwrap();
    assert_eq!(rest, old - 100);
    assert_eq!(stored_rollups(&f, 300), before[0], "rollups stay");
    let rows = write(store(&f), |tx| {
        tx.delete_rollups_before(&tenant, Id(300), HOUR, 100_000)
    })
    .unwrap();
    assert_eq!(rows, 61, "60 minutes and one hour");
    assert_eq!(
        write(store(&f), |tx| tx.delete_rollups_before(
            &t("t2"),
            Id(301),
            HOUR,
            100_000
        ))
        .unwrap(),
        0,
        "another tenant's rows are not touched"
    );
}
