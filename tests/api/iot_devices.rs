//! `/integration/search`, `/integration/{id}` and the five `/device...` endpoints in detail,
//! with the thermostats of `iot_smoke`: fields, function codes and resource grants, bad
//! input, tenants, and the integration's device and entity counts.

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::iot_smoke::Thermostats;
use crate::support::{
    ACME, Answer, UNKNOWN_ID, add_tenant, forbidden, invalid, login_in, not_found, ok, pluck,
    refused, register_in, unauthenticated, user_with,
};

const THERMO: &str = "thermo";

/// The function codes of the device pages.
const DEVICE_CODES: [&str; 4] = ["device.view", "device.add", "device.edit", "device.delete"];

// ---- servers, users and calls ----

/// A server running the thermostats, with its admin signed in.
async fn thermo_app() -> (TestApp, Session) {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    (app, admin)
}

/// Adds the `acme` tenant (with the integrations' own entities, as `weir tenant add` does)
/// and signs in its first user.
async fn join_acme(app: &TestApp) -> Session {
    add_tenant(app, ACME).await.expect("add acme");
    ok(&register_in(app, ACME, "boss@acme.test", PASSWORD).await);
    login_in(app, ACME, "boss@acme.test", PASSWORD).await.0
}

fn device_body(name: &str, serial: &str) -> Value {
    json!({"name": name, "integration": THERMO, "param_entities": {"sn": serial}})
}

fn device_path(id: &str) -> String {
    format!("/device/{id}")
}

async fn add_device(app: &TestApp, who: Option<&Session>, body: Value) -> Answer {
    app.call("POST", "/device", who, Some(body)).await
}

/// Adds a thermostat as `who`; returns its id.
async fn new_device(app: &TestApp, who: &Session, name: &str, serial: &str) -> String {
    let answer = add_device(app, Some(who), device_body(name, serial)).await;
    ok(&answer)["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned()
}

async fn get_device(app: &TestApp, who: Option<&Session>, id: &str) -> Answer {
    app.call("GET", &device_path(id), who, None).await
}

async fn rename(app: &TestApp, who: Option<&Session>, id: &str, body: Value) -> Answer {
    app.call("PUT", &device_path(id), who, Some(body)).await
}

async fn search_devices(app: &TestApp, who: Option<&Session>, body: Value) -> Answer {
    app.call("POST", "/device/search", who, Some(body)).await
}

async fn delete_devices(app: &TestApp, who: Option<&Session>, ids: &[impl AsRef<str>]) -> Answer {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    let body = json!({ "device_id_list": ids });
    app.call("POST", "/device/batch-delete", who, Some(body))
        .await
}

/// The integration search, keeping only the thermostats: Weir's built-in integrations
/// (`mqtt-device`, `http-device`) are always registered and have suites of their own.
async fn search_integrations(app: &TestApp, who: Option<&Session>, body: Value) -> Answer {
    let (status, mut body) = app
        .call("POST", "/integration/search", who, Some(body))
        .await;
    if let Some(list) = body.get_mut("data").and_then(Value::as_array_mut) {
        list.retain(|i| i["id"] == THERMO);
    }
    (status, body)
}

/// The name of a device as `who` reads it.
async fn name_of(app: &TestApp, who: &Session, id: &str) -> Value {
    ok(&get_device(app, Some(who), id).await)["name"].clone()
}

/// The ids of every device `who` may see, newest first.
async fn listed(app: &TestApp, who: &Session) -> Vec<String> {
    let answer = search_devices(app, Some(who), json!({"page_size": 100})).await;
    pluck(&ok(&answer)["content"], "id")
}

/// The thermostats' `(deviceCount, entityCount)` in `who`'s tenant.
async fn counts(app: &TestApp, who: &Session) -> (i64, i64) {
    let answer = search_integrations(app, Some(who), json!({})).await;
    let thermo = &ok(&answer)[0];
    assert_eq!(thermo["id"], THERMO, "{thermo}");
    let count = |field: &str| thermo[field].as_i64().expect(field);
    (count("deviceCount"), count("entityCount"))
}

/// Asserts a success when `visible`, else a 404 naming the id.
fn seen_or_hidden(answer: &Answer, id: &str, visible: bool) {
    if visible {
        ok(answer);
    } else {
        not_found(answer, id);
    }
}

// ---- expected bodies ----

/// The thermostats as the integration list shows them.
fn thermo_json(devices: i64, entities: i64) -> Value {
    json!({
        "id": THERMO,
        "name": "Thermostats",
        "description": "Test thermostats",
        "add_device_service_key": "thermo.integration.add_device",
        "delete_device_service_key": "thermo.integration.delete_device",
        "deviceCount": devices,
        "entityCount": entities,
    })
}

/// Asserts `v` is an id: a positive integer as a string.
fn assert_id(v: &Value) {
    let id = v.as_str().unwrap_or_else(|| panic!("not an id: {v}"));
    assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "not an id: {v}");
}

