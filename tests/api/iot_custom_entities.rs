//! Custom entities: created, edited and deleted by users, owned by the `system` integration.

use crate::support::{assert_guarded, error_code as code};
use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

fn setpoint(identifier: &str) -> Value {
    json!({"name": "Setpoint", "identifier": identifier, "type": "PROPERTY", "access_mod": "RW", "value_type": "DOUBLE", "value_attribute": {"min": 5, "max": 30}})
}

async fn create(app: &TestApp, who: &Session, body: Value) -> (u16, Value) {
    app.call("POST", "/entity", Some(who), Some(body)).await
}

#[tokio::test]
async fn custom_entities_are_created_used_edited_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let (s, body) = create(&app, &admin, setpoint("setpoint")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["data"]["entity_key"], "system.integration.setpoint");
    let id = body["data"]["entity_id"].as_str().unwrap().to_owned();

    let write = |v: f64| json!({"exchange": {"system.integration.setpoint": v}});
    let (s, body) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&admin),
            Some(write(21.5)),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&admin),
            Some(write(31.0)),
        )
        .await;
    assert_eq!((s, code(&body)), (400, "entity_value_out_of_range"));

    let (s, _) = app
        .call(
            "PUT",
            &format!("/entity/{id}"),
            Some(&admin),
            Some(json!({"name": "Target", "value_attribute": {"min": 5, "max": 35}})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, body) = app
        .call("GET", &format!("/entity/{id}/meta"), Some(&admin), None)
        .await;
    assert_eq!(
        (
            body["data"]["name"].as_str(),
            body["data"]["value_attribute"]["max"].as_f64()
        ),
        (Some("Target"), Some(35.0))
    );
    let (s, _) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&admin),
            Some(write(31.0)),
        )
        .await;
    assert_eq!(s, 200, "the new maximum applies");

    let (s, _) = app
        .call(
            "POST",
            "/entity/delete",
            Some(&admin),
            Some(json!({"entity_ids": [id]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = app
        .call("GET", &format!("/entity/{id}/meta"), Some(&admin), None)
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
}

/// The console renames an entity with its name alone: the stored attributes stay.
#[tokio::test]
async fn a_rename_alone_keeps_the_value_attribute() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let (_, body) = create(&app, &admin, setpoint("kept")).await;
    let id = body["data"]["entity_id"].as_str().unwrap().to_owned();
    let (s, body) = app
        .call(
            "PUT",
            &format!("/entity/{id}"),
            Some(&admin),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app
        .call("GET", &format!("/entity/{id}/meta"), Some(&admin), None)
        .await;
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(body["data"]["value_attribute"]["min"].as_f64(), Some(5.0));
    assert_eq!(body["data"]["value_attribute"]["max"].as_f64(), Some(30.0));
}

#[tokio::test]
async fn an_object_entity_brings_its_children() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let object = json!({"name": "Place", "identifier": "place", "type": "PROPERTY", "access_mod": "RW", "value_type": "OBJECT",
        "children": [{"name": "Room", "identifier": "room", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING"}]});
    let (s, body) = create(&app, &admin, object).await;
    assert_eq!(s, 200, "{body}");
    let id = body["data"]["entity_id"].as_str().unwrap();
    let (_, body) = app
        .call("GET", &format!("/entity/{id}/children"), Some(&admin), None)
        .await;
    assert_eq!(
        body["data"][0]["entity_key"],
        "system.integration.place.room"
    );
    let (s, _) = app
        .call(
            "POST",
            "/entity/delete",
            Some(&admin),
            Some(json!({"entity_ids": [id]})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, body) = app
        .call(
            "POST",
            "/entity/search",
            Some(&admin),
            Some(json!({"keyword": "system.integration.place"})),
        )
        .await;
    assert_eq!(body["data"]["total"], 0, "the child went too");
}

#[tokio::test]
async fn bad_definitions_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    create(&app, &admin, setpoint("taken")).await;
    let mut long_id = setpoint(&"x".repeat(51));
    long_id["identifier"] = json!("x".repeat(51));
    let mut long_name = setpoint("n");
    long_name["name"] = json!("n".repeat(65));
    let cases = [
        (setpoint("taken"), "entity_key_exist", ""),
        (long_id, "parameter_validation_failed", "identifier"),
        (long_name, "parameter_validation_failed", "name"),
        (
            json!({"name": "B", "identifier": "b", "type": "PROPERTY", "access_mod": "RW", "value_type": "BOOLEAN", "value_attribute": {"min": 1}}),
            "parameter_validation_failed",
            "value_attribute.min",
        ),
        (
            json!({"name": "B", "identifier": "b", "type": "THING", "access_mod": "RW", "value_type": "LONG"}),
            "parameter_validation_failed",
            "type",
        ),
        (
            json!({"name": "B", "identifier": "b.c", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG"}),
            "parameter_validation_failed",
            "identifier",
        ),
        (
            json!({"name": "B", "identifier": "b", "type": "PROPERTY", "access_mod": "RW"}),
            "parameter_validation_failed",
            "value_type",
        ),
    ];
    for (body, want, field) in cases {
        let (s, answer) = create(&app, &admin, body.clone()).await;
        assert_eq!((s, code(&answer)), (400, want), "{body}: {answer}");
        assert!(
            answer["error_message"].as_str().unwrap().contains(field),
            "{answer} should name {field}"
        );
    }
    let (_, id) = create(&app, &admin, setpoint("edit")).await;
    let id = id["data"]["entity_id"].as_str().unwrap().to_owned();
    let (s, body) = app
        .call(
            "PUT",
            &format!("/entity/{id}"),
            Some(&admin),
            Some(json!({"name": "E", "value_attribute": {"min": 9, "max": 1}})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (400, "parameter_validation_failed"),
        "{body}"
    );
    let (s, body) = app
        .call(
            "PUT",
            "/entity/999999999",
            Some(&admin),
            Some(json!({"name": "E"})),
        )
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
    let (s, body) = app
        .call(
            "POST",
            "/entity/delete",
            Some(&admin),
            Some(json!({"entity_ids": [id, "999999999"]})),
        )
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
    let (s, _) = app
        .call("GET", &format!("/entity/{id}/meta"), Some(&admin), None)
        .await;
    assert_eq!(s, 200, "nothing was deleted");
    let (s, body) = app
        .call(
            "POST",
            "/entity/delete",
            Some(&admin),
            Some(json!({"entity_ids": []})),
        )
        .await;
    assert_eq!((s, code(&body)), (400, "parameter_validation_failed"));
}

#[tokio::test]
async fn custom_entity_changes_need_their_function_codes() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let (_, id) = create(&app, &admin, setpoint("guarded")).await;
    let id = id["data"]["entity_id"].as_str().unwrap().to_owned();
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let calls = [
        ("POST", "/entity".to_owned(), Some(setpoint("mine"))),
        (
            "PUT",
            format!("/entity/{id}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            "POST",
            "/entity/delete".to_owned(),
            Some(json!({"entity_ids": [id]})),
        ),
    ];
    assert_guarded(&app, &plain, &calls).await;
    let (s, _) = app
        .call("GET", &format!("/entity/{id}/meta"), Some(&admin), None)
        .await;
    assert_eq!(s, 200, "still there");
}
