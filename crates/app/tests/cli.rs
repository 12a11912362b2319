//! The operator commands of the real `weir` binary: `check-config`, `user reset-password`,
//! `user disable` and `user enable`, on a fresh database (SQLite, or PostgreSQL with
//! `WEIR_TEST_DATABASE_URL`).

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use weir::{Settings, Weir};
use weir_identity::AuthError;
use weir_identity::service::{ClientCredentials, RegisterInput};
use weir_storage::testing::TestDatabase;

const PASSWORD: &str = "Correct-horse-9";
const NEW_PASSWORD: &str = "Battery-staple-7";

/// `weir` with `args`, on `database_url` (when given), no configuration file, and `stdin`.
fn weir(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.args(args)
        .env_remove("WEIR_CONFIG")
        .env_remove("WEIR_NEW_PASSWORD")
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("weir starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A database holding one user of the default tenant, `ops@weir.test`, and Weir over it.
fn database_with_a_user() -> (TestDatabase, Weir) {
    let database = TestDatabase::new().unwrap();
    let mut settings = Settings::default();
    settings.database.url = database.url.clone();
    let weir = Weir::assemble(settings).unwrap();
    weir.identity
        .register(
            "default",
            RegisterInput {
                email: "ops@weir.test".into(),
                nickname: "Ops".into(),
                password: PASSWORD.into(),
            },
        )
        .unwrap();
    (database, weir)
}

fn sign_in(weir: &Weir, password: &str) -> Result<(), AuthError> {
    weir.identity
        .token_by_password(
            "default",
            &ClientCredentials::default(),
            "ops@weir.test",
            password,
            None,
        )
        .map(|_| ())
}

#[test]
fn check_config_prints_the_settings_with_every_secret_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("weir.toml");
    std::fs::write(
        &file,
        r#"
[database]
url = "postgres://weir:db-secret-1@127.0.0.1:5432/weir"
[auth]
signing_key = "signing-secret-0123456789abcdef0123456789"
[mqtt]
password = "mqtt-secret-2"
"#,
    )
    .unwrap();
    let out = weir(
        &["--config", file.to_str().unwrap(), "check-config"],
        &[("WEIR_AUTH__CLIENT_SECRET", "client-secret-3")],
        "",
    );
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for secret in [
        "db-secret-1",
        "signing-secret",
        "mqtt-secret-2",
        "client-secret-3",
    ] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }
    assert!(
        printed.contains("postgres://weir:********@127.0.0.1:5432/weir"),
        "{printed}"
    );
    assert!(printed.contains("signing_key = \"********\""), "{printed}");
    assert!(
        printed.contains("client_secret = \"********\""),
        "{printed}"
    );
    // What is not secret is shown as in effect.
    assert!(printed.contains("[http]"), "{printed}");
    assert!(text(&out.stderr).contains("the configuration is valid"));
}

#[test]
fn check_config_exits_non_zero_naming_what_is_wrong() {
    let out = weir(
        &["check-config"],
        &[("WEIR_AUTH__SIGNING_KEY", "short")],
        "",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("signing"), "{stderr}");
    assert!(!text(&out.stdout).contains("short"));

    let out = weir(&["check-config"], &[("WEIR_BI__SECRET_KEY", "zz")], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("bi.secret_key"));
}

#[test]
fn reset_password_takes_the_new_password_from_stdin_and_ends_every_session() {
    let (database, weir_app) = database_with_a_user();
    let url = database.url.as_str();
    let before = weir_app
        .identity
        .token_by_password(
            "default",
            &ClientCredentials::default(),
            "ops@weir.test",
            PASSWORD,
            None,
        )
        .unwrap();

    let out = weir(
        &["user", "reset-password", "ops@weir.test"],
        &[("WEIR_DATABASE_URL", url)],
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("password reset"));
    assert!(!text(&out.stdout).contains(NEW_PASSWORD));

    assert!(matches!(
        sign_in(&weir_app, PASSWORD),
        Err(AuthError::InvalidCredentials)
    ));
    sign_in(&weir_app, NEW_PASSWORD).unwrap();
    assert!(
        weir_app
            .identity
            .authenticate(&before.access_token)
            .is_err(),
        "the old session ended"
    );

    // From WEIR_NEW_PASSWORD too; a weak one is refused and changes nothing.
    let out = weir(
        &["user", "reset-password", "ops@weir.test"],
        &[("WEIR_DATABASE_URL", url), ("WEIR_NEW_PASSWORD", "x")],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password"));
    sign_in(&weir_app, NEW_PASSWORD).unwrap();
}

#[test]
fn disable_and_enable_a_user_by_login_name() {
    let (database, weir_app) = database_with_a_user();
    let url = database.url.as_str();
    let out = weir(
        &["user", "disable", "ops@weir.test", "--tenant", "default"],
        &[("WEIR_DATABASE_URL", url)],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(matches!(
        sign_in(&weir_app, PASSWORD),
        Err(AuthError::Disabled)
    ));

    let out = weir(
        &["user", "enable", "ops@weir.test"],
        &[("WEIR_DATABASE_URL", url)],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    sign_in(&weir_app, PASSWORD).unwrap();

    // An unknown user or tenant is named and nothing changes.
    let out = weir(
        &["user", "disable", "nobody@weir.test"],
        &[("WEIR_DATABASE_URL", url)],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("nobody@weir.test"));
    let out = weir(
        &["user", "disable", "ops@weir.test", "--tenant", "elsewhere"],
        &[("WEIR_DATABASE_URL", url)],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("elsewhere"));
    sign_in(&weir_app, PASSWORD).unwrap();
}
