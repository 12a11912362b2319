//! The IoT domain with an integration of the program's own, through Weir's assembly.
//!
//! `WeatherStations` implements `weir_iot::integration::Integration`: users add a station by
//! its code (a parameter of its add-device service), and each station has a temperature and
//! a humidity. The program registers it with `Weir::assemble_with`, adds a station, feeds
//! it two reports through the IoT report use-case (as the integration's own ingest would,
//! on behalf of the system viewer), and reads the latest values back. No HTTP server and
//! no MQTT are started.
//!
//! cargo run -p weir --example custom_integration
//!
//! The database is an SQLite file in a temporary folder, removed at the end. See
//! docs/embedding.md.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use weir::{Settings, Weir};
use weir_iot::integration::{
    DeviceService, Integration, IntegrationError, IntegrationInfo, NewDevice,
};
use weir_iot::samples::Sample;
use weir_iot::{
    AccessMod, EntityDefinition, EntityType, EntityValue, ValueAttribute, ValueType, Viewer,
};
use weir_kernel::{Clock, SystemClock, TenantId};

/// The integration's id: the first segment of its entity keys.
const ID: &str = "weather";

/// Weather stations, added by their code.
struct WeatherStations {
    info: IntegrationInfo,
}

fn property(identifier: &str, name: &str, value_type: ValueType, unit: &str) -> EntityDefinition {
    EntityDefinition {
        identifier: identifier.into(),
        name: name.into(),
        entity_type: EntityType::Property,
        access_mod: AccessMod::R,
        value_type,
        value_attribute: ValueAttribute {
            unit: Some(unit.into()),
            ..ValueAttribute::default()
        },
        children: vec![],
    }
}

impl WeatherStations {
    fn new() -> Self {
        let code = EntityDefinition {
            identifier: "code".into(),
            name: "Station code".into(),
            entity_type: EntityType::Property,
            access_mod: AccessMod::W,
            value_type: ValueType::String,
            value_attribute: ValueAttribute {
                min_length: Some(1),
                max_length: Some(32),
                ..ValueAttribute::default()
            },
            children: vec![],
        };
        Self {
            info: IntegrationInfo {
                id: ID.into(),
                name: "Weather stations".into(),
                description: "Stations of the program embedding Weir".into(),
                icon: None,
                entities: vec![],
                add_device: Some(DeviceService {
                    identifier: "add_device".into(),
                    params: vec![code],
                }),
                delete_device: None,
            },
        }
    }
}

impl Integration for WeatherStations {
    fn info(&self) -> &IntegrationInfo {
        &self.info
    }

    /// The parameters were checked against the add-device service's definitions already.
    fn add_device(
        &self,
        _name: &str,
        params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        let Some(EntityValue::String(code)) = params.get("code") else {
            return Err(IntegrationError::Refused("a station needs its code".into()));
        };
        Ok(NewDevice {
            identifier: code.to_lowercase(),
            entities: vec![
                property("temperature", "Temperature", ValueType::Double, "°C"),
                property("humidity", "Humidity", ValueType::Long, "%"),
            ],
            additional: Map::new(),
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.database.url = dir.path().join("weir.db").display().to_string();
    // Nothing but the domains: no MQTT (start_mqtt is not called either).
    settings.mqtt.mode = weir_mqtt::Mode::Off;
    // Blocking: opens and migrates the database, builds every use-case, registers the
    // built-in integrations and ours.
    let weir = Weir::assemble_with(settings, vec![Arc::new(WeatherStations::new())])?;
    println!("assembled Weir on {}", weir.settings.database.url);

    // The system viewer sees and may do everything in its tenant, as an integration's own
    // ingest does; a signed-in user's viewer is `Viewer::of(&principal.access())`.
    let viewer = Viewer::system(TenantId::default_tenant());
    let params = values(json!({"code": "ROOF-1"}));
    let device = weir
        .iot
        .create_device(&viewer, "Roof station", ID, &params)?;
    println!(
        "added device `{}` ({}) of integration `{}`",
        device.name, device.identifier, device.integration
    );

    // Two reports, a minute apart, in the samples format devices send.
    let now = SystemClock.now_ms();
    let samples = [
        Sample {
            timestamp: Some(now - 60_000),
            values: values(json!({"temperature": 17.5, "humidity": 71})),
        },
        Sample {
            timestamp: Some(now),
            values: values(json!({"temperature": 18.25, "humidity": 68})),
        },
    ];
    let outcome = weir.iot.report(&viewer, ID, &device.identifier, &samples)?;
    println!("reported {} values", outcome.points.len());

    // The latest values, each with its entity.
    let (_, entities) = weir.iot.device_details(&viewer, device.id)?;
    let ids: Vec<_> = entities.iter().map(|e| e.id).collect();
    let latest = weir.iot.latest(&viewer, &ids)?;
    let mut seen = BTreeMap::new();
    for (entity, point) in &latest {
        let unit = entity
            .definition
            .value_attribute
            .unit
            .as_deref()
            .unwrap_or("");
        match point {
            Some(p) => {
                println!(
                    "latest {} = {} {unit} (at {})",
                    entity.key,
                    p.value.to_json(),
                    p.timestamp
                );
                seen.insert(entity.definition.identifier.clone(), p.value.to_json());
            }
            None => println!("latest {} = (none)", entity.key),
        }
    }
    if seen.get("temperature") != Some(&json!(18.25)) || seen.get("humidity") != Some(&json!(68)) {
        return Err(format!("the latest values are not the last report's: {seen:?}").into());
    }
    println!("the latest values are the last report's");
    // The temporary folder (and the database in it) is removed here.
    drop(weir);
    dir.close()?;
    Ok(())
}

/// A JSON object's members (any other JSON: none).
fn values(object: Json) -> Map<String, Json> {
    match object {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}