/// Asserts `v["id"]` is an id and returns `v` without it.
fn without_id(v: &Value) -> Value {
    assert_id(&v["id"]);
    let mut v = v.clone();
    v.as_object_mut().expect("object").remove("id");
    v
}

/// A thermostat as the device list shows it; its times are taken from `got` after a sanity
/// check.
fn device_row(id: &str, name: &str, serial: &str, got: &Value) -> Value {
    let created = got["created_at"].as_i64().expect("created_at");
    let updated = got["updated_at"].as_i64().expect("updated_at");
    assert!(created > 1_700_000_000_000 && updated >= created, "{got}");
    json!({
        "id": id,
        "key": format!("thermo.device.{serial}"),
        "name": name,
        "integration": THERMO,
        "integration_name": "Thermostats",
        "identifier": serial,
        "additional_data": {},
        "created_at": created,
        "updated_at": updated,
        "deletable": true,
    })
}

// ---- who may call: a scene per function code ----

/// A thermostats server with the devices Hall then Attic, and users of the admin's tenant
/// who hold a function code in different ways.
struct Scene {
    app: TestApp,
    admin: Session,
    hall: String,
    attic: String,
    /// No function code.
    plain: Session,
    /// Every other device code, and the integration.
    other: Session,
    /// The code with no grant, with Hall, with the integration; and whether they see
    /// (Hall, Attic).
    limited: [(Session, (bool, bool)); 3],
}

impl Scene {
    async fn new(code: &str) -> Self {
        let (app, admin) = thermo_app().await;
        let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
        let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
        let plain = app.create_user(&admin, "plain@weir.test").await;
        let others: Vec<&str> = DEVICE_CODES.into_iter().filter(|c| *c != code).collect();
        let integration = Some(("INTEGRATION", THERMO));
        let other = user_with(&app, &admin, "other@weir.test", &others, integration).await;
        let none = user_with(&app, &admin, "none@weir.test", &[code], None).await;
        let device = Some(("DEVICE", hall.as_str()));
        let one = user_with(&app, &admin, "one@weir.test", &[code], device).await;
        let all = user_with(&app, &admin, "all@weir.test", &[code], integration).await;
        Self {
            limited: [
                (none, (false, false)),
                (one, (true, false)),
                (all, (true, true)),
            ],
            app,
            admin,
            hall,
            attic,
            plain,
            other,
        }
    }

    /// Asserts the call is refused without a token (401), and with 403 to the plain user
    /// and to the user holding every other device code.
    async fn assert_gated(&self, method: &str, path: &str, body: Option<Value>) {
        let answer = self.app.call(method, path, None, body.clone()).await;
        unauthenticated(&answer, "missing access token");
        for who in [&self.plain, &self.other] {
            forbidden(&self.app.call(method, path, Some(who), body.clone()).await);
        }
    }

    /// Each limited user with each device and whether they see it.
    fn cases(&self) -> Vec<(&Session, &str, bool)> {
        self.limited
            .iter()
            .flat_map(|(who, (hall, attic))| {
                [
                    (who, self.hall.as_str(), *hall),
                    (who, self.attic.as_str(), *attic),
                ]
            })
            .collect()
    }
}

