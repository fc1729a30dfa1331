//! `coop`: the Coop server and its tools. `coop --help` lists the subcommands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use coop_server::config::Config;
use coop_server::deploy::{DeployArgs, deploy_with_existing_to_file};
use coop_server::startup::{Server, shutdown_signal};
use coop_server::{dev, migrate, offline, publish, read_token, telemetry};
use std::future::Future;

/// Rendering a page allocates many small strings from every worker thread at once; mimalloc's
/// per-thread heaps serve them without the lock contention of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "coop", version, about = "Coop: a data marketplace where communities sell their data together")]
struct Cli {
    /// Configuration file (TOML); `COOP_<KEY>` environment variables override it.
    #[arg(long, global = true, env = "COOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API against the configured chain and database.
    Serve {
        /// Rebuild every committed book and log each one that differs from the chain's as an error.
        #[arg(long)]
        validate: bool,
    },
    /// Development: start a local anvil chain unless `rpc_url` is set, then serve.
    Dev,
    /// Deploy the contracts to the configured chain (key in COOP_DEPLOYER_KEY) and write the
    /// deployment file; a deployment still on the chain is reused. Naming an existing DATA token, DAI
    /// token and Uniswap V2 router (a public chain's) deploys only Coop's Marketplace, DataUnionFactory
    /// and UniswapAdapter, after checking them.
    Deploy(DeployArgs),
    /// Print the state of a Data Union after replaying its events from a JSONL file.
    Replay(offline::ReplayArgs),
    /// Merkle book tools: compute a book's root and proofs, or verify it against a root.
    Book {
        #[command(subcommand)]
        command: offline::BookCommand,
    },
    /// Publish JSON Lines from stdin to a product stream, each line one message, signed with the
    /// key in COOP_PUBLISH_KEY (an app key the publisher granted, or the publisher's own).
    Publish(publish::PublishArgs),
    /// Print an Authorization header's value with a read token for the server, signed with the key
    /// in COOP_READ_KEY: reading streams without a session, for an hour at most.
    ReadToken(read_token::ReadTokenArgs),
    /// Move a union of the previous contracts to a union of the current ones, every member's
    /// earnings intact; run it again until it says everything has moved (key in COOP_OWNER_KEY).
    Migrate(migrate::MigrateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(args) => offline::run_replay(args),
        Command::Book { command } => offline::run_book(command),
        Command::Serve { validate: false } => run_async(cli.config, serve),
        Command::Serve { validate: true } => run_async(cli.config, serve_validating),
        Command::Dev => run_async(cli.config, dev::run),
        Command::Deploy(args) => run_async(cli.config, move |config| deploy(config, args)),
        Command::Publish(args) => run_publish(&args),
        Command::ReadToken(args) => run_read_token(&args),
        Command::Migrate(args) => run_async(cli.config, move |config| run_migration(config, args)),
    }
}

fn run_publish(args: &publish::PublishArgs) -> ExitCode {
    let published = (|| {
        let key = key_from_env("COOP_PUBLISH_KEY", "the app key's")?;
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        runtime.block_on(publish::run(args, &key, std::io::stdin().lock()))
    })();
    match published {
        Ok(published) => {
            match published.offsets {
                Some((first, last)) => {
                    eprintln!("published {} messages, offsets {first} to {last}", published.messages)
                }
                None => eprintln!("nothing to publish"),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("coop publish: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The private key in the environment variable `name`; `whose` says whose key it should be.
fn key_from_env(name: &str, whose: &str) -> anyhow::Result<alloy::signers::local::PrivateKeySigner> {
    let key = std::env::var(name).with_context(|| format!("set {name} to {whose} private key"))?;
    key.trim().parse().with_context(|| format!("{name} is not a private key (0x and 64 hex digits)"))
}

fn run_read_token(args: &read_token::ReadTokenArgs) -> ExitCode {
    let header = (|| {
        let key = key_from_env("COOP_READ_KEY", "the reader's")?;
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        runtime.block_on(read_token::make(args, &key))
    })();
    match header {
        Ok(header) => {
            println!("{header}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("coop read-token: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_async<F: Future<Output = anyhow::Result<()>>>(
    config_file: Option<PathBuf>,
    command: impl FnOnce(Config) -> F,
) -> ExitCode {
    let config = match Config::load(config_file.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("coop: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("coop: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(target: "startup", "{error:#}");
            eprintln!("coop: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let rpc_url =
        config.rpc_url.clone().context("config key `rpc_url` is not set (use `coop dev` for a local chain)")?;
    Server::build(&config, &rpc_url).await?.run(shutdown_signal()).await
}

async fn serve_validating(config: Config) -> anyhow::Result<()> {
    let rpc_url =
        config.rpc_url.clone().context("config key `rpc_url` is not set (use `coop dev` for a local chain)")?;
    Server::build(&config, &rpc_url).await?.validating(true).run(shutdown_signal()).await
}

async fn run_migration(config: Config, args: migrate::MigrateArgs) -> anyhow::Result<()> {
    let rpc_url = config.rpc_url.clone().context("config key `rpc_url` is not set")?;
    let key = std::env::var("COOP_OWNER_KEY").context("set COOP_OWNER_KEY to the unions' owner's private key")?;
    let key: alloy::signers::local::PrivateKeySigner =
        key.trim().parse().context("COOP_OWNER_KEY is not a private key (0x and 64 hex digits)")?;
    let deployment = coop_server::deploy::Deployment::load(&config.deployment_file())?
        .context("no deployment file: the DATA token's address is read from it")?;
    let migration = migrate::Migration {
        owner: key.address(),
        chain: coop_server::sender::signing_provider(&rpc_url, key),
        previous: args.previous,
        next: args.next,
        previous_factory: args.previous_factory,
        data_token: deployment.data_token,
        from_block: args.from_block,
        patience: Default::default(),
    };
    let last = migration.run(args.wait, |progress| println!("{progress}")).await?;
    if let migrate::Progress::Waiting { provable_at } = last {
        println!("run `coop migrate` again after {provable_at} (chain seconds), or pass --wait");
    }
    Ok(())
}

async fn deploy(config: Config, args: DeployArgs) -> anyhow::Result<()> {
    let existing = args.existing()?;
    let rpc_url = config.rpc_url.clone().context("config key `rpc_url` is not set")?;
    let key = std::env::var("COOP_DEPLOYER_KEY").context("set COOP_DEPLOYER_KEY to the deployer's private key")?;
    let deployment = match existing {
        None => dev::deploy(&config, &rpc_url, &key).await?,
        Some(existing) => {
            let deployer =
                key.trim().parse().context("COOP_DEPLOYER_KEY is not a private key (0x and 64 hex digits)")?;
            deploy_with_existing_to_file(&config.deployment_file(), &rpc_url, deployer, &existing).await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&deployment)?);
    Ok(())
}
