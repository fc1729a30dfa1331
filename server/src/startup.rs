//! Builds the whole server (store, chain client, pages, API) and runs it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use anyhow::{Context, bail};
use app::{App, shell};
use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use leptos::config::get_configuration;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use url::Url;

use tokio::sync::{Notify, Semaphore, watch};

use crate::auth;
use crate::chain_info;
use crate::config::Config;
use crate::deploy::Deployment;
use crate::http::{self, Services, limits};
use crate::indexer::Watched;
use crate::live;
use crate::operator::CommitPolicy;
use crate::ports::{
    ChainCheckout, ServiceMarket, ServiceStreams, ServiceUnions, provide_checkout, provide_market, provide_streams,
    provide_unions,
};
use crate::role::{ChainRole, OperatorSettings};
use crate::store::{LogPosition, Store};

/// A bound, ready-to-run server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    services: Arc<Services>,
    /// Indexing and committing, for whichever instance holds the role; `None` without a deployment.
    role: Option<ChainRole>,
    /// Whether the validator logs mismatches as errors (`coop serve --validate`).
    validate: bool,
    /// The point of the stored log the read models were built from.
    loaded: LogPosition,
    limiters: Limiters,
    /// The most any stream keeps of its messages.
    stream_retention: crate::service::streams::Retention,
}

/// The chain at `rpc_url`, checked to be the one the config names.
async fn connect_chain(config: &Config, rpc_url: &Url) -> anyhow::Result<(DynProvider, u64)> {
    let chain = ProviderBuilder::new().connect_client(crate::rpc::client(rpc_url)).erased();
    // Only the redacted URL is ever shown: the path or query often holds an API key.
    let node = crate::rpc::Redacted(rpc_url);
    let chain_id = chain.get_chain_id().await.with_context(|| format!("asking the chain at {node} for its id"))?;
    if let Some(expected) = config.chain_id
        && expected != chain_id
    {
        bail!("the chain at {node} has id {chain_id}, but the config key `chain_id` says {expected}");
    }
    tracing::info!(target: "startup", %node, chain_id, "chain reachable");
    Ok((chain, chain_id))
}

/// The contracts' addresses, if a deployment file is there; one for another chain is refused.
fn load_deployment(config: &Config, chain_id: u64, rpc_url: &Url) -> anyhow::Result<Option<Deployment>> {
    let deployment = Deployment::load(&config.deployment_file())?;
    match &deployment {
        Some(deployment) if deployment.chain_id != chain_id => bail!(
            "the deployment file {} is for chain {}, but the chain at {} is {chain_id}",
            config.deployment_file().display(),
            deployment.chain_id,
            crate::rpc::Redacted(rpc_url)
        ),
        Some(_) => {}
        None => tracing::warn!(
            target: "startup",
            file = %config.deployment_file().display(),
            "no deployment file: the chain is not indexed (run `coop deploy` or set `deployment_file`)"
        ),
    }
    Ok(deployment)
}

/// What the instance does while it holds the chain role: index, and commit and send joins when the
/// config gives it the keys.
fn chain_role(
    config: &Config,
    rpc_url: &Url,
    services: &Services,
    deployment: &Deployment,
) -> anyhow::Result<ChainRole> {
    let operator = match &config.operator_key {
        Some(key) => Some(OperatorSettings {
            rpc_url: rpc_url.clone(),
            key: key.signer().context("config key `operator_key` is not a private key")?,
            policy: CommitPolicy {
                every_blocks: config.commit_every_blocks,
                revenue_threshold: config.commit_revenue_threshold,
            },
        }),
        None => None,
    };
    let agent = match &config.agent_key {
        Some(key) => Some((rpc_url.clone(), key.signer().context("config key `agent_key` is not a private key")?)),
        None => None,
    };
    Ok(ChainRole {
        store: services.store.clone(),
        chain: services.chain.clone(),
        watched: Watched {
            factory: deployment.data_union_factory,
            marketplace: deployment.marketplace,
            data_token: deployment.data_token,
        },
        start_block: deployment.deploy_block,
        confirmations: config.confirmations,
        operator,
        serving: services.serving.clone(),
        agent,
        validator: match &config.validator_key {
            Some(key) => {
                Some((rpc_url.clone(), key.signer().context("config key `validator_key` is not a private key")?))
            }
            None => None,
        },
    })
}

