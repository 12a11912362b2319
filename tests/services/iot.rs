//! The IoT use-cases: devices through their integration, validated writes, reads, and what
//! a caller limited by grants can see.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value as Json, json};
use weir_iot::errors::IotError;
use weir_iot::events::{EventBus, EventHandler, LocalBus, ValuesCommitted};
use weir_iot::integration::{
    DeviceService, Integration, IntegrationError, IntegrationInfo, IntegrationRegistry, NewDevice,
};
use weir_iot::model::{EntityDefinition, ValueType};
use weir_iot::ports::{Aggregate, AggregateResult, EntityFilter, IotTx, VisibleSet};
use weir_iot::samples::Sample;
use weir_iot::service::WriteKind;
use weir_iot::{EntityKey, EntityValue, IotPorts, IotService, IotSettings, Limits, Viewer};
use weir_kernel::store::{read, write};
use weir_kernel::{AsProblem, Id, IdGenerator, SearchQuery, SystemClock, TenantId, Transactions};
use weir_storage::testing::TestDatabase;

use crate::tenant;
use weir_storage::{Database, DatabaseOptions};

/// A thermostat integration: devices need a serial number of at least 4 characters.
struct Thermostats {
    info: IntegrationInfo,
    deleted: AtomicUsize,
    delivered: AtomicUsize,
}

fn definition(raw: Json) -> EntityDefinition {
    serde_json::from_value(raw).unwrap()
}

impl Thermostats {
    fn new() -> Self {
        let param = definition(
            json!({"identifier": "sn", "name": "Serial", "type": "PROPERTY", "access_mod": "W", "value_type": "STRING", "value_attribute": {"min_length": 4}}),
        );
        Self {
            info: IntegrationInfo {
                id: "thermo".into(),
                name: "Thermostats".into(),
                description: "test".into(),
                icon: None,
                entities: vec![definition(
                    json!({"identifier": "status", "name": "Status", "type": "PROPERTY", "access_mod": "R", "value_type": "STRING"}),
                )],
                add_device: Some(DeviceService {
                    identifier: "add_device".into(),
                    params: vec![param],
                }),
                delete_device: Some(DeviceService {
                    identifier: "delete_device".into(),
                    params: vec![],
                }),
            },
            deleted: AtomicUsize::new(0),
            delivered: AtomicUsize::new(0),
        }
    }
}

impl Integration for Thermostats {
    fn info(&self) -> &IntegrationInfo {
        &self.info
    }