// ---- POST /integration/search ----

#[tokio::test]
async fn iot_integration_search_lists_the_integration_with_its_keys_and_counts() {
    let (app, admin) = thermo_app().await;
    let answer = search_integrations(&app, Some(&admin), json!({})).await;
    assert_eq!(ok(&answer), &json!([thermo_json(0, 3)]));
    // An empty body reads as no filter.
    let answer = app
        .call("POST", "/integration/search", Some(&admin), None)
        .await;
    let listed = ok(&answer).as_array().expect("a list");
    assert!(listed.contains(&thermo_json(0, 3)), "{listed:?}");
}

#[tokio::test]
async fn iot_integration_search_filters_by_what_the_integration_can_do() {
    let (app, admin) = thermo_app().await;
    for (filter, listed) in [
        (json!({"device_addable": true}), true),
        (json!({"device_addable": false}), false),
        (json!({"device_addable": null}), true),
        (json!({"device_deletable": true}), true),
        (json!({"device_deletable": false}), false),
        (
            json!({"device_addable": true, "device_deletable": true}),
            true,
        ),
        (
            json!({"device_addable": true, "device_deletable": false}),
            false,
        ),
    ] {
        let answer = search_integrations(&app, Some(&admin), filter.clone()).await;
        let expected = if listed { vec![THERMO] } else { vec![] };
        assert_eq!(pluck(ok(&answer), "id"), expected, "{filter}");
    }
}

#[tokio::test]
async fn iot_integration_search_refuses_wrongly_typed_filters() {
    let (app, admin) = thermo_app().await;
    for (filter, field) in [
        (json!({"device_addable": "yes"}), "device_addable"),
        (json!({"device_deletable": 1}), "device_deletable"),
    ] {
        invalid(
            &search_integrations(&app, Some(&admin), filter).await,
            field,
        );
    }
}

#[tokio::test]
async fn iot_integrations_need_a_listing_code_and_the_integration_grant() {
    let (app, admin) = thermo_app().await;
    let path = "/integration/thermo";
    unauthenticated(&search_integrations(&app, None, json!({})).await, "missing");
    unauthenticated(&app.call("GET", path, None, None).await, "missing");
    let editor = user_with(&app, &admin, "editor@weir.test", &["device.edit"], None).await;
    forbidden(&search_integrations(&app, Some(&editor), json!({})).await);
    forbidden(&app.call("GET", path, Some(&editor), None).await);
    for code in ["integration.view", "device.view", "device.add"] {
        let email = |kind: &str| format!("{}-{kind}@weir.test", code.replace('.', "-"));
        let none = user_with(&app, &admin, &email("none"), &[code], None).await;
        let granted = Some(("INTEGRATION", THERMO));
        let all = user_with(&app, &admin, &email("all"), &[code], granted).await;
        let answer = search_integrations(&app, Some(&none), json!({})).await;
        assert_eq!(ok(&answer), &json!([]), "{code}");
        not_found(&app.call("GET", path, Some(&none), None).await, THERMO);
        let answer = search_integrations(&app, Some(&all), json!({})).await;
        assert_eq!(pluck(ok(&answer), "id"), [THERMO], "{code}");
        let answer = app.call("GET", path, Some(&all), None).await;
        assert_eq!(ok(&answer)["id"], THERMO, "{code}");
    }
}

// ---- GET /integration/{id} ----

#[tokio::test]
async fn iot_integration_details_show_counts_and_the_service_entities() {
    let (app, admin) = thermo_app().await;
    new_device(&app, &admin, "Hall", "SN-0001").await;
    let answer = app
        .call("GET", "/integration/thermo", Some(&admin), None)
        .await;
    let mut data = ok(&answer).clone();
    let entities = data
        .as_object_mut()
        .expect("object")
        .remove("integration_entities")
        .expect("integration_entities");
    assert_eq!(data, thermo_json(1, 4));
    let entities: Vec<Value> = entities
        .as_array()
        .expect("array")
        .iter()
        .map(without_id)
        .collect();
    let service = |identifier: &str| json!({"key": format!("thermo.integration.{identifier}"), "name": identifier.replace('_', " "), "type": "SERVICE", "access_mod": "W", "value_type": "OBJECT", "value_attribute": {}});
    let serial = json!({"key": "thermo.integration.add_device.sn", "name": "Serial", "type": "PROPERTY", "access_mod": "W", "value_type": "STRING", "value_attribute": {"min_length": 4}, "parent": "thermo.integration.add_device"});
    assert_eq!(
        entities,
        [service("add_device"), serial, service("delete_device")]
    );
}