/// The messages of the products' streams: on NATS JetStream when `nats_url` is set (several
/// instances), else in a SQLite file in the data folder (one instance).
async fn open_streams(config: &Config) -> anyhow::Result<crate::service::streams::Streams> {
    let store: Arc<dyn crate::streams::store::StreamStore> = match &config.nats_url {
        Some(url) => {
            let max_age = Duration::from_secs(u64::from(config.stream_retention_days) * 86_400);
            let store = crate::streams::nats::Nats::connect(url, max_age, usize::from(config.nats_replicas)).await?;
            // Not the URL: it may carry a password.
            tracing::info!(target: "startup", "stream messages on NATS JetStream");
            Arc::new(store)
        }
        None => Arc::new(crate::streams::embedded::Embedded::open(&config.data_dir.join("streams.db")).await?),
    };
    let rate = std::num::NonZeroU32::new(config.messages_per_second_per_publisher)
        .context("config key `messages_per_second_per_publisher` is 0")?;
    Ok(crate::service::streams::Streams::new(store, rate))
}

impl Server {
    /// Opens the store (creating the data folder and applying migrations), connects to the chain
    /// at `rpc_url`, checks its chain id, and binds the listen address.
    pub async fn build(config: &Config, rpc_url: &Url) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
        let store = Store::open(&config.database_url()).await.context("opening the database")?;
        tracing::info!(target: "startup", backend = ?store.backend(), "database ready");

        let (chain, chain_id) = connect_chain(config, rpc_url).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {} (config key `listen`)", config.listen))?;
        let deployment = load_deployment(config, chain_id, rpc_url)?;
        let (models, loaded) = live::load(&store).await?;
        let relayer = match &config.relayer_key {
            Some(key) => {
                let key = key.signer().context("config key `relayer_key` is not a private key")?;
                Some(Arc::new(crate::service::relay::Relayer::new(rpc_url, key)))
            }
            None => None,
        };
        let services = Arc::new(Services {
            models: live::ReadModels::new(models),
            store,
            chain,
            chain_id,
            confirmations: config.confirmations,
            origin: auth::PublicOrigin::new(config.public_origin.as_ref(), listener.local_addr()?),
            deployment,
            metrics: Default::default(),
            clock: Default::default(),
            leading: Default::default(),
            join_agent: chain_info::Roles::of(config).join_agent,
            serving: crate::policy::Serving { policy: config.policy(), spending: Arc::default() },
            streams: open_streams(config).await?,
            relayer,
        });
        let (router, limiters) = router(listener.local_addr()?, services.clone(), rpc_url, config)?;
        let role = match &services.deployment {
            Some(deployment) => Some(chain_role(config, rpc_url, &services, deployment)?),
            None => None,
        };
        Ok(Self {
            listener,
            router,
            services,
            role,
            validate: false,
            loaded,
            limiters,
            stream_retention: crate::service::streams::Retention {
                days: config.stream_retention_days,
                bytes: config.stream_retention_bytes,
            },
        })
    }

    /// Makes the validator loud: every mismatch is logged as an error (`coop serve --validate`).
    pub fn validating(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn services(&self) -> Arc<Services> {
        self.services.clone()
    }

    /// Serves, indexes and keeps the unions current until `shutdown` completes; then finishes the
    /// requests in flight and stops the workers.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let address = self.local_addr();
        let (stop, stopped) = watch::channel(false);
        let mut workers = Vec::new();
        let services = self.services.clone();
        let nudge = Arc::new(Notify::new());
        workers.push(tokio::spawn(live::follow(
            services.store.clone(),
            services.models.clone(),
            self.loaded,
            nudge.clone(),
            stopped.clone(),
        )));
        if let Some(role) = self.role {
            workers.push(tokio::spawn(role.run(
                services.models.clone(),
                nudge,
                services.leading.clone(),
                stopped.clone(),
            )));
        }
        workers.push(tokio::spawn(crate::validator::run(self.services.models.clone(), self.validate, stopped.clone())));
        tracing::info!(target: "startup", "listening on http://{address}");
        let trimming = tokio::spawn(limits::forget_idle_clients(self.limiters.ip, self.limiters.accounts));
        let cleaning = tokio::spawn(crate::products::covers::clean_unused_covers(services.store.clone()));
        let forgetting = tokio::spawn(crate::service::streams::trim_expired(services.clone(), self.stream_retention));
        // Live feeds never finish by themselves: they end when the server stops taking requests.
        let streams = services.streams.clone();
        let shutdown = async move {
            shutdown.await;
            streams.close();
        };
        http::serve::serve(self.listener, self.router, shutdown).await;
        trimming.abort();
        cleaning.abort();
        forgetting.abort();
        let _ = stop.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        // The contributions counted since the last write, before the store closes.
        crate::service::streams::write_contributions(&services.streams, &services.store).await;
        self.services.store.close().await;
        Ok(())
    }
}

