//! Examples of the operations with a JSON body, in every dialect (all but a few:
//! docs/fuzzing.md, "Examples"), for the document's readers (Swagger UI at `/docs` fills
//! "Try it out" with them) and for the fuzzer, which sends them as they are. Each is a
//! request body the server accepts (given ids that exist) and the success answer it gives;
//! `tests/api/openapi_examples.rs` checks every example against its schema, sends each
//! request example to a fresh server (made-up ids replaced) and compares the answer's
//! shape with the success example.
//!
//! The examples sit on the media types (`content.<type>.example`), set here in one table
//! after the routes have built the document. A form body gets the JSON example with its
//! object values as JSON text (Smartbi's `paramsInfo`), as the form's schema says them.

use serde_json::{Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// One operation's examples: its request body and its success answer.
struct Example {
    method: &'static str,
    path: String,
    request: Value,
    response: Value,
}

fn example(method: &'static str, path: &str, request: Value, response: Value) -> Example {
    Example {
        method,
        path: path.to_owned(),
        request,
        response,
    }
}

const REQUEST_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const USER_ID: &str = "7204718712345677825";
const ROLE_ID: &str = "7204718712345677826";
const DEVICE_ID: &str = "7204718712345677827";
const ENTITY_ID: &str = "7204718712345677828";
const DASHBOARD_ID: &str = "7204718712345677829";
const FLOW_ID: &str = "7204718712345677830";
const MENU_ID: &str = "7204718712345677831";
const CREATED_AT: i64 = 1_767_225_600_000;
const DATASOURCE_ID: &str = "7204718712345677840";
const SCHEMA_ID: &str = "7204718712345677841";
const TABLE_ID: &str = "7204718712345677842";
const FOLDER_ID: &str = "7204718712345677843";
/// A SQLite file in `bi.sqlite_folder` (docs/bi-catalog.md).
const SQLITE_URL: &str = "jdbc:sqlite:/var/lib/weir/bi/shop.db";

/// The native API's success envelope around `data`.
fn native(data: Value) -> Value {
    json!({"status": "Success", "request_id": REQUEST_ID, "data": data})
}

/// The native API's page of `content`.
fn page(content: Value) -> Value {
    let total = content.as_array().map_or(0, Vec::len);
    native(json!({"page_number": 1, "page_size": 10, "total": total, "content": content}))
}

/// A Smartbi action's examples: its `paramsInfo` and its `result`.
fn smartbi_example(action: &'static str, params: Value, result: Value) -> Example {
    Example {
        method: "post",
        path: format!("/smartbi/vision/api/{action}"),
        request: json!({"paramsInfo": params}),
        response: smartbi(result),
    }
}

/// The Smartbi envelope around `result`.
fn smartbi(result: Value) -> Value {
    json!({"success": true, "msg": "ok", "result": result})
}

/// A flow's design as `design_data` carries it: a manual trigger and an output.
fn design() -> String {
    let node = |id: &str, component: &str| {
        json!({"id": id, "componentName": component,
               "data": {"nodeName": id.to_uppercase(), "parameters": {}}})
    };
    json!({
        "nodes": [node("start", "trigger"), node("out", "output")],
        "edges": [{"id": "e1", "source": "start", "target": "out"}],
    })
    .to_string()
}

fn wyn_role() -> Value {
    json!({"id": ROLE_ID, "name": "Reviewers", "createTime": "2026-01-01 00:00:00.000",
           "creatorId": USER_ID, "isBuiltin": false, "allowEditPermissions": true,
           "tenantId": "default", "permissions": ["view-dashboard", "view-device"],
           "members": [USER_ID]})
}

fn thingskit_role(status: bool) -> Value {
    json!({"id": ROLE_ID, "code": ROLE_ID, "name": "operators", "remark": "Run the plant",
           "roleType": "TENANT_ADMIN", "status": status, "tenantId": "default",
           "tenantStatus": "NORMAL", "creator": USER_ID, "updater": null,
           "createTime": "2026-01-01T00:00:00.000Z", "updateTime": "2026-01-01T00:00:00.000Z",
           "menu": [MENU_ID], "description": null, "icon": null, "defaultConfig": null,
           "roleIds": null, "tenantExpireTime": null, "tenantProfileId": null})
}

fn wyn_user() -> Value {
    json!({"id": USER_ID, "username": "alice", "email": "alice@example.com", "mobile": null,
           "provider": "local", "avatar": null, "firstName": null, "lastName": null,
           "creationTime": "2026-01-01 00:00:00.000", "status": "Normal", "fullName": "Alice",
           "organizationIdPath": null, "roles": ["Reviewers"], "customizeProperties": null,
           "extraClaims": null, "tenantRoles": null})
}

/// The examples, by operation.
fn all() -> Vec<Example> {
    let empty = native(json!({}));
    let member = json!({"tenant_id": "default", "user_id": USER_ID, "nickname": "Alice",
                        "email": "alice@example.com", "created_at": CREATED_AT,
                        "roles": [{"role_id": ROLE_ID, "role_name": "Auditors"}]});
    let search = json!({"keyword": "a", "page_number": 1, "page_size": 10});
    let list = json!({"keyword": "", "page_number": 1, "page_size": 10});
    let datasource = json!({"name": "shop", "alias": "The shop", "connectUserName": "",
                            "connectPassword": "", "maxConnection": 20, "driverType": "SQLITE",
                            "driverClassName": "org.sqlite.JDBC", "url": SQLITE_URL,
                            "transactionIsolation": -1});
    let role_dashboard = json!({"dashboard_id": DASHBOARD_ID, "dashboard_name": "Boiler room",
                                "created_at": CREATED_AT, "user_id": USER_ID,
                                "user_email": "alice@example.com", "user_nickname": "Alice"});
    let role_device = json!({"device_id": DEVICE_ID, "device_name": "Boiler room sensor",
                             "created_at": CREATED_AT, "integration_id": "http-device",
                             "integration_name": "HTTP device", "role_integration": false});
    let role_integration = json!({"integration_id": "http-device",
                                  "integration_name": "HTTP device", "device_num": 1,
                                  "entity_num": 3});
    vec![
        // ---- native: auth and the caller's account ----
        example(
            "post",
            "/api/v1/oauth2/token",
            json!({"grant_type": "password", "username": "alice@example.com",
                   "password": "correct-horse-9", "client_id": "iab",
                   "client_secret": "milesight*iab"}),
            native(
                json!({"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
                          "refresh_token": "0f7c2d6e9b1a4c3d8e5f6a7b8c9d0e1f",
                          "token_type": "Bearer", "expires_in": 86_399}),
            ),
        ),
        example(
            "post",
            "/api/v1/user/register",
            json!({"email": "alice@example.com", "nickname": "Alice",
                   "password": "correct-horse-9"}),
            empty.clone(),
        ),
        example(
            "put",
            "/api/v1/user/password",
            json!({"old_password": "correct-horse-9", "new_password": "tr0ub4dor-and-3"}),
            empty.clone(),
        ),
        // ---- native: members ----
        example(
            "post",
            "/api/v1/user/members",
            json!({"email": "bob@example.com", "nickname": "Bob",
                   "password": "battery-staple-7"}),
            native(json!({"user_id": USER_ID})),
        ),
        example(
            "post",
            "/api/v1/user/members/search",
            search.clone(),
            page(json!([member])),
        ),
        example(
            "put",
            "/api/v1/user/members/{user_id}",
            // No email: the fuzzer sends this to its own user too (docs/fuzzing.md).
            json!({"nickname": "Alice B."}),
            empty.clone(),
        ),
        // ---- native: roles ----
        example(
            "post",
            "/api/v1/user/roles",
            json!({"name": "Auditors"}),
            native(json!({"role_id": ROLE_ID})),
        ),
        example(
            "post",
            "/api/v1/user/roles/search",
            search.clone(),
            page(
                json!([{"role_id": ROLE_ID, "name": "Auditors", "description": "",
                         "created_at": CREATED_AT, "user_role_count": 1,
                         "role_integration_count": 0, "built_in": false}]),
            ),
        ),
        example(
            "put",
            "/api/v1/user/roles/{role_id}",
            json!({"name": "Auditors (EU)"}),
            empty.clone(),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/associate-user",
            json!({"user_ids": [USER_ID]}),
            empty.clone(),
        ),
        // ---- native: devices ----
        example(
            "post",
            "/api/v1/device",
            json!({"name": "Boiler room sensor", "integration": "http-device",
                   "param_entities": {"identifier": "boiler-1"}}),
            native(json!({"device_id": DEVICE_ID})),
        ),
        example(
            "post",
            "/api/v1/device/search",
            json!({"name": "boiler", "page_number": 1, "page_size": 10}),
            page(
                json!([{"id": DEVICE_ID, "key": "http-device.device.boiler-1",
                         "name": "Boiler room sensor", "integration": "http-device",
                         "integration_name": "HTTP device", "identifier": "boiler-1",
                         "additional_data": {}, "created_at": CREATED_AT,
                         "updated_at": CREATED_AT, "deletable": true}]),
            ),
        ),
        example(
            "put",
            "/api/v1/device/{device_id}",
            json!({"name": "Boiler room sensor (north)"}),
            empty.clone(),
        ),
        // ---- native: entities ----
        example(
            "post",
            "/api/v1/entity/search",
            json!({"keyword": "temperature", "entity_type": ["PROPERTY"],
                   "page_number": 1, "page_size": 10}),
            page(json!([{"entity_id": ENTITY_ID,
                         "entity_key": "http-device.device.boiler-1.temperature",
                         "entity_name": "Temperature", "entity_type": "PROPERTY",
                         "entity_access_mod": "R", "entity_value_type": "DOUBLE",
                         "entity_value_attribute": {"unit": "°C"},
                         "integration_name": "HTTP device", "device_name": "Boiler room sensor",
                         "entity_parent_key": null, "entity_created_at": CREATED_AT}])),
        ),
        example(
            "post",
            "/api/v1/entity/history/search",
            json!({"entity_id": ENTITY_ID, "start_timestamp": CREATED_AT,
                   "end_timestamp": CREATED_AT + 86_400_000, "page_number": 1,
                   "page_size": 10}),
            page(json!([{"timestamp": CREATED_AT + 60_000, "value": 21.5,
                         "value_type": "DOUBLE"}])),
        ),
        example(
            "post",
            "/api/v1/entity/batch-get-status",
            json!({"entity_ids": [ENTITY_ID]}),
            native(
                json!({ENTITY_ID: {"value": 21.5, "updated_at": CREATED_AT + 60_000,
                                      "value_type": "DOUBLE"}}),
            ),
        ),
        example(
            "post",
            "/api/v1/entity/history/aggregate",
            json!({"entity_id": ENTITY_ID, "aggregate_type": "AVG",
                   "start_timestamp": CREATED_AT, "end_timestamp": 4_102_444_800_000_i64}),
            native(json!({"value": 21.5, "value_type": "DOUBLE"})),
        ),
        // ---- native: dashboards ----
        example(
            "post",
            "/api/v1/dashboard",
            json!({"name": "Boiler room"}),
            native(json!({"dashboard_id": DASHBOARD_ID})),
        ),
        example(
            "put",
            "/api/v1/dashboard/{dashboard_id}",
            json!({"name": "Boiler room", "widgets": [
                {"widget_id": "w1", "data": {"type": "line", "entity": ENTITY_ID}}
            ]}),
            empty.clone(),
        ),
        // ---- native: workflows ----
        example(
            "post",
            "/api/v1/workflow/flows/design",
            json!({"name": "Morning report", "remark": "Runs by hand", "enabled": true,
                   "design_data": design()}),
            native(json!({"id": FLOW_ID, "version": 1})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/search",
            json!({"name": "report", "status": "ENABLE", "page_number": 1, "page_size": 10}),
            page(
                json!([{"id": FLOW_ID, "name": "Morning report", "remark": "Runs by hand",
                         "enabled": true, "version": 1, "user_id": USER_ID,
                         "user_nickname": "Alice", "created_at": CREATED_AT,
                         "updated_at": CREATED_AT}]),
            ),
        ),
        example(
            "put",
            "/api/v1/workflow/flows/{flow_id}",
            json!({"name": "Morning report", "remark": "Runs at seven"}),
            empty,
        ),
        // ---- native: more of the same resources ----
        example(
            "post",
            "/api/v1/user/members/{user_id}/permission",
            json!({"resource_type": "DEVICE", "resource_id": DEVICE_ID}),
            native(json!({"has_permission": true})),
        ),
        example(
            "post",
            "/api/v1/user/menus",
            json!({"code": "reports.export", "name": "Export reports", "type": "FUNCTION",
                   "parent_id": null}),
            native(json!({"menu_id": MENU_ID})),
        ),
        example(
            "put",
            "/api/v1/user/menus/{menu_id}",
            json!({"name": "Export reports (CSV)", "type": "FUNCTION"}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/associate-menu",
            json!({"menu_ids": [MENU_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/disassociate-menu",
            json!({"menu_ids": [MENU_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/associate-resource",
            json!({"resources": [{"type": "DEVICE", "id": DEVICE_ID}]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/disassociate-resource",
            json!({"resources": [{"type": "DEVICE", "id": DEVICE_ID}]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/disassociate-user",
            json!({"user_ids": [USER_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/user/batch-delete",
            json!({"user_id_list": [USER_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/integration/search",
            json!({"device_addable": true}),
            native(json!([{"id": "http-device", "name": "HTTP device",
                           "description": "Devices that post JSON values over HTTP with a device token",
                           "deviceCount": 1, "entityCount": 3,
                           "add_device_service_key": "http-device.integration.add_device",
                           "delete_device_service_key": "http-device.integration.delete_device"}])),
        ),
        example(
            "post",
            "/api/v1/device/{device_id}/token",
            json!({}),
            native(
                json!({"device_id": DEVICE_ID, "device_key": "http-device.device.boiler-1",
                          "token": format!("wdt_{}", "0123456789abcdef".repeat(4))}),
            ),
        ),
        example(
            "post",
            "/api/v1/device/batch-delete",
            json!({"device_id_list": [DEVICE_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/entity",
            json!({"name": "Setpoint", "identifier": "setpoint", "type": "PROPERTY",
                   "access_mod": "RW", "value_type": "DOUBLE",
                   "value_attribute": {"min": 5, "max": 30}}),
            native(json!({"entity_id": ENTITY_ID, "entity_key": "system.integration.setpoint"})),
        ),
        example(
            "put",
            "/api/v1/entity/{entity_id}",
            json!({"name": "Heating setpoint", "value_attribute": {"min": 5, "max": 28}}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/entity/property/update",
            json!({"exchange": {"system.integration.setpoint": 21.5}}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/dashboard/{dashboard_id}/widget",
            json!({"data": {"type": "line", "entity": ENTITY_ID}}),
            native(json!({"widget_id": "7204718712345677833",
                          "data": {"type": "line", "entity": ENTITY_ID}})),
        ),
        example(
            "put",
            "/api/v1/dashboard/{dashboard_id}/widget/{widget_id}",
            json!({"data": {"type": "line", "entity": ENTITY_ID, "hours": 24}}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/design/validate",
            json!({"design_data": design()}),
            native(json!({"valid": true})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/design/test",
            json!({"design_data": design(), "input": {"room": "kitchen"}}),
            native({
                let trace = |node: &str| {
                    json!({"message_id": "7204718712345677834", "node_id": node,
                           "node_label": node.to_uppercase(), "status": "SUCCESS",
                           "start_time": CREATED_AT, "time_cost": 1, "error_message": "",
                           "input": "{\"room\":\"kitchen\"}",
                           "output": "{\"room\":\"kitchen\"}"})
                };
                json!({"status": "SUCCESS", "message": "", "start_time": CREATED_AT,
                       "time_cost": 2, "output": {"room": "kitchen"},
                       "trace_info": [trace("start"), trace("out")]})
            }),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/{flow_id}/logs/search",
            json!({"status": "SUCCESS", "page_number": 1, "page_size": 10}),
            page(
                json!([{"id": "7204718712345677832", "flow_id": FLOW_ID, "version": 1,
                         "status": "SUCCESS", "start_time": CREATED_AT, "time_cost": 3,
                         "message": ""}]),
            ),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/batch-delete",
            json!({"workflow_id_list": [FLOW_ID]}),
            native(json!({})),
        ),
        // ---- native: what a role holds and could hold ----
        example(
            "post",
            "/api/v1/user/roles/{role_id}/members",
            search.clone(),
            page(
                json!([{"role_id": ROLE_ID, "user_id": USER_ID, "user_email": "alice@example.com",
                         "user_nickname": "Alice"}]),
            ),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/resources",
            json!({"resource_type": "DEVICE"}),
            native(json!([{"resource_id": DEVICE_ID, "resource_type": "DEVICE"}])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/dashboards",
            list.clone(),
            page(json!([role_dashboard.clone()])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/undistributed-dashboards",
            list.clone(),
            page(json!([role_dashboard])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/devices",
            list.clone(),
            page(json!([role_device.clone()])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/undistributed-devices",
            list.clone(),
            page(json!([role_device])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/integrations",
            list.clone(),
            page(json!([role_integration.clone()])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/undistributed-integrations",
            list.clone(),
            page(json!([role_integration])),
        ),
        example(
            "post",
            "/api/v1/user/roles/{role_id}/undistributed-users",
            list,
            page(json!([{"user_id": USER_ID, "email": "alice@example.com", "nickname": "Alice"}])),
        ),
        // ---- native: entity forms and deletion, flow import and node test ----
        example(
            "post",
            "/api/v1/entity/form",
            json!({"entity_id_list": [ENTITY_ID]}),
            native(
                json!([{"entity_id": ENTITY_ID, "entity_key": "system.integration.setpoint",
                           "entity_name": "Setpoint", "entity_type": "PROPERTY",
                           "entity_access_mod": "RW", "entity_value_type": "DOUBLE",
                           "fields": [{"entity_id": ENTITY_ID,
                                       "key": "system.integration.setpoint",
                                       "name": "Setpoint", "value_type": "DOUBLE",
                                       "access_mod": "RW", "required": false,
                                       "value_attribute": {"min": 5, "max": 30}}]}]),
            ),
        ),
        example(
            "post",
            "/api/v1/entity/delete",
            json!({"entity_ids": [ENTITY_ID]}),
            native(json!({})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/import",
            json!({"name": "Morning report (copy)", "remark": "Runs by hand",
                   "design_data": design()}),
            native(json!({"id": FLOW_ID, "version": 1})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/node/test",
            json!({"node": {"id": "start", "componentName": "trigger",
                            "data": {"nodeName": "START", "parameters": {}}},
                   "input": {"room": "kitchen"}}),
            native(
                json!({"status": "SUCCESS", "message": "", "start_time": CREATED_AT,
                          "time_cost": 1, "output": {"room": "kitchen"},
                          "trace_info": [{"message_id": "7204718712345677834",
                                          "node_id": "start", "node_label": "START",
                                          "status": "SUCCESS", "start_time": CREATED_AT,
                                          "time_cost": 1, "error_message": "",
                                          "input": "{\"room\":\"kitchen\"}",
                                          "output": "{\"room\":\"kitchen\"}"}]}),
            ),
        ),
        // ---- Wyn: roles ----
        example(
            "post",
            "/api/v2/identity/roles",
            json!({"name": "Reviewers", "permissions": ["view-dashboard", "view-device"],
                   "allowEditPermissions": true,
                   "tenantId": "default"}),
            wyn_role(),
        ),
        example(
            "post",
            "/api/v2/identity/roles/import",
            json!({"roles": [{"name": "Reviewers", "permissions": ["view-dashboard"],
                              "tenantId": "default"}]}),
            json!([wyn_role()]),
        ),
        example(
            "post",
            "/api/v2/identity/roles/{id}/users",
            json!({"userIds": [USER_ID]}),
            json!([wyn_user()]),
        ),
        example(
            "put",
            "/api/v2/identity/roles/{id}/users",
            json!({"userIds": [USER_ID]}),
            json!([wyn_user()]),
        ),
        example(
            "post",
            "/api/v2/identity/roles/{id}/permissions",
            json!({"permissions": ["view-dashboard", "view-device"]}),
            json!([{"name": "view-dashboard", "description": "Open dashboards and read their widgets",
                    "module": "Dashboard", "category": "view", "enabled": true, "order": 1,
                    "isCustomPermission": false}]),
        ),
        // ---- ThingsKit: roles ----
        example(
            "post",
            "/api/yt/role/save_with_menu",
            json!({"id": "", "name": "operators", "remark": "Run the plant",
                   "roleType": "TENANT_ADMIN", "status": 1, "menu": [MENU_ID]}),
            thingskit_role(true),
        ),
        example("delete", "/api/yt/role", json!([ROLE_ID]), json!(true)),
        example(
            "put",
            "/api/yt/role/update_status/{roleId}/{status}",
            json!({}),
            thingskit_role(false),
        ),
        // ---- Smartbi: the caller, users and roles ----
        example(
            "post",
            "/smartbi/vision/api/system/whoami",
            // docs/smartbi.md's worked example (long expired: send a fresh one).
            json!({"smartbiToken": "oKGio6SlpqeoqaqrnToIRCiuccsDCPfxPUv36EeeayWkh3JcrD4KpArYEHO8FyqajRhxXDP1Z61JH/uYKmsqLUyzdRNjcik73ATg3tCevxQS0YGOlYyLOrXsqN+rat7IsePkByL8HIMV8k/VWDD+ufxP+bQ="}),
            smartbi(json!({"username": "alice@example.com", "tenant": "default"})),
        ),
        example(
            "post",
            "/smartbi/vision/api/user/create",
            json!({"paramsInfo": {"name": "alice", "alias": "Alice", "desc": "Analyst",
                                  "password": "correct-horse-9", "enabled": true}}),
            smartbi(json!(USER_ID)),
        ),
        example(
            "post",
            "/smartbi/vision/api/user/get",
            json!({"paramsInfo": {"id": "alice"}}),
            smartbi(json!({"id": USER_ID, "name": "alice", "alias": "Alice",
                           "desc": "Analyst", "enabled": true, "groupId": null,
                           "groupName": null})),
        ),
        example(
            "post",
            "/smartbi/vision/api/role/create",
            json!({"paramsInfo": {"name": "Analysts", "alias": "Analysts",
                                  "desc": "Read the sales reports"}}),
            smartbi(json!(ROLE_ID)),
        ),
        example(
            "post",
            "/smartbi/vision/api/role/get",
            json!({"paramsInfo": {"name": "Analysts"}}),
            smartbi(
                json!({"id": ROLE_ID, "name": "Analysts", "alias": "Analysts",
                           "desc": "Read the sales reports", "groupId": null,
                           "groupName": null}),
            ),
        ),
        // ---- Smartbi: groups, and who is in them and holds what ----
        smartbi_example(
            "group/create",
            json!({"id": "sales", "name": "Sales", "alias": "Sales team",
                   "desc": "Everyone who sells", "code": "S01"}),
            json!("sales"),
        ),
        smartbi_example(
            "group/update",
            json!({"id": "sales", "alias": "Sales (EU)", "desc": "Everyone who sells in the EU"}),
            json!("sales"),
        ),
        smartbi_example(
            "group/get",
            json!({"id": "sales"}),
            json!({"id": "sales", "name": "Sales", "alias": "Sales (EU)",
                   "desc": "Everyone who sells in the EU", "code": "S01", "parentId": null}),
        ),
        smartbi_example("group/delete", json!({"id": "sales"}), json!("sales")),
        smartbi_example(
            "user/update",
            json!({"id": "alice", "alias": "Alice B.", "desc": "Lead analyst", "enabled": true}),
            json!(USER_ID),
        ),
        smartbi_example("user/delete", json!({"id": "alice"}), json!(USER_ID)),
        smartbi_example(
            "role/update",
            json!({"name": "Analysts", "alias": "Sales analysts",
                   "desc": "Read the sales reports"}),
            json!(ROLE_ID),
        ),
        smartbi_example("role/delete", json!({"name": "Analysts"}), json!(ROLE_ID)),
        smartbi_example(
            "usergroup/update",
            json!({"userid": "alice", "groupList": ["sales"], "defaultGroupId": "sales",
                   "override": false}),
            json!([]),
        ),
        smartbi_example(
            "usergroup/get",
            json!({"userid": "alice"}),
            json!([{"id": "sales", "name": "Sales", "alias": "Sales (EU)",
                    "desc": "Everyone who sells in the EU", "code": "S01"}]),
        ),
        smartbi_example(
            "usergroup/delete",
            json!({"userid": "alice", "groupList": ["sales"]}),
            Value::Null,
        ),
        smartbi_example(
            "rolegroup/update",
            json!({"rolename": "Analysts", "groupList": ["sales"], "override": false}),
            json!([]),
        ),
        smartbi_example(
            "rolegroup/get",
            json!({"rolename": "Analysts"}),
            json!([{"id": "sales", "name": "Sales", "alias": "Sales (EU)",
                    "desc": "Everyone who sells in the EU"}]),
        ),
        smartbi_example(
            "rolegroup/delete",
            json!({"rolename": "Analysts", "groupList": ["sales"]}),
            Value::Null,
        ),
        smartbi_example(
            "userrole/update",
            json!({"userid": "alice", "roleList": ["Analysts"], "override": false}),
            json!([]),
        ),
        smartbi_example(
            "userrole/get",
            json!({"userid": "alice"}),
            json!([{"id": ROLE_ID, "name": "Analysts", "alias": "Sales analysts",
                    "desc": "Read the sales reports"}]),
        ),
        smartbi_example(
            "userrole/delete",
            json!({"userid": "alice", "roleList": ["Analysts"]}),
            Value::Null,
        ),
        // ---- Smartbi: the catalog (a SQLite datasource, its schema and tables, folders) ----
        smartbi_example(
            "datasource/create",
            datasource.clone(),
            json!(DATASOURCE_ID),
        ),
        smartbi_example("datasource/test", datasource, json!(true)),
        smartbi_example(
            "datasource/get",
            json!({"id": DATASOURCE_ID}),
            json!({"id": DATASOURCE_ID, "name": "shop", "alias": "The shop", "desc": "",
                   "connectUserName": "", "connectPassword": "******", "maxConnection": 20,
                   "driverType": "SQLITE", "driverClassName": "org.sqlite.JDBC",
                   "driverCatalog": null, "url": SQLITE_URL, "transactionIsolation": -1}),
        ),
        smartbi_example(
            "datasource/update",
            json!({"id": DATASOURCE_ID, "alias": "The shop (EU)"}),
            json!(DATASOURCE_ID),
        ),
        smartbi_example(
            "schema/create",
            json!({"dsId": DATASOURCE_ID, "name": "main"}),
            json!(SCHEMA_ID),
        ),
        smartbi_example(
            "schema/sync",
            json!({"id": SCHEMA_ID}),
            json!({"added": ["refunds"], "removed": [], "changed": [], "skipped": []}),
        ),
        smartbi_example(
            "table/create",
            json!({"dsId": DATASOURCE_ID, "schemaName": "main", "tableList": ["orders"],
                   "override": true}),
            json!({"added": [], "removed": [], "changed": ["orders"], "skipped": []}),
        ),
        smartbi_example(
            "table/get",
            json!({"id": TABLE_ID}),
            json!({"id": TABLE_ID, "name": "orders", "alias": "orders", "desc": "",
            "type": "TABLE", "tableType": "TABLE", "syncedAt": CREATED_AT,
            "columns": [
                {"name": "id", "nativeType": "INTEGER", "fieldType": "INTEGER",
                 "nullable": false},
                {"name": "total", "nativeType": "REAL", "fieldType": "DOUBLE",
                 "nullable": true},
            ]}),
        ),
        smartbi_example(
            "table/update",
            json!({"id": TABLE_ID, "alias": "Orders", "desc": "One row an order"}),
            json!(TABLE_ID),
        ),
        smartbi_example(
            "folder/create",
            json!({"parentId": "PUBLIC", "name": "reports", "alias": "Reports",
                   "desc": "Monthly reports"}),
            json!(FOLDER_ID),
        ),
        smartbi_example(
            "folder/update",
            json!({"id": FOLDER_ID, "alias": "Reports (monthly)"}),
            json!(FOLDER_ID),
        ),
        smartbi_example(
            "resource/getChildList",
            json!({"id": "DATA_SOURCES", "includeDescendants": true, "needPath": true}),
            json!([
                {"id": DATASOURCE_ID, "name": "shop", "alias": "The shop", "type": "DATASOURCE",
                 "path": "/DATA_SOURCES/shop"},
                {"id": SCHEMA_ID, "name": "main", "alias": "main", "type": "SCHEMA",
                 "path": "/DATA_SOURCES/shop/main"},
                {"id": TABLE_ID, "name": "orders", "alias": "orders", "type": "TABLE",
                 "path": "/DATA_SOURCES/shop/main/orders"},
            ]),
        ),
        smartbi_example(
            "resource/get",
            json!({"id": SCHEMA_ID}),
            json!({"id": SCHEMA_ID, "name": "main", "alias": "main", "desc": "",
                   "type": "SCHEMA", "path": "/DATA_SOURCES/shop/main", "creator": "Alice",
                   "creatorId": USER_ID, "createtime": "2026-01-01 00:00:00",
                   "createdAt": CREATED_AT, "updatedAt": CREATED_AT}),
        ),
        smartbi_example(
            "perm/get",
            json!({"id": FOLDER_ID}),
            json!([{"user": [USER_ID], "group": [], "role": [ROLE_ID], "auth": "read",
                    "scope": "FOLDER_FILE"}]),
        ),
        smartbi_example(
            "resource/delete",
            json!({"id": [FOLDER_ID]}),
            json!([FOLDER_ID]),
        ),
        smartbi_example(
            "schema/update",
            json!({"id": SCHEMA_ID, "name": "main"}),
            json!(SCHEMA_ID),
        ),
        smartbi_example(
            "perm/assignee/resource",
            json!({"id": FOLDER_ID, "override": false,
                   "permAuth": [{"user": [USER_ID], "role": [ROLE_ID], "auth": "read",
                                 "scope": "FOLDER_FILE"}]}),
            Value::Null,
        ),
        // ---- native: a device's report, a flow run by hand ----
        example(
            "post",
            "/api/v1/device/report",
            json!({"temp": 21.5, "door": true, "mode": "eco"}),
            native(json!({"stored": 3})),
        ),
        example(
            "post",
            "/api/v1/workflow/flows/{flow_id}/trigger",
            json!({"input": {"room": "kitchen"}}),
            native({
                let trace = |node: &str| {
                    json!({"message_id": "7204718712345677834", "node_id": node,
                           "node_label": node.to_uppercase(), "status": "SUCCESS",
                           "start_time": CREATED_AT, "time_cost": 1, "error_message": "",
                           "input": "{\"room\":\"kitchen\"}",
                           "output": "{\"room\":\"kitchen\"}"})
                };
                json!({"status": "SUCCESS", "message": "", "start_time": CREATED_AT,
                       "time_cost": 2, "output": {"room": "kitchen"},
                       "trace_info": [trace("start"), trace("out")]})
            }),
        ),
    ]
}

/// A JSON example as a form body says it: an object value as JSON text (Smartbi's
/// `paramsInfo`); the rest as it is, for the form's encoding to write (an array as repeated
/// fields).
fn as_form(example: &Value) -> Value {
    match example {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Object(_) => Value::String(v.to_string()),
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn operation<'a>(openapi: &'a mut OpenApi, method: &str, path: &str) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(path)?;
    let op = match method {
        "get" => &mut item.get,
        "post" => &mut item.post,
        "put" => &mut item.put,
        "delete" => &mut item.delete,
        "patch" => &mut item.patch,
        _ => return None,
    };
    op.as_mut()
}

/// Sets the examples of [`all`] on their operations.
pub(super) fn add(openapi: &mut OpenApi) {
    for e in all() {
        let Some(op) = operation(openapi, e.method, &e.path) else {
            continue;
        };
        if let Some(body) = op.request_body.as_mut() {
            for (media, content) in &mut body.content {
                content.example = Some(if media == "application/x-www-form-urlencoded" {
                    as_form(&e.request)
                } else {
                    e.request.clone()
                });
            }
        }
        let success = op
            .responses
            .responses
            .iter_mut()
            .find(|(status, _)| status.starts_with('2'));
        if let Some((_, RefOr::T(response))) = success
            && let Some(content) = response.content.get_mut("application/json")
        {
            content.example = Some(e.response);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_example_says_objects_as_json_text() {
        assert_eq!(
            as_form(&json!({"paramsInfo": {"name": "a"}, "smartbiToken": "t", "n": 1, "m": ["1"]})),
            json!({"paramsInfo": "{\"name\":\"a\"}", "smartbiToken": "t", "n": 1, "m": ["1"]})
        );
    }

    #[test]
    fn every_example_names_one_operation_once() {
        let mut seen = std::collections::BTreeSet::new();
        for e in all() {
            assert!(
                seen.insert((e.method, e.path.clone())),
                "{} {}",
                e.method,
                e.path
            );
        }
    }
}