#[tokio::test]
async fn iot_an_unknown_integration_is_not_found() {
    let (app, admin) = thermo_app().await;
    for id in ["nope", "THERMO", "thermo.integration"] {
        let answer = app
            .call("GET", &format!("/integration/{id}"), Some(&admin), None)
            .await;
        not_found(&answer, id);
    }
}

// ---- both prefixes ----

#[tokio::test]
async fn iot_routes_answer_under_api_v1_and_bare() {
    let (app, admin) = thermo_app().await;
    for (prefix, serial) in [("", "SN-0001"), ("/api/v1", "SN-0002")] {
        let answer = app
            .call(
                "POST",
                &format!("{prefix}/device"),
                Some(&admin),
                Some(device_body("Hall", serial)),
            )
            .await;
        let id = ok(&answer)["device_id"].as_str().expect("id").to_owned();
        let one = device_path(&id);
        for (method, path, body) in [
            ("POST", "/integration/search", Some(json!({}))),
            ("GET", "/integration/thermo", None),
            ("POST", "/device/search", Some(json!({}))),
            ("PUT", one.as_str(), Some(json!({"name": "Renamed"}))),
            ("GET", one.as_str(), None),
            (
                "POST",
                "/device/batch-delete",
                Some(json!({"device_id_list": [id]})),
            ),
        ] {
            let path = format!("{prefix}{path}");
            let answer = app.call(method, &path, Some(&admin), body).await;
            ok(&answer);
        }
        not_found(&get_device(&app, Some(&admin), &id).await, &id);
    }
}

// ---- POST /device ----

#[tokio::test]
async fn iot_create_device_answers_its_id_and_keeps_the_trimmed_name() {
    let (app, admin) = thermo_app().await;
    let long = "é".repeat(64);
    for (serial, name, kept) in [
        ("SN-0001", "Hall", "Hall"),
        ("SN-0002", "  Attic \t", "Attic"),
        ("SN-0003", long.as_str(), long.as_str()),
    ] {
        let answer = add_device(&app, Some(&admin), device_body(name, serial)).await;
        let data = ok(&answer);
        assert_id(&data["device_id"]);
        assert_eq!(data.as_object().expect("object").len(), 1, "{data}");
        let id = data["device_id"].as_str().expect("device_id");
        let answer = get_device(&app, Some(&admin), id).await;
        let got = ok(&answer);
        assert_eq!(
            (&got["name"], &got["identifier"]),
            (&json!(kept), &json!(serial))
        );
    }
}

#[tokio::test]
async fn iot_create_device_refuses_malformed_bodies_naming_the_field() {
    let (app, admin) = thermo_app().await;
    let sn = json!({"sn": "SN-0001"});
    let long_name = "x".repeat(65);
    let long_serial = "S".repeat(65);
    for (body, field) in [
        (json!({"integration": THERMO, "param_entities": sn}), "name"),
        (
            json!({"name": 7, "integration": THERMO, "param_entities": sn}),
            "name",
        ),
        (json!({"name": "Hall", "param_entities": sn}), "integration"),
        (
            json!({"name": "Hall", "integration": 5, "param_entities": sn}),
            "integration",
        ),
        (
            json!({"name": "Hall", "integration": THERMO, "param_entities": ["SN-0001"]}),
            "param_entities",
        ),
        (device_body("", "SN-0001"), "name"),
        (device_body("   ", "SN-0001"), "name"),
        (device_body(&long_name, "SN-0001"), "name"),
        (device_body("Hall\nway", "SN-0001"), "name"),
        (
            json!({"name": "Hall", "integration": THERMO, "param_entities": {"sn": "SN-0001", "colour": "red"}}),
            "param_entities.colour",
        ),
        (device_body("Hall", "SN 0001"), "identifier"),
        (device_body("Hall", &long_serial), "identifier"),
    ] {
        invalid(&add_device(&app, Some(&admin), body.clone()).await, field);
    }
    assert_eq!(listed(&app, &admin).await, Vec::<String>::new());
    assert_eq!(counts(&app, &admin).await, (0, 3));
}