/// The whole HTTP surface, with the limiters whose memory the server keeps trimmed.
fn router(
    addr: SocketAddr,
    services: Arc<Services>,
    rpc_url: &Url,
    config: &Config,
) -> anyhow::Result<(Router, Limiters)> {
    let (per_ip, ip_limiter) = limits::per_ip_layer(config).unzip();
    let limiters = Limiters { ip: ip_limiter, accounts: limits::Accounts::new(config) };
    let mut leptos_options = get_configuration(None).context("reading the Leptos site options")?.leptos_options;
    leptos_options.site_addr = addr;
    // The bundle name cargo-leptos builds (`output-name` in Cargo.toml), also when run without it.
    leptos_options.output_name = "coop".into();
    let static_files = static_cache(&leptos_options)?;
    let routes = page_routes();
    let pages = Router::new()
        .leptos_routes(&leptos_options, routes, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn(http::server_fns::refusals_get_their_status));
    let roles = chain_info::Roles::of(config);
    let chain = Arc::new(chain_info::describe(services.chain_id, rpc_url, services.deployment.as_ref(), roles));
    let pages = http::routes(services.clone())
        .merge(pages)
        .layer(axum::Extension(chain))
        // Inside out: the session layer loads the session, then the pages get to read it.
        .layer(axum::middleware::from_fn(auth::provide_session_reader))
        .layer(axum::middleware::from_fn_with_state(ServiceMarket::new(services.clone()), provide_market))
        .layer(axum::middleware::from_fn_with_state(ChainCheckout::new(services.clone()), provide_checkout))
        .layer(axum::middleware::from_fn_with_state(
            crate::products::StoreEditor::new(services.store.clone(), services.models.clone()),
            crate::products::provide_editor,
        ))
        .layer(axum::middleware::from_fn_with_state(ServiceUnions::new(services.clone()), provide_unions))
        .layer(axum::middleware::from_fn_with_state(ServiceStreams::new(services.clone()), provide_streams))
        .layer(auth::session_layer(services.store.clone(), &services.origin))
        // Outside the session and the ports: a page sent again needs neither.
        .layer(axum::middleware::from_fn_with_state(
            (services.clone(), Arc::new(http::page_cache::PageCache::default())),
            http::page_cache::shared_pages,
        ))
        // Before the session is read: a cross-site change is refused whatever cookie it carries.
        .layer(axum::middleware::from_fn_with_state(services.clone(), http::refuse_cross_site))
        // Outside the session layer, so that sign-in's share of the database includes the session's.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(Semaphore::new(limits::SIGN_IN_CONCURRENCY)),
            limits::share_sign_in,
        ))
        .layer(CompressionLayer::new())
        .layer(ConcurrencyLimitLayer::new(config.max_concurrent_requests as usize))
        // Outside the concurrency cap: waiting for a turn counts against the deadline.
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_secs(config.request_timeout_seconds),
            limits::deadline,
        ));
    let pages = pages.layer(axum::middleware::from_fn_with_state(static_files, cache_static_files));
    let pages = match &limiters.accounts {
        // For the `SignedIn` extractor, which counts each signed-in request.
        Some(accounts) => pages.layer(axum::Extension(accounts.clone())),
        None => pages,
    };
    let pages = match per_ip {
        // Outermost but for the logs: a client over its limit costs nothing more.
        Some(layer) => pages.layer(layer),
        None => pages,
    };
    let router = pages
        // Outside every refusal, so a browser learns that a refused request may be read by its page.
        .layer(member_apps(config))
        // Which instance answered, for operators behind a load balancer.
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("x-coop-instance"), instance_id()))
        .layer(TraceLayer::new_for_http());
    Ok((router, limiters))
}

