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
    },
    /// List tenants.
    List,
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
    let weir = Weir::assemble(settings)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(weir),
        Command::Tenant {
            action: TenantAction::Add { id, name },
        } => {
            let tenant = weir.add_tenant(&id, name.as_deref())?;
            println!("added tenant {} ({})", tenant.id, tenant.name);
            Ok(())
        }
        Command::Tenant {
            action: TenantAction::List,
        } => {
            for t in weir.identity.tenants()? {
                println!("{}\t{}", t.id, t.name);
            }
            Ok(())
        }
    }
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