#[tokio::test]
async fn iot_create_device_checks_parameter_values_with_their_codes() {
    let (app, admin) = thermo_app().await;
    for (params, code) in [
        (json!(null), "entity_value_required"),
        (json!({}), "entity_value_required"),
        (json!({"sn": null}), "entity_value_required"),
        (json!({"sn": "S1"}), "entity_value_length_out_of_range"),
        (json!({"sn": 1234}), "entity_value_not_match_type"),
    ] {
        let mut body = json!({"name": "Hall", "integration": THERMO});
        if !params.is_null() {
            body["param_entities"] = params;
        }
        let message = refused(&add_device(&app, Some(&admin), body).await, 400, code);
        assert!(message.contains("param_entities.sn"), "{message}");
    }
    assert_eq!(counts(&app, &admin).await, (0, 3));
}

#[tokio::test]
async fn iot_create_device_in_an_unknown_integration_is_not_found() {
    let (app, admin) = thermo_app().await;
    for integration in ["nope", "Thermo", ""] {
        let body = json!({"name": "Hall", "integration": integration, "param_entities": {"sn": "SN-0001"}});
        let message = refused(
            &add_device(&app, Some(&admin), body).await,
            404,
            "data_no_found",
        );
        assert!(
            message.contains(&format!("integration {integration}")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn iot_a_second_device_with_the_same_serial_is_refused() {
    let (app, admin) = thermo_app().await;
    let first = new_device(&app, &admin, "Hall", "SN-0001").await;
    let answer = add_device(&app, Some(&admin), device_body("Attic", "SN-0001")).await;
    let message = refused(&answer, 400, "device_identifier_exist");
    assert!(message.contains("SN-0001"), "{message}");
    assert_eq!(listed(&app, &admin).await, [first.as_str()]);
    assert_eq!(name_of(&app, &admin, &first).await, "Hall");
    assert_eq!(counts(&app, &admin).await, (1, 4));
}

#[tokio::test]
async fn iot_create_device_needs_device_add_and_the_integration_grant() {
    let s = Scene::new("device.add").await;
    let body = device_body("Cellar", "SN-0003");
    s.assert_gated("POST", "/device", Some(body.clone())).await;
    let [(none, _), _, (all, _)] = &s.limited;
    let answer = add_device(&s.app, Some(none), body.clone()).await;
    not_found(&answer, THERMO);
    let answer = add_device(&s.app, Some(all), body).await;
    let id = ok(&answer)["device_id"].as_str().expect("id").to_owned();
    assert_eq!(
        listed(&s.app, &s.admin).await,
        [id, s.attic.clone(), s.hall.clone()]
    );
}

// ---- POST /device/search ----

#[tokio::test]
async fn iot_device_search_answers_pages_of_rows_newest_first() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    let hallway = new_device(&app, &admin, "Hallway", "SN-0003").await;
    let (hall, attic, hallway) = (hall.as_str(), attic.as_str(), hallway.as_str());
    let answer = search_devices(&app, Some(&admin), json!({})).await;
    let page = ok(&answer);
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(1), &json!(10), &json!(3))
    );
    let row = &page["content"][2];
    assert_eq!(row, &device_row(hall, "Hall", "SN-0001", row));
    for (query, ids, total) in [
        (json!({"page_size": 2}), vec![hallway, attic], 3),
        (json!({"page_size": 2, "page_number": 2}), vec![hall], 3),
        (json!({"page_size": 2, "page_number": 3}), vec![], 3),
        (json!({"name": "HALL"}), vec![hallway, hall], 2),
        (json!({"name": "  tti "}), vec![attic], 1),
        (json!({"name": ""}), vec![hallway, attic, hall], 3),
        (json!({"name": "l_w"}), vec![], 0),
        (json!({"name": "%"}), vec![], 0),
        (json!({"name": "cellar"}), vec![], 0),
    ] {
        let answer = search_devices(&app, Some(&admin), query.clone()).await;
        let page = ok(&answer);
        assert_eq!(pluck(&page["content"], "id"), ids, "{query}");
        assert_eq!(page["total"], total, "{query}");
    }
    let answer = search_devices(
        &app,
        Some(&admin),
        json!({"page_size": 2, "page_number": 2}),
    )
    .await;
    assert_eq!(
        (&ok(&answer)["page_number"], &ok(&answer)["page_size"]),
        (&json!(2), &json!(2))
    );
}

#[tokio::test]
async fn iot_device_search_refuses_bad_paging_and_types() {
    let (app, admin) = thermo_app().await;
    for (query, field) in [
        (json!({"page_size": "ten"}), "page_size"),
        (json!({"page_number": 1.5}), "page_number"),
        (json!({"name": 5}), "name"),
        (json!({"page_number": 0}), "page_number"),
        (json!({"page_size": -1}), "page_size"),
    ] {
        invalid(&search_devices(&app, Some(&admin), query).await, field);
    }
}

#[tokio::test]
async fn iot_device_search_lists_only_granted_devices() {
    let s = Scene::new("device.view").await;
    s.assert_gated("POST", "/device/search", Some(json!({})))
        .await;
    for (who, (hall, attic)) in &s.limited {
        let expected: Vec<&str> = [(s.attic.as_str(), *attic), (s.hall.as_str(), *hall)]
            .into_iter()
            .filter_map(|(id, seen)| seen.then_some(id))
            .collect();
        let answer = search_devices(&s.app, Some(who), json!({})).await;
        let page = ok(&answer);
        assert_eq!(pluck(&page["content"], "id"), expected, "{}", who.email);
        assert_eq!(page["total"], expected.len(), "{}", who.email);
    }
}

// ---- PUT /device/{id} ----

#[tokio::test]
async fn iot_rename_device_trims_and_keeps_the_new_name() {
    let (app, admin) = thermo_app().await;
    let id = new_device(&app, &admin, "Hall", "SN-0001").await;
    let long = "é".repeat(64);
    for (name, kept) in [("  Hallway ", "Hallway"), (long.as_str(), long.as_str())] {
        let answer = rename(&app, Some(&admin), &id, json!({ "name": name })).await;
        assert_eq!(ok(&answer), &json!({}));
        let answer = get_device(&app, Some(&admin), &id).await;
        let got = ok(&answer);
        let mut expected = device_row(&id, kept, "SN-0001", got);
        expected["entities"] = got["entities"].clone();
        assert_eq!(got, &expected);
        let answer = search_devices(&app, Some(&admin), json!({})).await;
        assert_eq!(ok(&answer)["content"][0]["name"], kept);
    }
}

#[tokio::test]
async fn iot_rename_device_refuses_bad_names() {
    let (app, admin) = thermo_app().await;
    let id = new_device(&app, &admin, "Hall", "SN-0001").await;
    for body in [
        json!({}),
        json!({"name": 5}),
        json!({"name": null}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "x".repeat(65)}),
        json!({"name": "Hall\u{7}"}),
    ] {
        invalid(&rename(&app, Some(&admin), &id, body).await, "name");
    }
    assert_eq!(name_of(&app, &admin, &id).await, "Hall");
}

