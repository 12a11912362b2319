//! `weir`: run the server, or manage tenants.

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
    /// Print a smartbiToken for the Smartbi API (valid for smartbi.token_window_secs).
    Token(TokenArgs),
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
    tracing_subscriber::fmt()
        .with_env_filter(
            // The embedded broker logs every device disconnect as an error; Weir logs what
            // matters about MQTT itself (RUST_LOG=rumqttd=info shows the broker's own lines).
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttd=warn,rumqttd::server::broker=off".into()),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weir: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Token(args) = &command {
        // Needs no database.
        println!("{}", smartbi_token(&settings, args)?);
        return Ok(());
    }
    let weir = Weir::assemble(settings)?;
    match command {
        Command::Serve => serve(weir),
        Command::Token(_) => Ok(()),
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
        weir.start_workflows().await?;
        let (server, addr) = weir.serve()?;
        tracing::info!(%addr, backend = ?weir.database.backend(), "weir is listening");
        let mqtt = weir.start_mqtt()?;
        let demo = weir.start_demo()?;
        let served = server.await;
        demo.stop().await;
        mqtt.stop().await;
        served?;
        Ok(())
    })
}