/// CORS for the member apps' origins (`member_app_origins`): they may publish, grant app keys, ask
/// to join and read, without cookies (those requests carry their own signatures, and reads of
/// public data need none). With no origin configured, no cross-origin page may read any answer.
fn member_apps(config: &Config) -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    let origins = config.member_app_origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok());
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static("last-event-id")])
        .expose_headers([crate::api::AS_OF_HEADER, header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}

/// How long browsers may keep the bundle's files: for good when their names carry their hash (a
/// release build, `make release`), else only after asking whether they changed.
fn static_cache(options: &leptos::config::LeptosOptions) -> anyhow::Result<HeaderValue> {
    if !options.hash_files {
        return Ok(HeaderValue::from_static("no-cache"));
    }
    let hashes = std::env::current_exe()?.with_file_name(options.hash_file.as_ref());
    if !hashes.exists() {
        bail!(
            "LEPTOS_HASH_FILES is set, but {} (written by `make release`) is not beside the binary",
            hashes.display()
        );
    }
    Ok(HeaderValue::from_static("public, max-age=31536000, immutable"))
}

/// Middleware: the cache lifetime of the bundle's files under `/pkg/`.
async fn cache_static_files(
    axum::extract::State(lifetime): axum::extract::State<HeaderValue>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let bundle = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if bundle && response.status().is_success() {
        response.headers_mut().insert(axum::http::header::CACHE_CONTROL, lifetime);
    }
    response
}

/// The rate limiters' state, trimmed of idle clients while the server runs.
struct Limiters {
    ip: Option<Arc<tower_governor::governor::GovernorConfig<limits::ClientIp, governor::middleware::NoOpMiddleware>>>,
    accounts: Option<limits::Accounts>,
}

/// The web app's routes. Listing them renders the app once on a throwaway reactive owner; that is
/// done once per process, since the routes never change and rendering it while another server in the
/// same process renders a page was seen to leave that page unfinished (tests run many servers).
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// A random id for this process, as a header value.
fn instance_id() -> HeaderValue {
    let id: u64 = rand_id();
    HeaderValue::from_str(&format!("{id:016x}")).expect("hex is a valid header value")
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!(target: "startup", "stopping");
}

#[cfg(test)]
mod tests {
    use leptos::config::LeptosOptions;

    use super::*;

    #[test]
    fn bundle_files_are_kept_for_good_only_when_their_names_carry_their_hash() {
        let plain = LeptosOptions::builder().output_name("coop").build();
        assert_eq!(static_cache(&plain).unwrap(), "no-cache");
        let hashed =
            LeptosOptions::builder().output_name("coop").hash_files(true).hash_file("no-such-hash.txt".into()).build();
        let refused = static_cache(&hashed).unwrap_err().to_string();
        assert!(refused.contains("no-such-hash.txt"), "{refused}");
        let beside = std::env::current_exe().unwrap().with_file_name("coop-test-hash.txt");
        std::fs::write(&beside, "js: 1\nwasm: 2\ncss: 3\n").unwrap();
        let found = LeptosOptions::builder()
            .output_name("coop")
            .hash_files(true)
            .hash_file("coop-test-hash.txt".into())
            .build();
        assert_eq!(static_cache(&found).unwrap(), "public, max-age=31536000, immutable");
        std::fs::remove_file(beside).unwrap();
    }
}