#[tokio::test]
async fn iot_device_paths_refuse_non_numeric_ids_and_unknown_ones() {
    let (app, admin) = thermo_app().await;
    new_device(&app, &admin, "Hall", "SN-0001").await;
    let body = Some(json!({"name": "Renamed"}));
    for (method, body) in [("GET", None), ("PUT", body)] {
        for bad in ["abc", "1.5", "0", "-3", "99999999999999999999"] {
            let answer = app
                .call(method, &device_path(bad), Some(&admin), body.clone())
                .await;
            invalid(&answer, "device_id");
        }
        let answer = app
            .call(method, &device_path(UNKNOWN_ID), Some(&admin), body.clone())
            .await;
        not_found(&answer, UNKNOWN_ID);
    }
}

#[tokio::test]
async fn iot_rename_device_needs_device_edit_and_a_grant() {
    let s = Scene::new("device.edit").await;
    let body = json!({"name": "Renamed"});
    s.assert_gated("PUT", &device_path(&s.hall), Some(body))
        .await;
    for (who, id, visible) in s.cases() {
        let name = format!("By {}", who.email);
        let answer = rename(&s.app, Some(who), id, json!({ "name": name })).await;
        seen_or_hidden(&answer, id, visible);
        let now = name_of(&s.app, &s.admin, id).await;
        assert_eq!(now == name.as_str(), visible, "{now}");
    }
}

