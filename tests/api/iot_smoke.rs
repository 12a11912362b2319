//! The IoT routes end to end with a test integration (detailed suites: iot_devices.rs).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, json};
use weir_iot::EntityValue;
use weir_iot::integration::{
    DeviceService, Integration, IntegrationError, IntegrationInfo, NewDevice,
};
use weir_test_kit::TestApp;

/// Devices with a serial number (at least 4 characters) and a temperature.
pub(crate) struct Thermostats(IntegrationInfo);

impl Thermostats {
    pub(crate) fn arc() -> Arc<dyn Integration> {
        let param = serde_json::from_value(json!({"identifier": "sn", "name": "Serial", "type": "PROPERTY", "access_mod": "W", "value_type": "STRING", "value_attribute": {"min_length": 4}})).unwrap();
        Arc::new(Self(IntegrationInfo {
            id: "thermo".into(),
            name: "Thermostats".into(),
            description: "Test thermostats".into(),
            icon: None,
            entities: vec![],
            add_device: Some(DeviceService {
                identifier: "add_device".into(),
                params: vec![param],
            }),
            delete_device: Some(DeviceService {
                identifier: "delete_device".into(),
                params: vec![],
            }),
        }))
    }
}

impl Integration for Thermostats {
    fn info(&self) -> &IntegrationInfo {
        &self.0
    }

    fn add_device(
        &self,
        _: &str,
        params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        let Some(EntityValue::String(sn)) = params.get("sn") else {
            return Err(IntegrationError::Refused("no serial".into()));
        };
        let temp = serde_json::from_value(json!({"identifier": "temp", "name": "Temperature", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE", "value_attribute": {"unit": "°C"}})).unwrap();
        Ok(NewDevice {
            identifier: sn.clone(),
            entities: vec![temp],
            additional: Map::new(),
        })
    }
}

#[tokio::test]
async fn a_device_is_added_listed_read_renamed_and_deleted() {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    let (s, body) = app
        .call(
            "POST",
            "/integration/search",
            Some(&admin),
            Some(json!({"device_addable": true})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The built-in integrations (mqtt-device...) are listed too.
    let thermo = body["data"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["id"] == "thermo"))
        .expect("thermo listed");
    assert_eq!(
        thermo["add_device_service_key"],
        "thermo.integration.add_device"
    );
    let (s, body) = app.call("POST", "/api/v1/device", Some(&admin), Some(json!({"name": "Hall", "integration": "thermo", "param_entities": {"sn": "SN-0001"}}))).await;
    assert_eq!(s, 200, "{body}");
    let id = body["data"]["device_id"].as_str().unwrap().to_owned();
    let (_, body) = app
        .call("GET", &format!("/device/{id}"), Some(&admin), None)
        .await;
    assert_eq!(body["data"]["key"], "thermo.device.SN-0001");
    assert_eq!(
        body["data"]["entities"][0]["key"],
        "thermo.device.SN-0001.temp"
    );
    assert_eq!(body["data"]["deletable"], true);
    let (s, body) = app
        .call(
            "POST",
            "/device",
            Some(&admin),
            Some(json!({"name": "Bad", "integration": "thermo", "param_entities": {"sn": "S1"}})),
        )
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (400, Some("entity_value_length_out_of_range")),
        "{body}"
    );
    let (s, _) = app
        .call(
            "PUT",
            &format!("/device/{id}"),
            Some(&admin),
            Some(json!({"name": "Hallway"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, body) = app
        .call(
            "POST",
            "/device/search",
            Some(&admin),
            Some(json!({"name": "hallw"})),
        )
        .await;
    assert_eq!(
        (
            body["data"]["total"].clone(),
            body["data"]["content"][0]["name"].clone()
        ),
        (json!(1), json!("Hallway"))
    );
    let (_, body) = app
        .call("POST", "/integration/search", Some(&admin), Some(json!({})))
        .await;
    let thermo = body["data"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["id"] == "thermo"))
        .expect("thermo listed");
    assert_eq!(
        (thermo["deviceCount"].clone(), thermo["entityCount"].clone()),
        (json!(1), json!(4))
    );
    let user = app.create_user(&admin, "viewer@weir.test").await;
    let (s, body) = app
        .call("GET", &format!("/device/{id}"), Some(&user), None)
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (403, Some("forbidden_permission")),
        "{body}"
    );
    let (s, _) = app
        .call(
            "POST",
            "/device/batch-delete",
            Some(&admin),
            Some(json!({"device_id_list": [id.clone()]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = app
        .call("GET", &format!("/device/{id}"), Some(&admin), None)
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (404, Some("data_no_found"))
    );
}