    fn add_device(
        &self,
        _name: &str,
        params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        let Some(EntityValue::String(sn)) = params.get("sn") else {
            return Err(IntegrationError::Refused("no serial".into()));
        };
        Ok(NewDevice {
            identifier: sn.clone(),
            entities: vec![
                definition(
                    json!({"identifier": "temp", "name": "Temperature", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE", "value_attribute": {"min": -40, "max": 125, "unit": "°C"}}),
                ),
                definition(
                    json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING", "value_attribute": {"enum": {"eco": "Eco", "comfort": "Comfort"}}}),
                ),
                definition(
                    json!({"identifier": "reboot", "name": "Reboot", "type": "SERVICE", "access_mod": "W", "value_type": "BOOLEAN"}),
                ),
                definition(
                    json!({"identifier": "pos", "name": "Position", "type": "PROPERTY", "access_mod": "R", "value_type": "OBJECT", "children": [
                        {"identifier": "lat", "name": "Latitude", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE"}
                    ]}),
                ),
            ],
            additional: Map::new(),
        })
    }

    fn delete_device(&self, _device: &str) -> Result<(), IntegrationError> {
        self.deleted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn deliver(
        &self,
        _tenant: &TenantId,
        _device: &str,
        values: &[(EntityKey, EntityValue)],
    ) -> Result<(), IntegrationError> {
        self.delivered.fetch_add(values.len(), Ordering::SeqCst);
        Ok(())
    }
}

struct World {
    iot: IotService,
    thermo: Arc<Thermostats>,
    bus: Arc<LocalBus>,
    /// The service's database, for what a test does behind the service's back.
    db: Database,
    _db: TestDatabase,
}

fn world() -> World {
    let (place, db) = crate::database_with_tenants();
    let thermo = Arc::new(Thermostats::new());
    let bus = Arc::new(LocalBus::default());
    let mut registry = IntegrationRegistry::default();
    registry.register(thermo.clone()).unwrap();
    let iot = IotService::new(
        IotPorts {
            store: Arc::new(db.clone()),
            integrations: Arc::new(registry),
            ids: Arc::new(IdGenerator::new(1, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
            events: bus.clone(),
        },
        IotSettings::default(),
    );
    for t in ["t1", "t2"] {
        iot.ensure_integration_entities(&tenant(t)).unwrap();
    }
    World {
        iot,
        thermo,
        bus,
        db,
        _db: place,
    }
}

fn sample(values: Json, ts: Option<i64>) -> Sample {
    Sample {
        timestamp: ts,
        values: params(values),
    }
}

fn admin() -> Viewer {
    Viewer::system(tenant("t1"))
}

fn limited(functions: &[&str], grants: VisibleSet) -> Viewer {
    Viewer::limited(
        tenant("t1"),
        Limits {
            functions: functions.iter().map(|s| s.to_string()).collect(),
            grants,
        },
    )
}

fn params(v: Json) -> Map<String, Json> {
    v.as_object().unwrap().clone()
}

fn code(e: IotError) -> &'static str {
    e.problem().code
}

const ALL: &[&str] = &[
    "device.view",
    "device.add",
    "device.edit",
    "device.delete",
    "entity_data.view",
    "entity_data.edit",
    "integration.view",
];

#[test]
fn devices_are_added_through_their_integration_with_their_entities() {
    let w = world();
    let d = w
        .iot
        .create_device(
            &admin(),
            " Hall ",
            "thermo",
            &params(json!({"sn": "SN-0001"})),
        )
        .unwrap();
    assert_eq!(
        (d.name.as_str(), d.identifier.as_str()),
        ("Hall", "SN-0001")
    );
    let (_, entities) = w.iot.device_details(&admin(), d.id).unwrap();
    let keys: Vec<&str> = entities.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.contains(&"thermo.device.SN-0001.temp"));
    assert!(
        keys.contains(&"thermo.device.SN-0001.pos.lat"),
        "children are entities: {keys:?}"
    );
    let dup = w
        .iot
        .create_device(
            &admin(),
            "Again",
            "thermo",
            &params(json!({"sn": "SN-0001"})),
        )
        .unwrap_err();
    assert_eq!(code(dup), "device_identifier_exist");
    let short = w
        .iot
        .create_device(&admin(), "Short", "thermo", &params(json!({"sn": "S1"})))
        .unwrap_err();
    assert_eq!(code(short), "entity_value_length_out_of_range");
    let unknown = w
        .iot
        .create_device(&admin(), "X", "nope", &params(json!({})))
        .unwrap_err();
    assert_eq!(code(unknown), "data_no_found");
    let blank = w
        .iot
        .create_device(&admin(), "  ", "thermo", &params(json!({"sn": "SN-0002"})))
        .unwrap_err();
    assert_eq!(code(blank), "parameter_validation_failed");
    let denied = w.iot.create_device(
        &limited(&["device.view"], VisibleSet::default()),
        "X",
        "thermo",
        &params(json!({"sn": "SN-0003"})),
    );
    assert_eq!(code(denied.unwrap_err()), "forbidden_permission");
    let summary = w.iot.integrations(&admin(), Some(true), None).unwrap();
    // 5 of the device (the OBJECT's child included) and 4 of the integration: its status, the
    // two services and the add-device parameter.
    assert_eq!(
        (
            summary.len(),
            summary[0].device_count,
            summary[0].entity_count
        ),
        (1, 1, 9)
    );
    assert!(
        w.iot
            .integrations(&admin(), None, Some(false))
            .unwrap()
            .is_empty()
    );
    let (_, own) = w.iot.integration(&admin(), "thermo").unwrap();
    assert!(own.iter().any(|e| e.key == "thermo.integration.status"));
    assert!(
        own.iter()
            .any(|e| e.key == "thermo.integration.add_device.sn"),
        "service parameters are entities"
    );
}

#[test]
fn writes_are_checked_all_or_nothing_and_read_back() {
    let w = world();
    let d = w
        .iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-1"})))
        .unwrap();
    let (_, entities) = w.iot.device_details(&admin(), d.id).unwrap();
    let id = |k: &str| {
        entities
            .iter()
            .find(|e| e.key == format!("thermo.device.SN-1.{k}"))
            .unwrap()
            .id
    };

    // A device report: temperatures at three times.
    for (ts, t) in [(1000, 20.5), (2000, 21.5), (3000, 22.0)] {
        w.iot
            .write_values(
                &admin(),
                &params(json!({"thermo.device.SN-1.temp": t})),
                WriteKind::Report,
                Some(ts),
            )
            .unwrap();
    }
    // One bad value refuses the whole batch: the good one is not stored either.
    let bad = w.iot.write_values(
        &admin(),
        &params(json!({"thermo.device.SN-1.pos.lat": 1.0, "thermo.device.SN-1.temp": 300.0})),
        WriteKind::Report,
        Some(4000),
    );
    assert_eq!(code(bad.unwrap_err()), "entity_value_out_of_range");
    let latest = w
        .iot
        .latest(&admin(), &[id("temp"), id("pos.lat")])
        .unwrap();
    let temp = latest
        .iter()
        .find(|(e, _)| e.id == id("temp"))
        .unwrap()
        .1
        .clone()
        .unwrap();
    assert_eq!(
        (temp.timestamp, temp.value),
        (3000, EntityValue::Double(22.0))
    );
    assert!(
        latest
            .iter()
            .find(|(e, _)| e.id == id("pos.lat"))
            .unwrap()
            .1
            .is_none()
    );

    // Users may update writable properties with allowed values only, and call services.
    let as_user = limited(
        ALL,
        VisibleSet {
            devices: vec![d.id],
            ..Default::default()
        },
    );
    let read_only = w.iot.write_values(
        &as_user,
        &params(json!({"thermo.device.SN-1.temp": 1.0})),
        WriteKind::PropertyUpdate,
        None,
    );
    assert_eq!(code(read_only.unwrap_err()), "entity_not_writable");
    let bad_enum = w.iot.write_values(
        &as_user,
        &params(json!({"thermo.device.SN-1.mode": "turbo"})),
        WriteKind::PropertyUpdate,
        None,
    );
    assert_eq!(code(bad_enum.unwrap_err()), "entity_value_invalid_enum");
    let ok = w
        .iot
        .write_values(
            &as_user,
            &params(json!({"thermo.device.SN-1.mode": "eco"})),
            WriteKind::PropertyUpdate,
            None,
        )
        .unwrap();
    assert_eq!((ok.points.len(), ok.undelivered.len()), (1, 0));
    w.iot
        .write_values(
            &as_user,
            &params(json!({"thermo.device.SN-1.reboot": true})),
            WriteKind::ServiceCall,
            None,
        )
        .unwrap();
    assert_eq!(
        w.thermo.delivered.load(Ordering::SeqCst),
        2,
        "the update and the call reached the integration"
    );
    let not_service = w.iot.write_values(
        &as_user,
        &params(json!({"thermo.device.SN-1.mode": "eco"})),
        WriteKind::ServiceCall,
        None,
    );
    assert_eq!(code(not_service.unwrap_err()), "entity_not_writable");
    let bad_key = w.iot.write_values(
        &as_user,
        &params(json!({"not a key": 1})),
        WriteKind::PropertyUpdate,
        None,
    );
    assert_eq!(code(bad_key.unwrap_err()), "parameter_validation_failed");
    let unknown = w.iot.write_values(
        &as_user,
        &params(json!({"thermo.device.SN-9.temp": 1})),
        WriteKind::Report,
        None,
    );
    assert_eq!(code(unknown.unwrap_err()), "data_no_found");

    let page = w
        .iot
        .history(&admin(), id("temp"), 0, 10_000, &SearchQuery::default())
        .unwrap();
    assert_eq!((page.total, page.content[0].timestamp), (3, 3000));
    let avg = w
        .iot
        .aggregate(&admin(), id("temp"), 0, 10_000, Aggregate::Avg)
        .unwrap();
    assert_eq!(
        avg,
        (ValueType::Double, AggregateResult::Number(Some(64.0 / 3.0)))
    );
    let on_text = w
        .iot
        .aggregate(&admin(), id("mode"), 0, i64::MAX, Aggregate::Sum)
        .unwrap_err();
    assert_eq!(code(on_text), "parameter_validation_failed");
    let backwards = w
        .iot
        .history(&admin(), id("temp"), 10, 0, &SearchQuery::default())
        .unwrap_err();
    assert_eq!(code(backwards), "parameter_validation_failed");
}

#[test]
fn a_limited_caller_sees_only_what_its_grants_reach() {
    let w = world();
    let a = w
        .iot
        .create_device(&admin(), "A", "thermo", &params(json!({"sn": "SN-A"})))
        .unwrap();
    let b = w
        .iot
        .create_device(&admin(), "B", "thermo", &params(json!({"sn": "SN-B"})))
        .unwrap();
    let device_grant = VisibleSet {
        devices: vec![a.id],
        ..Default::default()
    };
    let viewer = limited(ALL, device_grant);
    let page = w
        .iot
        .search_devices(&viewer, &SearchQuery::default())
        .unwrap();
    assert_eq!(
        page.content.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    assert_eq!(
        code(w.iot.device_details(&viewer, b.id).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        code(w.iot.rename_device(&viewer, b.id, "mine").unwrap_err()),
        "data_no_found"
    );
    let entities = w
        .iot
        .search_entities(&viewer, EntityFilter::default(), &SearchQuery::default())
        .unwrap();
    assert!(
        entities.content.iter().all(|e| e.device_id == Some(a.id)),
        "only device A's entities"
    );
    let write_b = w.iot.write_values(
        &viewer,
        &params(json!({"thermo.device.SN-B.mode": "eco"})),
        WriteKind::PropertyUpdate,
        None,
    );
    assert_eq!(code(write_b.unwrap_err()), "data_no_found");
    assert!(
        w.iot.integrations(&viewer, None, None).unwrap().is_empty(),
        "a device grant is not an integration grant"
    );

    let other_tenant = Viewer::system(tenant("t2"));
    assert_eq!(
        code(w.iot.device_details(&other_tenant, a.id).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        w.iot
            .search_devices(&other_tenant, &SearchQuery::default())
            .unwrap()
            .total,
        0
    );

    let no_function = limited(
        &["device.view"],
        VisibleSet {
            integrations: vec!["thermo".into()],
            ..Default::default()
        },
    );
    assert_eq!(
        code(w.iot.delete_devices(&no_function, &[a.id]).unwrap_err()),
        "forbidden_permission"
    );
    assert_eq!(
        w.iot
            .search_devices(&no_function, &SearchQuery::default())
            .unwrap()
            .total,
        2,
        "an integration grant reaches its devices"
    );
}

#[test]
fn deleting_devices_is_all_or_nothing_and_goes_through_the_integration() {
    let w = world();
    let a = w
        .iot
        .create_device(&admin(), "A", "thermo", &params(json!({"sn": "SN-A"})))
        .unwrap();
    let unknown = w.iot.delete_devices(&admin(), &[a.id, Id(42)]).unwrap_err();
    assert_eq!(code(unknown), "data_no_found");
    assert!(
        w.iot.device_details(&admin(), a.id).is_ok(),
        "nothing was deleted"
    );
    w.iot
        .write_values(
            &admin(),
            &params(json!({"thermo.device.SN-A.temp": 1.0})),
            WriteKind::Report,
            Some(1),
        )
        .unwrap();
    w.iot.delete_devices(&admin(), &[a.id]).unwrap();
    assert_eq!(w.thermo.deleted.load(Ordering::SeqCst), 1);
    assert_eq!(
        code(w.iot.device_details(&admin(), a.id).unwrap_err()),
        "data_no_found"
    );
    let left = w.iot.search_entities(
        &admin(),
        EntityFilter::default(),
        &SearchQuery {
            keyword: Some("SN-A".into()),
            ..Default::default()
        },
    );
    assert_eq!(left.unwrap().total, 0);
    assert_eq!(
        code(w.iot.delete_devices(&admin(), &[]).unwrap_err()),
        "parameter_validation_failed"
    );
}

#[test]
fn reports_create_entities_on_first_sight_and_refuse_all_or_nothing() {
    let w = world();
    w.iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-R"})))
        .unwrap();
    let report = |v: Json, ts: i64| {
        w.iot
            .report(&admin(), "thermo", "SN-R", &[sample(v, Some(ts))])
    };
    let first = report(
        json!({"humidity": 40.5, "door": true, "label": "hall", "gps": {"lat": 1.5, "lng": 2}}),
        1000,
    )
    .unwrap();
    assert_eq!(
        first.points.len(),
        5,
        "object members are written to their children"
    );
    let find = |key: &str| {
        let q = SearchQuery {
            keyword: Some(key.into()),
            page_size: Some(100),
            ..Default::default()
        };
        w.iot
            .search_entities(&admin(), EntityFilter::default(), &q)
            .unwrap()
            .content
            .into_iter()
            .find(|e| e.key == key)
    };
    let types = [
        ("thermo.device.SN-R.humidity", ValueType::Double),
        ("thermo.device.SN-R.door", ValueType::Boolean),
        ("thermo.device.SN-R.label", ValueType::String),
        ("thermo.device.SN-R.gps", ValueType::Object),
        ("thermo.device.SN-R.gps.lng", ValueType::Long),
    ];
    for (key, want) in types {
        assert_eq!(
            find(key)
                .unwrap_or_else(|| panic!("{key}"))
                .definition
                .value_type,
            want,
            "{key}"
        );
    }
    // Known entities keep their types; a new member of an object becomes a new child.
    report(
        json!({"humidity": 41, "gps": {"lat": 1.6, "alt": 100}}),
        2000,
    )
    .unwrap();
    assert_eq!(
        find("thermo.device.SN-R.gps.alt")
            .unwrap()
            .parent_key
            .as_deref(),
        Some("thermo.device.SN-R.gps")
    );
    let humidity = find("thermo.device.SN-R.humidity").unwrap();
    let latest = w.iot.latest(&admin(), &[humidity.id]).unwrap();
    assert_eq!(
        latest[0].1.as_ref().unwrap().value,
        EntityValue::Double(41.0)
    );

    // One bad value refuses the report: the new entity in it is not created either.
    let bad = report(json!({"humidity": "wet", "brand_new": 5}), 3000).unwrap_err();
    assert_eq!(code(bad), "entity_value_not_match_type");
    assert!(
        find("thermo.device.SN-R.brand_new").is_none(),
        "nothing was created"
    );
    for (body, why) in [
        (json!({"a.b": 1}), "identifier"),
        (json!({"list": [1, 2]}), "array"),
        (json!({}), "empty"),
        (json!({"gps": 5}), "object expected"),
    ] {
        assert!(report(body, 4000).is_err(), "{why}");
    }
    assert_eq!(
        code(
            w.iot
                .report(
                    &admin(),
                    "thermo",
                    "SN-404",
                    &[sample(json!({"x": 1}), None)]
                )
                .unwrap_err()
        ),
        "data_no_found"
    );
    let outsider = limited(ALL, VisibleSet::default());
    assert_eq!(
        code(
            w.iot
                .report(
                    &outsider,
                    "thermo",
                    "SN-R",
                    &[sample(json!({"x": 1}), None)]
                )
                .unwrap_err()
        ),
        "data_no_found"
    );
}

#[test]
fn committed_values_are_published_and_refused_ones_are_not() {
    let w = world();
    let mut sub = w.bus.subscribe();
    w.iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-E"})))
        .unwrap();
    w.iot
        .report(
            &admin(),
            "thermo",
            "SN-E",
            &[sample(json!({"humidity": 40.5}), Some(1000))],
        )
        .unwrap();
    let event = sub.try_next().expect("the report was published");
    assert_eq!(event.tenant_id, tenant("t1"));
    assert_eq!(event.values.len(), 1);
    assert_eq!(event.values[0].key, "thermo.device.SN-E.humidity");
    assert_eq!(event.values[0].timestamp, 1000);
    assert_eq!(event.values[0].value, EntityValue::Double(40.5));
    assert!(event.values[0].device_id.is_some());

    let refused = w.iot.report(
        &admin(),
        "thermo",
        "SN-E",
        &[sample(json!({"humidity": "wet"}), Some(2000))],
    );
    assert!(refused.is_err());
    assert!(sub.try_next().is_none(), "nothing refused is published");

    // Another tenant's viewer is not shown the value; a viewer granted the device is.
    let value = &event.values[0];
    assert!(!Viewer::system(tenant("t2")).sees_value(&event.tenant_id, value));
    let granted = limited(
        ALL,
        VisibleSet {
            devices: vec![value.device_id.unwrap()],
            ..VisibleSet::default()
        },
    );
    assert!(granted.sees_value(&event.tenant_id, value));
    assert!(!limited(ALL, VisibleSet::default()).sees_value(&event.tenant_id, value));
}

#[test]
fn reports_without_a_time_in_the_same_millisecond_all_keep_their_values() {
    let w = world();
    w.iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-B"})))
        .unwrap();
    // A burst, as a broker delivers the messages a device sent while Weir was away: many
    // fall in one millisecond, and each gets a time of receipt of its own.
    let times: Vec<i64> = (0..50)
        .map(|i| {
            let out = w
                .iot
                .report(
                    &admin(),
                    "thermo",
                    "SN-B",
                    &[sample(json!({"level": i}), None)],
                )
                .unwrap();
            out.points[0].timestamp
        })
        .collect();
    assert!(times.windows(2).all(|p| p[0] < p[1]), "{times:?}");
}

#[test]
fn a_report_of_many_samples_is_stored_at_their_times_in_one_go() {
    let w = world();
    w.iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-M"})))
        .unwrap();
    let samples: Vec<Sample> = (1..=3)
        .map(|i| sample(json!({"level": i * 10, "gps": {"lat": i}}), Some(i * 1000)))
        .collect();
    let out = w.iot.report(&admin(), "thermo", "SN-M", &samples).unwrap();
    assert_eq!(out.points.len(), 6);
    let level = w
        .iot
        .search_entities(
            &admin(),
            EntityFilter::default(),
            &SearchQuery {
                keyword: Some("SN-M.level".into()),
                ..SearchQuery::default()
            },
        )
        .unwrap()
        .content
        .remove(0);
    let history = w
        .iot
        .history(&admin(), level.id, 0, 10_000, &SearchQuery::default())
        .unwrap();
    let got: Vec<(i64, EntityValue)> = history
        .content
        .into_iter()
        .map(|p| (p.timestamp, p.value))
        .collect();
    assert_eq!(
        got,
        vec![
            (3000, EntityValue::Long(30)),
            (2000, EntityValue::Long(20)),
            (1000, EntityValue::Long(10)),
        ]
    );
    let latest = w.iot.latest(&admin(), &[level.id]).unwrap();
    assert_eq!(latest[0].1.as_ref().unwrap().timestamp, 3000);

    // One bad value in the last sample refuses all three.
    let mut bad = samples.clone();
    bad.push(sample(json!({"level": "high"}), Some(4000)));
    bad[0].timestamp = Some(500);
    assert_eq!(
        code(w.iot.report(&admin(), "thermo", "SN-M", &bad).unwrap_err()),
        "entity_value_not_match_type"
    );
    let after = w
        .iot
        .history(&admin(), level.id, 0, 10_000, &SearchQuery::default())
        .unwrap();
    assert_eq!(after.total, 3, "nothing of the refused report was stored");
    assert_eq!(
        code(w.iot.report(&admin(), "thermo", "SN-M", &[]).unwrap_err()),
        "parameter_validation_failed"
    );
}

#[test]
fn an_integration_ensures_its_own_devices_without_an_add_device_service() {
    let w = world();
    let declared = |ids: &[&str]| {
        NewDevice {
        identifier: "own-1".into(),
        entities: ids
            .iter()
            .map(|id| {
                definition(
                    json!({"identifier": id, "name": id, "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE", "value_attribute": {"unit": "°C", "min": 0, "max": 50, "fraction_digits": 1}}),
                )
            })
            .collect(),
        additional: Map::new(),
    }
    };
    let keys = |id: Id| -> Vec<String> {
        let (_, entities) = w.iot.device_details(&admin(), id).unwrap();
        let mut keys: Vec<String> = entities.into_iter().map(|e| e.key).collect();
        keys.sort();
        keys
    };

    // Absent: inserted with its declared entities, units and all.
    let first = w
        .iot
        .ensure_device(&admin(), "thermo", " Own ", &declared(&["temp"]))
        .unwrap();
    assert_eq!(
        (first.name.as_str(), first.identifier.as_str()),
        ("Own", "own-1")
    );
    assert_eq!(keys(first.id), vec!["thermo.device.own-1.temp"]);
    let (_, entities) = w.iot.device_details(&admin(), first.id).unwrap();
    assert_eq!(
        entities[0].definition.value_attribute.unit.as_deref(),
        Some("°C")
    );

    // Present: the same device, renamed by a user, keeps its name; a declared entity it
    // lacks is added, the others are left as they are.
    w.iot.rename_device(&admin(), first.id, "Mine").unwrap();
    let again = w
        .iot
        .ensure_device(&admin(), "thermo", "Own", &declared(&["temp", "hum"]))
        .unwrap();
    assert_eq!((again.id, again.name.as_str()), (first.id, "Mine"));
    assert_eq!(
        keys(first.id),
        vec!["thermo.device.own-1.hum", "thermo.device.own-1.temp"]
    );
    let page = w
        .iot
        .search_devices(&admin(), &SearchQuery::default())
        .unwrap();
    assert_eq!(page.total, 1);

    // Its reports are checked against the declared entities.
    let refused = w
        .iot
        .report(
            &admin(),
            "thermo",
            "own-1",
            &[sample(json!({"temp": 51.0}), None)],
        )
        .unwrap_err();
    assert_eq!(code(refused), "entity_value_out_of_range");
    w.iot
        .report(
            &admin(),
            "thermo",
            "own-1",
            &[sample(json!({"temp": 21.5}), None)],
        )
        .unwrap();

    // Refusals: an unknown integration, a bad identifier or definition, no `device.add`.
    let unknown = w
        .iot
        .ensure_device(&admin(), "nope", "X", &declared(&[]))
        .unwrap_err();
    assert_eq!(code(unknown), "data_no_found");
    let mut bad = declared(&[]);
    bad.identifier = "a.b".into();
    let bad = w
        .iot
        .ensure_device(&admin(), "thermo", "X", &bad)
        .unwrap_err();
    assert_eq!(code(bad), "parameter_validation_failed");
    let mut bad = declared(&["temp"]);
    bad.entities[0].value_attribute.min = Some(60.0);
    let bad = w
        .iot
        .ensure_device(&admin(), "thermo", "X", &bad)
        .unwrap_err();
    assert_eq!(code(bad), "parameter_validation_failed");
    let denied = w.iot.ensure_device(
        &limited(&["device.view"], VisibleSet::default()),
        "thermo",
        "X",
        &declared(&[]),
    );
    assert_eq!(code(denied.unwrap_err()), "forbidden_permission");
}

#[test]
fn report_shapes_are_checked_whole_and_name_the_field() {
    let w = world();
    w.iot
        .create_device(&admin(), "Hall", "thermo", &params(json!({"sn": "SN-S"})))
        .unwrap();
    let report = |v: Json| {
        w.iot
            .report(&admin(), "thermo", "SN-S", &[sample(v, Some(1))])
    };
    report(json!({"pos": {"lat": 1.5}, "level": 3})).unwrap();
    let count = || {
        w.iot
            .search_entities(
                &admin(),
                EntityFilter::default(),
                &SearchQuery {
                    keyword: Some("SN-S".into()),
                    ..SearchQuery::default()
                },
            )
            .unwrap()
            .total
    };
    let before = count();
    let refusal = |v: Json| {
        let e = report(v).unwrap_err();
        (e.problem().code, e.to_string())
    };
    let wide: Map<String, Json> = (0..5001).map(|i| (format!("m{i}"), json!(i))).collect();
    for (body, field) in [
        (json!({"wide": wide}), "values "),
        (json!({"pos.lat": 2.0}), "values.pos.lat "),
        (json!({"pos": {"a.b": 1}}), "values.pos.a.b "),
        (json!({"pos": {"deep": {"x": 1}}}), "values.pos.deep "),
        (json!({"obj": {"list": [1]}}), "values.obj.list "),
        (json!({"empty": {}}), "values.empty "),
        (json!({"fresh": null}), "values.fresh "),
    ] {
        let (code, message) = refusal(body.clone());
        assert_eq!(code, "parameter_validation_failed", "{body}");
        assert!(message.starts_with(field), "{body}: {message}");
    }
    assert_eq!(
        code(report(json!({"level": null})).unwrap_err()),
        "entity_value_required"
    );
    assert_eq!(count(), before, "no refused report created an entity");
}

#[test]
fn devices_of_an_integration_no_longer_registered_can_be_deleted() {
    let w = world();
    let db = Database::open(&DatabaseOptions::new(w._db.url.clone())).unwrap();
    let store: &dyn Transactions<dyn weir_iot::ports::IotTx> = &db;
    let orphan = weir_iot::ports::Device {
        id: Id(77_000_001),
        tenant_id: tenant("t1"),
        integration: "gone".into(),
        identifier: "old-1".into(),
        name: "Old".into(),
        additional: Map::new(),
        created_at: 0,
        updated_at: 0,
    };
    write(store, |tx| tx.insert_device(&orphan)).unwrap();
    assert_eq!(
        code(
            w.iot
                .delete_devices(&limited(&[], VisibleSet::default()), &[orphan.id])
                .unwrap_err()
        ),
        "forbidden_permission",
        "the permission check still applies"
    );
    w.iot.delete_devices(&admin(), &[orphan.id]).unwrap();
    assert_eq!(
        code(w.iot.device_details(&admin(), orphan.id).unwrap_err()),
        "data_no_found"
    );
}

/// Records every event as published, and whether its values could already be read back
/// from the database then (published after their commit).
struct Recorder {
    db: Database,
    events: std::sync::Mutex<Vec<Arc<ValuesCommitted>>>,
    unreadable: AtomicUsize,
}

impl EventHandler for Recorder {
    fn handle(&self, event: &Arc<ValuesCommitted>) {
        let ids: Vec<Id> = event.values.iter().map(|v| v.entity_id).collect();
        let store: &dyn Transactions<dyn IotTx> = &self.db;
        let latest = read(store, |tx| tx.latest(&event.tenant_id, &ids)).unwrap();
        let committed = event.values.iter().all(|v| {
            latest
                .iter()
                .any(|p| p.entity_id == v.entity_id && p.timestamp >= v.timestamp)
        });
        if !committed {
            self.unreadable.fetch_add(1, Ordering::SeqCst);
        }
        self.events.lock().unwrap().push(event.clone());
    }
}

#[test]
fn concurrent_writes_each_commit_once_answer_their_own_result_and_publish_after_commit() {
    let w = world();
    let recorder = Arc::new(Recorder {
        db: w.db.clone(),
        events: std::sync::Mutex::new(Vec::new()),
        unreadable: AtomicUsize::new(0),
    });
    w.bus.attach(recorder.clone());
    let (writers, each) = (8_i64, 40_i64);
    let devices: Vec<String> = (0..writers).map(|i| format!("SN-G{i}")).collect();
    for sn in &devices {
        w.iot
            .create_device(&admin(), "G", "thermo", &params(json!({"sn": sn})))
            .unwrap();
    }
    let most_waiting = AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                most_waiting.fetch_max(w.iot.writes_waiting(), Ordering::SeqCst);
                std::thread::yield_now();
            }
        });
        let writing: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(i, sn)| {
                let iot = &w.iot;
                s.spawn(move || {
                    for j in 0..each {
                        let out = iot
                            .report(
                                &admin(),
                                "thermo",
                                sn,
                                &[sample(json!({"level": j, "writer": i}), Some(1000 + j))],
                            )
                            .unwrap();
                        // The caller's own values, not a neighbour's in its group.
                        let mut got: Vec<EntityValue> =
                            out.points.iter().map(|p| p.value.clone()).collect();
                        got.sort_by_key(|v| format!("{v:?}"));
                        let mut want = vec![EntityValue::Long(j), EntityValue::Long(i as i64)];
                        want.sort_by_key(|v| format!("{v:?}"));
                        assert_eq!(got, want);
                        assert!(out.points.iter().all(|p| p.timestamp == 1000 + j));
                    }
                })
            })
            .collect();
        for t in writing {
            t.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
    let events = recorder.events.lock().unwrap();
    assert_eq!(events.len() as i64, writers * each, "one event per write");
    assert_eq!(recorder.unreadable.load(Ordering::SeqCst), 0);
    for sn in &devices {
        // Each writer's events in the order it wrote, once each.
        let levels: Vec<i64> = events
            .iter()
            .flat_map(|e| e.values.iter())
            .filter(|v| v.key == format!("thermo.device.{sn}.level"))
            .map(|v| match v.value {
                EntityValue::Long(n) => n,
                ref other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(levels, (0..each).collect::<Vec<_>>(), "{sn}");
        let level = entity(&w, &format!("thermo.device.{sn}.level"));
        let history = w
            .iot
            .history(
                &admin(),
                level.id,
                0,
                10_000,
                &SearchQuery {
                    page_size: Some(1000),
                    ..SearchQuery::default()
                },
            )
            .unwrap();
        assert_eq!(history.total as i64, each, "{sn}: every value stored once");
    }
    eprintln!(
        "most writes waiting at once: {}",
        most_waiting.load(Ordering::SeqCst)
    );
}

fn entity(w: &World, key: &str) -> weir_iot::ports::Entity {
    w.iot
        .search_entities(
            &admin(),
            EntityFilter::default(),
            &SearchQuery {
                keyword: Some(key.into()),
                page_size: Some(100),
                ..SearchQuery::default()
            },
        )
        .unwrap()
        .content
        .into_iter()
        .find(|e| e.key == key)
        .unwrap_or_else(|| panic!("no entity {key}"))
}

/// Holds the publication of the values of one entity until told to go on: the writer that
/// committed them leads its group until then, so the writes made meanwhile queue.
struct Gate {
    key: String,
    entered: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl EventHandler for Gate {
    fn handle(&self, event: &Arc<ValuesCommitted>) {
        if event.values.iter().any(|v| v.key == self.key) {
            self.entered.store(true, Ordering::SeqCst);
            let _ = self.open.lock().unwrap().recv();
        }
    }
}

#[test]
fn a_write_that_fails_in_a_shared_transaction_fails_alone() {
    let w = world();
    let mut ids = BTreeMap::new();
    for sn in ["SN-GATE", "SN-B1", "SN-B2", "SN-B3"] {
        let d = w
            .iot
            .create_device(&admin(), "B", "thermo", &params(json!({"sn": sn})))
            .unwrap();
        ids.insert(sn, d.id);
    }
    let (release, open) = std::sync::mpsc::channel();
    let gate = Arc::new(Gate {
        key: "thermo.device.SN-GATE.level".into(),
        entered: std::sync::atomic::AtomicBool::new(false),
        open: std::sync::Mutex::new(open),
    });
    w.bus.attach(gate.clone());
    let report = |sn: &'static str, values: Json| {
        let iot = &w.iot;
        move || iot.report(&admin(), "thermo", sn, &[sample(values, Some(5000))])
    };
    let wait_for = |n: usize| {
        for _ in 0..5000 {
            if w.iot.writes_waiting() >= n {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("{n} writes never queued");
    };
    std::thread::scope(|s| {
        let leader = s.spawn(report("SN-GATE", json!({"level": 1})));
        while !gate.entered.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Entities the devices have: these writes create none, so a conflict is not theirs.
        let first = s.spawn(report("SN-B1", json!({"temp": 11.5})));
        wait_for(1);
        // Its first report names `fresh`: a LONG, created with the write.
        let failing = s.spawn(report("SN-B2", json!({"fresh": 7})));
        wait_for(2);
        let last = s.spawn(report("SN-B3", json!({"temp": 33.5})));
        wait_for(3);
        // Meanwhile `fresh` is created as a STRING: the queued write's new entity
        // conflicts, which fails the three writes' shared transaction.
        let store: &dyn Transactions<dyn IotTx> = &w.db;
        write(store, |tx| {
            tx.insert_entities(&[weir_iot::ports::Entity {
                id: Id(4242),
                tenant_id: tenant("t1"),
                key: "thermo.device.SN-B2.fresh".into(),
                integration: "thermo".into(),
                device_id: Some(ids["SN-B2"]),
                parent_key: None,
                definition: definition(
                    json!({"identifier": "fresh", "name": "Fresh", "type": "PROPERTY", "access_mod": "R", "value_type": "STRING"}),
                ),
                created_at: 0,
                updated_at: 0,
            }])
        })
        .unwrap();
        release.send(()).unwrap();
        assert!(leader.join().unwrap().is_ok());
        assert!(first.join().unwrap().is_ok());
        // Tried alone, it met the entity created meanwhile, whose type refuses its value.
        assert_eq!(
            code(failing.join().unwrap().unwrap_err()),
            "entity_value_not_match_type"
        );
        assert!(last.join().unwrap().is_ok());
    });
    for (key, want) in [
        ("thermo.device.SN-B1.temp", Some(EntityValue::Double(11.5))),
        ("thermo.device.SN-B3.temp", Some(EntityValue::Double(33.5))),
        ("thermo.device.SN-B2.fresh", None),
    ] {
        let e = entity(&w, key);
        let latest = w.iot.latest(&admin(), &[e.id]).unwrap();
        assert_eq!(latest[0].1.as_ref().map(|p| p.value.clone()), want, "{key}");
    }
    assert_eq!(entity(&w, "thermo.device.SN-B2.fresh").id, Id(4242));
}