// ---- GET /device/{id} ----

#[tokio::test]
async fn iot_device_details_show_the_row_and_its_entities() {
    let (app, admin) = thermo_app().await;
    let id = new_device(&app, &admin, "Hall", "SN-0001").await;
    let answer = get_device(&app, Some(&admin), &id).await;
    let got = ok(&answer);
    let mut expected = device_row(&id, "Hall", "SN-0001", got);
    expected["entities"] = json!([{
        "id": got["entities"][0]["id"],
        "key": "thermo.device.SN-0001.temp",
        "name": "Temperature",
        "type": "PROPERTY",
        "access_mod": "R",
        "value_type": "DOUBLE",
        "value_attribute": {"unit": "°C"},
    }]);
    assert_eq!(got, &expected);
    without_id(&got["entities"][0]);
}

#[tokio::test]
async fn iot_device_details_need_device_view_and_a_grant() {
    let s = Scene::new("device.view").await;
    s.assert_gated("GET", &device_path(&s.hall), None).await;
    for (who, id, visible) in s.cases() {
        let answer = get_device(&s.app, Some(who), id).await;
        seen_or_hidden(&answer, id, visible);
        if visible {
            let got = ok(&answer);
            assert_eq!(got["id"], id);
            assert_eq!(pluck(&got["entities"], "name"), ["Temperature"]);
        }
    }
}

// ---- POST /device/batch-delete ----

#[tokio::test]
async fn iot_batch_delete_removes_the_named_devices_only() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    let cellar = new_device(&app, &admin, "Cellar", "SN-0003").await;
    let answer = delete_devices(&app, Some(&admin), &[&hall, &cellar]).await;
    assert_eq!(ok(&answer), &json!({}));
    assert_eq!(listed(&app, &admin).await, [attic.as_str()]);
    for gone in [&hall, &cellar] {
        not_found(&get_device(&app, Some(&admin), gone).await, gone);
    }
    // The serial of a deleted device is free again.
    new_device(&app, &admin, "Hall again", "SN-0001").await;
}

#[tokio::test]
async fn iot_batch_delete_refuses_bad_lists() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let too_many: Vec<String> = (1..=1001).map(|n| n.to_string()).collect();
    for body in [
        json!({}),
        json!({"device_id_list": []}),
        json!({"device_id_list": null}),
        json!({"device_id_list": hall}),
        json!({"device_id_list": [hall, "abc"]}),
        json!({"device_id_list": [hall, "0"]}),
        json!({"device_id_list": [null]}),
        json!({ "device_id_list": too_many }),
    ] {
        let answer = app
            .call(
                "POST",
                "/device/batch-delete",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        invalid(&answer, "device_id_list");
    }
    assert_eq!(listed(&app, &admin).await, [hall]);
}

