//! The one schema of both backends, in portable types only (BigInt, Text, Bool).

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        initialized -> Bool,
        created_at -> BigInt,
        parent_id -> Nullable<Text>,
        path -> Text,
        sort_order -> BigInt,
        enabled -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        tenant_id -> Text,
        username -> Text,
        nickname -> Text,
        nickname_folded -> Text,
        password_hash -> Text,
        session_epoch -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        email -> Nullable<Text>,
        description -> Text,
        status -> Text,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        tenant_id -> Text,
        name -> Text,
        name_folded -> Text,
        description -> Text,
        built_in -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        alias -> Text,
        allow_edit_permissions -> Bool,
        enabled -> Bool,
        role_type -> Text,
        organisation_id -> Nullable<Text>,
        creator_id -> Nullable<BigInt>,
        group_id -> Nullable<Text>,
    }
}

diesel::table! {
    role_permissions (role_id, name) {
        role_id -> BigInt,
        tenant_id -> Text,
        name -> Text,
    }
}

diesel::table! {
    user_groups (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        name -> Text,
        alias -> Text,
        description -> Text,
        code -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        creator_id -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    group_users (tenant_id, group_id, user_id) {
        tenant_id -> Text,
        group_id -> Text,
        user_id -> BigInt,
        is_default -> Bool,
    }
}

diesel::table! {
    group_roles (tenant_id, group_id, role_id) {
        tenant_id -> Text,
        group_id -> Text,
        role_id -> BigInt,
    }
}

diesel::table! {
    menus (id) {
        id -> BigInt,
        tenant_id -> Text,
        code -> Text,
        name -> Text,
        menu_type -> Text,
        parent_id -> Nullable<BigInt>,
        built_in -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    role_users (role_id, user_id) {
        role_id -> BigInt,
        user_id -> BigInt,
        tenant_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    role_menus (role_id, menu_id) {
        role_id -> BigInt,
        menu_id -> BigInt,
        tenant_id -> Text,
    }
}

diesel::table! {
    role_resources (role_id, resource_type, resource_id) {
        role_id -> BigInt,
        resource_type -> Text,
        resource_id -> Text,
        tenant_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        tenant_id -> Text,
        user_id -> BigInt,
        expires_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::joinable!(role_users -> roles (role_id));
diesel::joinable!(role_users -> users (user_id));
diesel::joinable!(role_menus -> roles (role_id));
diesel::joinable!(role_menus -> menus (menu_id));
diesel::joinable!(role_resources -> roles (role_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(group_users -> users (user_id));
diesel::joinable!(group_roles -> roles (role_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    counters,
    tenants,
    users,
    roles,
    menus,
    role_users,
    role_menus,
    role_resources,
    refresh_tokens,
    role_permissions,
    user_groups,
    group_users,
    group_roles,
);

diesel::table! {
    devices (id) {
        id -> BigInt,
        tenant_id -> Text,
        integration -> Text,
        identifier -> Text,
        name -> Text,
        name_folded -> Text,
        additional -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    entities (id) {
        id -> BigInt,
        tenant_id -> Text,
        entity_key -> Text,
        key_folded -> Text,
        integration -> Text,
        device_id -> Nullable<BigInt>,
        parent_key -> Nullable<Text>,
        identifier -> Text,
        name -> Text,
        name_folded -> Text,
        entity_type -> Text,
        access_mod -> Text,
        value_type -> Text,
        value_attribute -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    entity_latest (entity_id) {
        entity_id -> BigInt,
        tenant_id -> Text,
        ts -> BigInt,
        long_value -> Nullable<BigInt>,
        double_value -> Nullable<Double>,
        bool_value -> Nullable<Bool>,
        text_value -> Nullable<Text>,
        binary_value -> Nullable<Binary>,
    }
}

diesel::table! {
    entity_history (entity_id, ts) {
        entity_id -> BigInt,
        ts -> BigInt,
        tenant_id -> Text,
        long_value -> Nullable<BigInt>,
        double_value -> Nullable<Double>,
        bool_value -> Nullable<Bool>,
        text_value -> Nullable<Text>,
        binary_value -> Nullable<Binary>,
    }
}

diesel::table! {
    entity_rollups (entity_id, span, bucket) {
        entity_id -> BigInt,
        span -> BigInt,
        bucket -> BigInt,
        tenant_id -> Text,
        value_count -> BigInt,
        value_sum -> Double,
        min_value -> Double,
        max_value -> Double,
        first_ts -> BigInt,
        first_value -> Double,
        last_ts -> BigInt,
        last_value -> Double,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    devices,
    entities,
    entity_latest,
    entity_history,
    entity_rollups
);

diesel::table! {
    dashboards (id) {
        id -> BigInt,
        tenant_id -> Text,
        user_id -> Nullable<BigInt>,
        name -> Text,
        widgets -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    device_tokens (token_hash) {
        token_hash -> Text,
        tenant_id -> Text,
        device_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::joinable!(device_tokens -> devices (device_id));
diesel::allow_tables_to_appear_in_same_query!(devices, device_tokens);

diesel::table! {
    flows (id) {
        id -> BigInt,
        tenant_id -> Text,
        name -> Text,
        name_folded -> Text,
        remark -> Text,
        enabled -> Bool,
        version -> BigInt,
        user_id -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        http_secret -> Nullable<Text>,
    }
}

diesel::table! {
    flow_versions (flow_id, version) {
        flow_id -> BigInt,
        version -> BigInt,
        design_data -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(flow_versions -> flows (flow_id));
diesel::allow_tables_to_appear_in_same_query!(flows, flow_versions);

diesel::table! {
    flow_logs (id) {
        id -> BigInt,
        tenant_id -> Text,
        flow_id -> BigInt,
        version -> BigInt,
        status -> Text,
        start_time -> BigInt,
        time_cost -> BigInt,
        message -> Text,
        trace_info -> Text,
    }
}

diesel::joinable!(flow_logs -> flows (flow_id));
diesel::allow_tables_to_appear_in_same_query!(flows, flow_logs);

diesel::table! {
    timer_leases (flow_id) {
        flow_id -> BigInt,
        node -> Text,
        expires_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(flows, timer_leases);

diesel::table! {
    bi_resources (id) {
        id -> BigInt,
        tenant_id -> Text,
        parent_id -> Nullable<BigInt>,
        root_key -> Nullable<Text>,
        resource_type -> Text,
        name -> Text,
        alias -> Text,
        description -> Text,
        creator_id -> Nullable<BigInt>,
        creator_name -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    bi_datasources (resource_id) {
        resource_id -> BigInt,
        tenant_id -> Text,
        driver_type -> Text,
        driver_class_name -> Text,
        driver_catalog -> Nullable<Text>,
        url -> Text,
        user_name -> Text,
        password_sealed -> Nullable<Text>,
        max_connection -> BigInt,
        transaction_isolation -> BigInt,
    }
}

diesel::table! {
    bi_schemas (resource_id) {
        resource_id -> BigInt,
        tenant_id -> Text,
        datasource_id -> BigInt,
        schema_name -> Text,
        catalog -> Nullable<Text>,
        sync_all -> Bool,
        synced_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    bi_tables (resource_id) {
        resource_id -> BigInt,
        tenant_id -> Text,
        schema_id -> BigInt,
        table_kind -> Text,
        columns_json -> Text,
        synced_at -> BigInt,
    }
}

diesel::table! {
    bi_models (resource_id) {
        resource_id -> BigInt,
        tenant_id -> Text,
        store_type -> Text,
        extract_type -> Text,
        definition_json -> Text,
    }
}

diesel::table! {
    bi_row_perms (table_id, item_name) {
        table_id -> BigInt,
        item_name -> Text,
        tenant_id -> Text,
        position -> BigInt,
        item_json -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    bi_grants (resource_id, assignee_kind, assignee_id) {
        resource_id -> BigInt,
        assignee_kind -> Text,
        assignee_id -> Text,
        tenant_id -> Text,
        auth -> Text,
        scope -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(bi_datasources -> bi_resources (resource_id));
diesel::joinable!(bi_schemas -> bi_resources (resource_id));
diesel::joinable!(bi_tables -> bi_resources (resource_id));
diesel::joinable!(bi_models -> bi_resources (resource_id));
diesel::allow_tables_to_appear_in_same_query!(
    bi_resources,
    bi_datasources,
    bi_schemas,
    bi_tables,
    bi_models,
    bi_row_perms,
    bi_grants
);

diesel::table! {
    sso_providers (tenant_id) {
        tenant_id -> Text,
        issuer -> Text,
        client_id -> Text,
        client_secret -> Text,
        scopes -> Text,
        groups_claim -> Nullable<Text>,
        default_role_id -> Nullable<BigInt>,
        enabled -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sso_attempts (state_hash) {
        state_hash -> Text,
        binding_hash -> Text,
        tenant_id -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        redirect_uri -> Text,
        return_to -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    external_identities (tenant_id, issuer, subject) {
        tenant_id -> Text,
        issuer -> Text,
        subject -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        window_start -> BigInt,
        last_failure -> BigInt,
        locked_until -> BigInt,
        locks -> BigInt,
        last_event -> BigInt,
    }
}
