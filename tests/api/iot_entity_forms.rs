//! `POST /entity/form` (issue 14): the forms of properties' and services' values, as the
//! console's `entity.ts` declares it (`{entity_id_list}`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    ACME, UNKNOWN_ID, add_tenant, assert_guarded, declared, invalid, login_in, not_found, ok,
    register_in, user_with,
};

/// A server with a sprinkler `s1` (a settable level, a `water` service with two parameters,
/// an alarm event), its admin and the entity ids by key suffix.
async fn setup() -> (TestApp, Session, BTreeMap<String, String>) {
    let sprinklers = declared(
        "spr",
        "Sprinklers",
        vec![
            json!({"identifier": "level", "name": "Level", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG", "value_attribute": {"min": 0, "max": 10}}),
            json!({"identifier": "water", "name": "Water", "type": "SERVICE", "access_mod": "W", "value_type": "OBJECT", "children": [
                {"identifier": "minutes", "name": "Minutes", "type": "SERVICE", "access_mod": "W", "value_type": "LONG", "value_attribute": {"min": 1, "max": 60}},
                {"identifier": "zone", "name": "Zone", "type": "SERVICE", "access_mod": "W", "value_type": "STRING", "value_attribute": {"optional": true, "enum": {"a": "Front", "b": "Back"}}}]}),
            json!({"identifier": "alarm", "name": "Alarm", "type": "EVENT", "access_mod": "R", "value_type": "STRING"}),
        ],
    );
    let app = TestApp::spawn_with_integrations(|_| {}, vec![sprinklers]).await;
    let admin = app.register_admin().await;
    let body = json!({"name": "S1", "integration": "spr"});
    let device = ok(&app.call("POST", "/device", Some(&admin), Some(body)).await)["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = app
        .call("GET", &format!("/device/{device}"), Some(&admin), None)
        .await;
    let ids = ok(&answer)["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let key = e["key"].as_str().unwrap();
            (
                key.trim_start_matches("spr.device.s1.").to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (app, admin, ids)
}

async fn forms(app: &TestApp, who: &Session, ids: Value) -> (u16, Value) {
    let body = json!({"entity_id_list": ids});
    app.call("POST", "/entity/form", Some(who), Some(body))
        .await
}

#[tokio::test]
async fn a_form_lists_the_fields_a_write_or_call_fills() {
    let (app, admin, ids) = setup().await;
    let answer = forms(&app, &admin, json!([ids["water"], ids["level"]])).await;
    let all = ok(&answer).as_array().unwrap().clone();
    assert_eq!(all.len(), 2, "in the order asked");
    let water = &all[0];
    assert_eq!(
        (
            &water["entity_id"],
            &water["entity_key"],
            &water["entity_type"]
        ),
        (
            &json!(ids["water"]),
            &json!("spr.device.s1.water"),
            &json!("SERVICE")
        )
    );
    let fields = water["fields"].as_array().unwrap();
    let keys: Vec<&str> = fields.iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["spr.device.s1.water.minutes", "spr.device.s1.water.zone"]
    );
    assert_eq!(
        (
            &fields[0]["name"],
            &fields[0]["value_type"],
            &fields[0]["required"]
        ),
        (&json!("Minutes"), &json!("LONG"), &json!(true))
    );
    assert_eq!(fields[0]["value_attribute"]["max"], json!(60.0));
    assert_eq!(fields[1]["required"], false);
    assert_eq!(
        fields[1]["value_attribute"]["enum"],
        json!({"a": "Front", "b": "Back"})
    );
    // A property without children is its own one field.
    let level = &all[1];
    assert_eq!(level["entity_access_mod"], "RW");
    assert_eq!(
        level["fields"],
        json!([{"entity_id": ids["level"], "key": "spr.device.s1.level", "name": "Level",
                "value_type": "LONG", "access_mod": "RW", "required": true,
                "value_attribute": {"min": 0.0, "max": 10.0}}])
    );
}

#[tokio::test]
async fn forms_check_their_input_the_caller_and_the_tenant() {
    let (app, admin, ids) = setup().await;
    invalid(&forms(&app, &admin, json!([])).await, "entity_id_list");
    let many: Vec<String> = (0..101).map(|_| ids["level"].clone()).collect();
    invalid(&forms(&app, &admin, json!(many)).await, "entity_id_list");
    invalid(&forms(&app, &admin, json!(["abc"])).await, "entity_id_list");
    let answer = app
        .call("POST", "/entity/form", Some(&admin), Some(json!({})))
        .await;
    invalid(&answer, "entity_id_list");
    invalid(
        &forms(&app, &admin, json!([ids["level"], ids["alarm"]])).await,
        "entity_id_list[1]",
    );
    not_found(&forms(&app, &admin, json!([UNKNOWN_ID])).await, UNKNOWN_ID);

    // Another tenant's admin does not see this tenant's entities.
    add_tenant(&app, ACME).await.unwrap();
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (boss, _) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    not_found(
        &forms(&app, &boss, json!([ids["level"]])).await,
        &ids["level"],
    );

    // `entity_data.view` is needed.
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let calls = [(
        "POST",
        "/entity/form".to_owned(),
        Some(json!({"entity_id_list": [ids["level"]]})),
    )];
    assert_guarded(&app, &plain, &calls).await;
    let viewer = user_with(
        &app,
        &admin,
        "viewer@weir.test",
        &["entity_data.view"],
        None,
    )
    .await;
    not_found(
        &forms(&app, &viewer, json!([ids["level"]])).await,
        &ids["level"],
    );
    let granted = Some(("INTEGRATION", "spr"));
    let reader = user_with(
        &app,
        &admin,
        "reader@weir.test",
        &["entity_data.view"],
        granted,
    )
    .await;
    ok(&forms(&app, &reader, json!([ids["level"]])).await);
}