#[tokio::test]
async fn iot_batch_delete_with_one_unknown_id_deletes_nothing() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    for ids in [[hall.as_str(), UNKNOWN_ID], [UNKNOWN_ID, attic.as_str()]] {
        not_found(&delete_devices(&app, Some(&admin), &ids).await, UNKNOWN_ID);
    }
    assert_eq!(listed(&app, &admin).await, [attic.as_str(), hall.as_str()]);
    for id in [&hall, &attic] {
        assert_eq!(
            pluck(
                &ok(&get_device(&app, Some(&admin), id).await)["entities"],
                "name"
            )
            .len(),
            1
        );
    }
    assert_eq!(counts(&app, &admin).await, (2, 5));
}

#[tokio::test]
async fn iot_batch_delete_needs_device_delete_and_a_grant() {
    let s = Scene::new("device.delete").await;
    let body = json!({"device_id_list": [s.hall]});
    s.assert_gated("POST", "/device/batch-delete", Some(body))
        .await;
    let [(none, _), (one, _), (all, _)] = &s.limited;
    let hall = s.hall.as_str();
    let attic = s.attic.as_str();
    for (who, ids, hidden) in [
        (none, [hall].as_slice(), hall),
        (one, [attic].as_slice(), attic),
        (one, [hall, attic].as_slice(), attic),
    ] {
        not_found(&delete_devices(&s.app, Some(who), ids).await, hidden);
    }
    assert_eq!(listed(&s.app, &s.admin).await, [attic, hall]);
    ok(&delete_devices(&s.app, Some(all), &[hall, attic]).await);
    assert_eq!(listed(&s.app, &s.admin).await, Vec::<String>::new());
}

#[tokio::test]
async fn iot_batch_delete_by_a_device_grant_deletes_that_device() {
    let s = Scene::new("device.delete").await;
    let (one, _) = &s.limited[1];
    ok(&delete_devices(&s.app, Some(one), &[&s.hall]).await);
    assert_eq!(listed(&s.app, &s.admin).await, [s.attic.as_str()]);
}

// ---- tenants and counts ----

#[tokio::test]
async fn iot_devices_of_another_tenant_are_not_found() {
    let (app, admin) = thermo_app().await;
    let boss = join_acme(&app).await;
    let ours = new_device(&app, &admin, "Hall", "SN-0001").await;
    // Serials are unique per tenant.
    let theirs = new_device(&app, &boss, "Hall", "SN-0001").await;
    for (who, own, foreign) in [(&admin, &ours, &theirs), (&boss, &theirs, &ours)] {
        not_found(&get_device(&app, Some(who), foreign).await, foreign);
        let answer = rename(&app, Some(who), foreign, json!({"name": "Mine"})).await;
        not_found(&answer, foreign);
        not_found(&delete_devices(&app, Some(who), &[foreign]).await, foreign);
        assert_eq!(listed(&app, who).await, [own.as_str()]);
        assert_eq!(counts(&app, who).await, (1, 4));
    }
    for (who, own) in [(&admin, &ours), (&boss, &theirs)] {
        assert_eq!(name_of(&app, who, own).await, "Hall");
    }
}

#[tokio::test]
async fn iot_device_and_entity_counts_follow_creates_and_deletes() {
    let (app, admin) = thermo_app().await;
    assert_eq!(counts(&app, &admin).await, (0, 3));
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    assert_eq!(counts(&app, &admin).await, (1, 4));
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    assert_eq!(counts(&app, &admin).await, (2, 5));
    let answer = add_device(&app, Some(&admin), device_body("Again", "SN-0002")).await;
    refused(&answer, 400, "device_identifier_exist");
    assert_eq!(counts(&app, &admin).await, (2, 5));
    ok(&delete_devices(&app, Some(&admin), &[&hall]).await);
    assert_eq!(counts(&app, &admin).await, (1, 4));
    let answer = app
        .call("GET", "/integration/thermo", Some(&admin), None)
        .await;
    let got = ok(&answer);
    assert_eq!(
        (&got["deviceCount"], &got["entityCount"]),
        (&json!(1), &json!(4))
    );
    ok(&delete_devices(&app, Some(&admin), &[&attic]).await);
    assert_eq!(counts(&app, &admin).await, (0, 3));
}
