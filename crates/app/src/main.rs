//! `weir`: run the server, or manage tenants and users, or check a configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use weir::{Settings, Weir};

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "Identity, IoT and BI over the REST APIs of four products"
)]
struct Cli {
    /// A TOML configuration file (see weir.example.toml).
    #[arg(long, env = "WEIR_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Manage a tenant's users (as its super admin would).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Print the effective configuration (file, then WEIR_* variables) with secrets masked,
    /// and exit non-zero when the server would refuse to start with it.
    CheckConfig,
    /// Print a smartbiToken for the Smartbi API (valid for smartbi.token_window_secs).
    Token(TokenArgs),
}

#[derive(Subcommand)]
enum UserAction {
    /// Set a user's password; every session of theirs ends. The new password is read from
    /// WEIR_NEW_PASSWORD, or else from the first line of standard input (never an argument,
    /// which other users of the machine could see).
    ResetPassword(UserArgs),
    /// Disable a user: they can no longer sign in and every token of theirs stops working.
    Disable(UserArgs),
    /// Enable a disabled user again.
    Enable(UserArgs),
}

#[derive(clap::Args)]
struct UserArgs {
    /// The user: login name, email or id.
    user: String,
    /// The tenant the user belongs to.
    #[arg(long, default_value = "default")]
    tenant: String,
}

#[derive(clap::Args)]
struct TokenArgs {
    /// The user's login name (or email).
    #[arg(long)]
    username: String,
    /// The user's password, checked by the server when given.
    #[arg(long, env = "WEIR_TOKEN_PASSWORD")]
    password: Option<String>,
    /// The tenant (`extend.tenant`); default `default`.
    #[arg(long)]
    tenant: Option<String>,
    /// The key: 64 hex characters (default: smartbi.token_key of the configuration).
    #[arg(long, env = "WEIR_TOKEN_KEY")]
    key: Option<String>,
}

#[derive(Subcommand)]
enum TenantAction {
    /// Add a tenant; its id is what clients send in the TENANT-ID header.
    Add {
        /// The tenant id: a-z, 0-9, '-' and '_'.
        id: String,
        /// A display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// The organisation this one sits under (organisations form a tree; each stays
        /// isolated from the others).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List tenants.
    List,
    /// Disable a tenant: its users can no longer sign in and their tokens stop working.
    Disable { id: String },
    /// Enable a disabled tenant again.
    Enable { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The configuration names the log's format, so it is read before anything is logged.
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("weir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let telemetry = match weir::telemetry::init(&settings.log, &settings.tracing) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("weir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = run(cli, settings);
    // The server has stopped and its runtime is gone: the last spans go out now.
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weir: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let command = cli.command.unwrap_or(Command::Serve);
    // These need no database.
    match &command {
        Command::Token(args) => {
            println!("{}", smartbi_token(&settings, args)?);
            return Ok(());
        }
        Command::CheckConfig => {
            print!("{}", settings.masked_toml()?);
            weir::check_settings(&settings)?;
            eprintln!("weir: the configuration is valid");
            return Ok(());
        }
        _ => {}
    }
    let weir = Weir::assemble(settings)?;
    match command {
        Command::Serve => serve(weir),
        Command::Token(_) | Command::CheckConfig => Ok(()),
        Command::User { action } => user_action(&weir, action),
        Command::Tenant {
            action: TenantAction::Add { id, name, parent },
        } => {
            let tenant = weir.add_tenant(&id, name.as_deref(), parent.as_deref())?;
            println!("added tenant {} ({})", tenant.id, tenant.name);
            Ok(())
        }
        Command::Tenant {
            action: TenantAction::Disable { id },
        } => {
            let t = weir.identity.set_tenant_enabled(&id, false)?;
            println!("disabled tenant {}", t.id);
            Ok(())
        }
        Command::Tenant {
            action: TenantAction::Enable { id },
        } => {
            let t = weir.identity.set_tenant_enabled(&id, true)?;
            println!("enabled tenant {}", t.id);
            Ok(())
        }
        Command::Tenant {
            action: TenantAction::List,
        } => {
            for t in weir.identity.tenants()? {
                let state = if t.enabled { "enabled" } else { "disabled" };
                println!("{}\t{}\t{}\t{state}", t.id, t.name, t.path);
            }
            Ok(())
        }
    }
}

/// `weir user ...`: the account changed as the tenant's super admin would change it.
fn user_action(weir: &Weir, action: UserAction) -> Result<(), Box<dyn std::error::Error>> {
    use weir_identity::service::AccountUpdate;
    let (args, update, done) = match action {
        UserAction::ResetPassword(args) => {
            let password = new_password()?;
            let update = AccountUpdate {
                password: Some(password),
                ..AccountUpdate::default()
            };
            (args, update, "password reset; every session ended")
        }
        UserAction::Disable(args) => {
            let update = AccountUpdate {
                enabled: Some(false),
                ..AccountUpdate::default()
            };
            (args, update, "disabled")
        }
        UserAction::Enable(args) => {
            let update = AccountUpdate {
                enabled: Some(true),
                ..AccountUpdate::default()
            };
            (args, update, "enabled")
        }
    };
    let account = weir
        .identity
        .operator_update_account(&args.tenant, &args.user, update)?;
    println!("user {} of tenant {}: {done}", account.user.id, args.tenant);
    Ok(())
}

/// The new password of `weir user reset-password`: WEIR_NEW_PASSWORD, or standard input's
/// first line.
fn new_password() -> Result<String, Box<dyn std::error::Error>> {
    if let Ok(p) = std::env::var("WEIR_NEW_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return Err("no new password: set WEIR_NEW_PASSWORD or give it on standard input".into());
    }
    Ok(line.to_owned())
}

/// `weir token`: a smartbiToken made now (docs/smartbi.md).
fn smartbi_token(settings: &Settings, args: &TokenArgs) -> Result<String, String> {
    use weir_http::smartbi::token::{TokenClaims, TokenKey, encrypt};
    let key = match args.key.as_deref() {
        Some(raw) => TokenKey::parse(raw).map_err(|e| format!("--key {e}"))?,
        None => settings.smartbi.to_http()?.token_key.ok_or(
            "smartbi.token_key is not configured: set it in the configuration or pass --key",
        )?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let mut claims = TokenClaims::new(now.as_millis() as i64, args.username.trim());
    if let Some(password) = &args.password {
        claims = claims.with_password(password.clone());
    }
    if let Some(tenant) = &args.tenant {
        claims = claims.with_tenant(tenant.clone());
    }
    Ok(encrypt(&key, &claims))
}

fn serve(weir: Weir) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        weir.start_cluster().await?;
        let workflows = weir.start_workflows().await?;
        weir.start_retention();
        let (server, addr) = weir.serve()?;
        tracing::info!(%addr, backend = ?weir.database.backend(), "weir is listening");
        let mqtt = weir.start_mqtt()?;
        weir.follow_peers(&mqtt).await?;
        let demo = weir.start_demo()?;
        let served = server.await;
        // Hands this process's timers to the others now, not when their leases run out.
        workflows.stop_timers().await;
        demo.stop().await;
        mqtt.stop().await;
        weir.stop_cluster().await;
        served?;
        Ok(())
    })
}
