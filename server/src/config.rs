//! Configuration: built-in defaults, then a TOML file (`--config FILE` or `COOP_CONFIG`), then
//! `DATABASE_URL`, then `COOP_<KEY>` environment variables. Typed, and validated before anything
//! starts: a bad value stops the start with a message naming its key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

/// Every key, as written in the file and (upper-cased, prefixed `COOP_`) in the environment.
pub const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "rpc_url",
    "chain_id",
    "confirmations",
    "deployment_file",
    "log",
    "public_origin",
    "operator_key",
    "agent_key",
    "relayer_key",
    "validator_key",
    "commit_every_blocks",
    "commit_revenue_threshold",
    "serve_owners",
    "commits_per_union_per_day",
    "member_changes_per_union_per_day",
    "relays_per_union_per_day",
    "gas_budget_per_day",
    "requests_per_second_per_ip",
    "request_burst_per_ip",
    "requests_per_second_per_account",
    "request_burst_per_account",
    "trusted_proxies",
    "request_timeout_seconds",
    "max_concurrent_requests",
    "messages_per_second_per_publisher",
    "member_app_origins",
    "stream_retention_days",
    "stream_retention_bytes",
    "nats_url",
    "nats_replicas",
];

/// The least a server may keep of one stream: 1 MB.
const MIN_STREAM_BYTES: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database and the deployment file; created on first start.
    pub data_dir: PathBuf,
    /// `sqlite:...` or `postgres://...`; default: `coop.db` in `data_dir`.
    pub database_url: Option<String>,
    /// JSON-RPC endpoint of the chain. `coop dev` starts its own anvil when this is unset.
    pub rpc_url: Option<Url>,
    /// Expected chain id; when set, a chain answering another id is refused at start.
    pub chain_id: Option<u64>,
    /// Blocks below the head before a block counts as final (commits and books use only those).
    pub confirmations: u64,
    /// Where the contract addresses are read from (written by `coop deploy`); default: in `data_dir`.
    pub deployment_file: Option<PathBuf>,
    /// Log filter directive (`RUST_LOG` wins when set).
    pub log: String,
    /// The origin people reach the server at (`https://coop.example`), which sign-in messages must
    /// name; default: the listen address (and `localhost` at its port for a loopback one). Behind a
    /// proxy or a load balancer, set it to the address people use.
    pub public_origin: Option<Url>,
    /// Private key of the operator: commits the books of the unions it operates. None: no commits.
    pub operator_key: Option<Secret>,
    /// Private key of the join-part agent: adds approved members to the unions. None: no joins.
    pub agent_key: Option<Secret>,
    /// Private key that sends members' signed withdrawals and takes their fee. None: no relaying.
    /// Give it to one instance only: its sends are serialized within the instance.
    pub relayer_key: Option<Secret>,
    /// Private key of a validator: vetoes wrong frozen commits in the unions that name it (the editor
    /// names it in every union it deploys). None: the validator only reports.
    pub validator_key: Option<Secret>,
    /// The operator commits a union's book at most every this many blocks (when it changed) ...
    pub commit_every_blocks: u64,
    /// ... or sooner, once this much revenue (wei) is not yet committed.
    pub commit_revenue_threshold: Option<U256>,
    /// Owners whose unions the operator and the agent serve; empty: any union that names them. On
    /// a public chain, list them: anyone can deploy a union naming this server's keys.
    pub serve_owners: Vec<Address>,
    /// Commits the operator makes to one union in a day, at most.
    pub commits_per_union_per_day: u32,
    /// Members the agent adds to or parts from one union in a day, at most.
    pub member_changes_per_union_per_day: u32,
    /// Withdrawals the relayer sends for one union in a day, at most.
    pub relays_per_union_per_day: u32,
    /// Wei each of the operator's and the agent's keys may spend on gas in a day; unset: no limit.
    pub gas_budget_per_day: Option<U256>,
    /// Requests one client address may make per second, sustained (an IPv6 client is its /64);
    /// 0: no limit. Beyond it: 429 with `Retry-After`.
    pub requests_per_second_per_ip: u32,
    /// ... and at once, after a pause.
    pub request_burst_per_ip: u32,
    /// Requests one signed-in account may make per second, sustained, whatever its address; 0: no limit.
    pub requests_per_second_per_account: u32,
    /// ... and at once, after a pause.
    pub request_burst_per_account: u32,
    /// Proxies whose `X-Forwarded-For` names the client (the shipped nginx runs on loopback).
    pub trusted_proxies: Vec<IpAddr>,
    /// A request not answered in this many seconds gets 503.
    pub request_timeout_seconds: u64,
    /// Requests served at once; more wait for a turn (within their timeout).
    pub max_concurrent_requests: u32,
    /// Stream messages one publisher may store per second, across its streams (1 to 1000000).
    pub messages_per_second_per_publisher: u32,
    /// Origins of member apps (`https://app.example`, `chrome-extension://<id>`) that may call the
    /// publish, app key, join and read endpoints from a browser (CORS).
    pub member_app_origins: Vec<String>,
    /// The longest any stream's messages are kept, in days (1 to 36500); a seller may choose less.
    pub stream_retention_days: u32,
    /// The most bytes of messages any one stream keeps (at least 1 MB); a seller may choose less.
    /// Past it the oldest messages go first.
    pub stream_retention_bytes: u64,
    /// NATS with JetStream (`nats://host:4222`) for the messages of product streams, shared by every
    /// instance on it; unset: a SQLite file in `data_dir`, for one instance.
    pub nats_url: Option<String>,
    /// Replicas of each stream in a JetStream cluster (1, 3 or 5; 1 on a single NATS server).
    pub nats_replicas: u8,
}

/// A private key from the configuration: never printed, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn signer(&self) -> Option<PrivateKeySigner> {
        self.0.parse().ok()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            rpc_url: None,
            chain_id: None,
            confirmations: 2,
            deployment_file: None,
            log: "info,sqlx=warn".to_owned(),
            public_origin: None,
            operator_key: None,
            agent_key: None,
            relayer_key: None,
            validator_key: None,
            commit_every_blocks: 20,
            commit_revenue_threshold: None,
            serve_owners: Vec::new(),
            commits_per_union_per_day: 48,
            member_changes_per_union_per_day: 1_000,
            relays_per_union_per_day: 1_000,
            gas_budget_per_day: Some(U256::from(10u64).pow(U256::from(17))),
            requests_per_second_per_ip: 50,
            request_burst_per_ip: 200,
            requests_per_second_per_account: 10,
            request_burst_per_account: 60,
            trusted_proxies: vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)],
            request_timeout_seconds: 30,
            max_concurrent_requests: 512,
            messages_per_second_per_publisher: 100,
            member_app_origins: Vec::new(),
            stream_retention_days: 365,
            stream_retention_bytes: 10 * 1024 * 1024 * 1024,
            nats_url: None,
            nats_replicas: 1,
        }
    }
}

/// `COOP_` variables that are not config keys: the config file's path, the deployer's key for
/// `coop deploy`, the unions' owner's key for `coop migrate`, and what the test and load scripts read.
const OTHER_VARIABLES: &[&str] = &["config", "deployer_key", "owner_key", "anvil", "bin"];

/// A `COOP_` variable that is no key but a letter or two away from one is a mistyped key: an error
/// naming both, rather than a setting silently ignored (an operator key that is never used).
fn check_environment(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let Some(key) = name.strip_prefix("COOP_").map(str::to_ascii_lowercase) else { continue };
        if KEYS.contains(&key.as_str()) || OTHER_VARIABLES.contains(&key.as_str()) {
            continue;
        }
        // One letter off a short key, two off a long one: `app_url` is not a typo of `rpc_url`.
        let near = |known: &&&str| edit_distance(known, &key) <= if known.len() >= 10 { 2 } else { 1 };
        if let Some(meant) = KEYS.iter().find(near) {
            return Err(ConfigError::UnknownVariable { name, meant: format!("COOP_{}", meant.to_ascii_uppercase()) });
        }
    }
    Ok(())
}

/// Levenshtein distance: the fewest letters inserted, removed or replaced to make `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let replaced = diagonal + usize::from(x != *y);
            diagonal = row[j + 1];
            row[j + 1] = replaced.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable `{name}` is not a config key; did you mean `{meant}`?")]
    UnknownVariable { name: String, meant: String },
    #[error("config: {0}")]
    Source(#[from] Box<figment::Error>),
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Loads from the defaults, the optional file, and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        check_environment(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
        Self::from_figment(Self::figment(file))
    }

    /// The layered sources; tests add their own layers on top.
    pub fn figment(file: Option<&Path>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database_url".into()))
            // Only known keys: other COOP_* variables (COOP_CONFIG, test settings) are not config.
            .merge(
                Env::prefixed("COOP_")
                    .filter(|key| KEYS.iter().any(|known| key.as_str().eq_ignore_ascii_case(known)))
                    .map(|key| key.as_str().to_ascii_lowercase().into()),
            )
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_urls()?;
        self.validate_chain()?;
        self.validate_limits()?;
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(ConfigError::Invalid { key: "log", message: error.to_string() });
        }
        Ok(())
    }

    /// The database, the chain's node and the public origin.
    fn validate_urls(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                key: "database_url",
                message: "must start with `sqlite:`, `postgres://` or `postgresql://`".into(),
            });
        }
        if let Some(url) = &self.rpc_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(ConfigError::Invalid {
                key: "rpc_url",
                message: format!("scheme `{}` is not supported, use http or https", url.scheme()),
            });
        }
        if let Some(url) = &self.nats_url
            && !Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "nats" | "tls") && url.host_str().is_some())
        {
            return Err(ConfigError::Invalid {
                key: "nats_url",
                message: format!("{url:?} is not a NATS server's URL, like nats://127.0.0.1:4222"),
            });
        }
        if ![1, 3, 5].contains(&self.nats_replicas) {
            return Err(ConfigError::Invalid {
                key: "nats_replicas",
                message: format!("{} is not 1, 3 or 5", self.nats_replicas),
            });
        }
        for origin in &self.member_app_origins {
            let parsed = Url::parse(origin).ok();
            let bare = parsed.as_ref().is_some_and(|url| {
                url.host_str().is_some_and(|host| !host.is_empty())
                    && matches!(url.path(), "" | "/")
                    && url.query().is_none()
                    && url.fragment().is_none()
                    && !origin.ends_with('/')
            });
            if !bare {
                return Err(ConfigError::Invalid {
                    key: "member_app_origins",
                    message: format!(
                        "{origin:?} is not an origin: a scheme and a host, nothing after it (https://app.example, chrome-extension://abcdef)"
                    ),
                });
            }
        }
        if let Some(origin) = &self.public_origin
            && (!matches!(origin.scheme(), "http" | "https")
                || origin.host_str().is_none()
                || origin.path() != "/"
                || origin.query().is_some())
        {
            return Err(ConfigError::Invalid {
                key: "public_origin",
                message: "must be an http or https origin with a host and nothing after it, like https://coop.example"
                    .into(),
            });
        }
        Ok(())
    }

    /// What the instance expects of the chain, and the keys it sends with.
    fn validate_chain(&self) -> Result<(), ConfigError> {
        if self.chain_id == Some(0) {
            return Err(ConfigError::Invalid { key: "chain_id", message: "must be at least 1".into() });
        }
        if self.confirmations > 10_000 {
            return Err(ConfigError::Invalid {
                key: "confirmations",
                message: format!("{} is more than the maximum of 10000", self.confirmations),
            });
        }
        let keys = [
            ("operator_key", &self.operator_key),
            ("agent_key", &self.agent_key),
            ("relayer_key", &self.relayer_key),
            ("validator_key", &self.validator_key),
        ];
        for (key, secret) in keys {
            if secret.as_ref().is_some_and(|secret| secret.signer().is_none()) {
                return Err(ConfigError::Invalid { key, message: "is not a 32-byte hex private key".into() });
            }
        }
        if self.commit_every_blocks == 0 {
            return Err(ConfigError::Invalid { key: "commit_every_blocks", message: "must be at least 1".into() });
        }
        Ok(())
    }

    /// Rates, bursts, deadlines and concurrency of the HTTP server.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        if !(1..=36_500).contains(&self.stream_retention_days) {
            return Err(ConfigError::Invalid {
                key: "stream_retention_days",
                message: format!("{} is not between 1 and 36500", self.stream_retention_days),
            });
        }
        if !(MIN_STREAM_BYTES..=i64::MAX as u64).contains(&self.stream_retention_bytes) {
            return Err(ConfigError::Invalid {
                key: "stream_retention_bytes",
                message: format!(
                    "{} is not between {MIN_STREAM_BYTES} (1 MB) and {}",
                    self.stream_retention_bytes,
                    i64::MAX
                ),
            });
        }
        if !(1..=1_000_000).contains(&self.messages_per_second_per_publisher) {
            return Err(ConfigError::Invalid {
                key: "messages_per_second_per_publisher",
                message: format!("{} is not between 1 and 1000000", self.messages_per_second_per_publisher),
            });
        }
        for (key, rate, burst_key, burst) in [
            (
                "requests_per_second_per_ip",
                self.requests_per_second_per_ip,
                "request_burst_per_ip",
                self.request_burst_per_ip,
            ),
            (
                "requests_per_second_per_account",
                self.requests_per_second_per_account,
                "request_burst_per_account",
                self.request_burst_per_account,
            ),
        ] {
            if rate > 1_000_000 {
                return Err(ConfigError::Invalid {
                    key,
                    message: format!("{rate} is more than the maximum of 1000000"),
                });
            }
            if rate > 0 && burst == 0 {
                return Err(ConfigError::Invalid {
                    key: burst_key,
                    message: format!("must be at least 1 while `{key}` is set"),
                });
            }
        }
        if !(1..=3600).contains(&self.request_timeout_seconds) {
            return Err(ConfigError::Invalid { key: "request_timeout_seconds", message: "must be 1 to 3600".into() });
        }
        if self.max_concurrent_requests == 0 {
            return Err(ConfigError::Invalid { key: "max_concurrent_requests", message: "must be at least 1".into() });
        }
        Ok(())
    }

    /// What the operator and the agent may spend gas on.
    pub fn policy(&self) -> crate::policy::Policy {
        crate::policy::Policy {
            owners: self.serve_owners.clone(),
            commits_per_union_per_day: self.commits_per_union_per_day,
            member_changes_per_union_per_day: self.member_changes_per_union_per_day,
            relays_per_union_per_day: self.relays_per_union_per_day,
            gas_budget_per_day: self.gas_budget_per_day,
        }
    }

    /// The database to use: the configured URL, or a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("coop.db").display()),
        }
    }

    pub fn deployment_file(&self) -> PathBuf {
        self.deployment_file.clone().unwrap_or_else(|| self.data_dir.join("deployment.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(key: &str, value: impl Serialize) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Serialized::global(key, value)),
        )
    }

    fn rejected_key(result: Result<Config, ConfigError>) -> String {
        result.expect_err("the value should be refused").to_string()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(with("confirmations", 2).unwrap(), Config::default());
    }

    #[test]
    fn a_database_url_of_another_kind_is_refused_naming_the_key() {
        assert!(rejected_key(with("database_url", "mysql://x")).contains("database_url"));
    }

    #[test]
    fn a_non_numeric_confirmation_depth_is_refused_naming_the_key() {
        assert!(rejected_key(with("confirmations", "many")).contains("confirmations"));
    }

    #[test]
    fn an_rpc_url_that_is_not_http_is_refused() {
        assert!(rejected_key(with("rpc_url", "ws://127.0.0.1:8545")).contains("rpc_url"));
    }

    #[test]
    fn a_malformed_listen_address_is_refused_naming_the_key() {
        assert!(rejected_key(with("listen", "localhost")).contains("listen"));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("coop.toml");
        std::fs::write(&file, "confirmatoins = 3\n").unwrap();
        let error =
            Config::from_figment(Figment::from(Serialized::defaults(Config::default())).merge(Toml::file_exact(&file)));
        assert!(rejected_key(error).contains("confirmatoins"));
    }

    #[test]
    fn the_file_sets_values_and_the_database_defaults_to_sqlite_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("coop.toml");
        std::fs::write(&file, "data_dir = \"/srv/coop\"\nconfirmations = 12\n").unwrap();
        let config =
            Config::from_figment(Figment::from(Serialized::defaults(Config::default())).merge(Toml::file_exact(&file)))
                .unwrap();
        assert_eq!(config.confirmations, 12);
        assert_eq!(config.database_url(), "sqlite:///srv/coop/coop.db?mode=rwc");
    }

    #[test]
    fn a_malformed_operator_key_is_refused_without_echoing_it() {
        let message = rejected_key(with("operator_key", "0xnotakey-secret"));
        assert!(message.contains("operator_key") && !message.contains("notakey"), "{message}");
    }

    #[test]
    fn a_secret_is_hidden_when_the_config_is_printed() {
        let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let config = with("agent_key", key).unwrap();
        assert!(config.agent_key.as_ref().unwrap().signer().is_some());
        assert!(!format!("{config:?}").contains("ac0974"));
    }

    #[test]
    fn a_revenue_threshold_is_read_as_exact_wei() {
        let config = with("commit_revenue_threshold", "1000000000000000000000").unwrap();
        assert_eq!(config.commit_revenue_threshold, Some(U256::from(10u64).pow(U256::from(21))));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure returns its own error type
    fn environment_variables_override_the_file_and_other_coop_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("coop.toml", "confirmations = 3\nlisten = \"127.0.0.1:4000\"\n")?;
            jail.set_env("COOP_CONFIRMATIONS", "7");
            jail.set_env("COOP_CONFIG", "coop.toml");
            jail.set_env("DATABASE_URL", "postgres://db/coop");
            let config = Config::load(Some(Path::new("coop.toml"))).expect("valid");
            assert_eq!(config.confirmations, 7);
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
            assert_eq!(config.database_url(), "postgres://db/coop");
            jail.set_env("COOP_CONFIRMATIONS", "many");
            let error = Config::load(Some(Path::new("coop.toml"))).expect_err("refused").to_string();
            assert!(error.contains("CONFIRMATIONS") && error.contains("COOP_"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn every_key_is_listed_for_the_environment() {
        let serialized = serde_json::to_value(Config::default()).unwrap();
        let mut fields: Vec<&str> = serialized.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = KEYS.to_vec();
        fields.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure returns its own error type
    fn the_keys_and_the_serving_policy_can_be_set_by_environment_variables() {
        figment::Jail::expect_with(|jail| {
            let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
            jail.set_env("COOP_OPERATOR_KEY", key);
            jail.set_env("COOP_AGENT_KEY", key);
            jail.set_env("COOP_SERVE_OWNERS", "[0x70997970C51812dc3A010C7d01b50e0d17dc79C8]");
            jail.set_env("COOP_GAS_BUDGET_PER_DAY", "5000000000000000");
            let config = Config::load(None).expect("valid");
            assert!(config.operator_key.is_some() && config.agent_key.is_some());
            assert_eq!(
                config.serve_owners,
                vec!["0x70997970C51812dc3A010C7d01b50e0d17dc79C8".parse::<Address>().unwrap()]
            );
            assert_eq!(config.gas_budget_per_day, Some(U256::from(5_000_000_000_000_000u64)));
            Ok(())
        });
    }

    #[test]
    fn a_public_origin_is_an_origin_and_nothing_more() {
        assert!(with("public_origin", "https://coop.example").is_ok());
        for bad in ["https://coop.example/app", "ftp://coop.example", "https://coop.example/?a=1"] {
            assert!(rejected_key(with("public_origin", bad)).contains("public_origin"), "{bad}");
        }
    }

    #[test]
    fn a_mistyped_variable_is_an_error_naming_the_key_it_looks_like() {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>().into_iter();
        let error = check_environment(names(&["PATH", "COOP_OPERATOR_KY"])).unwrap_err().to_string();
        assert!(error.contains("COOP_OPERATOR_KY") && error.contains("COOP_OPERATOR_KEY"), "{error}");
        assert!(check_environment(names(&["COOP_CONFIRMATION"])).is_err());
        let fine = ["COOP_OPERATOR_KEY", "COOP_CONFIG", "COOP_DEPLOYER_KEY", "COOP_TEST_POSTGRES_URL", "COOP_APP_URL"];
        assert!(check_environment(names(&fine)).is_ok());
        assert_eq!((edit_distance("agent_key", "agent_ky"), edit_distance("log", "bin")), (1, 3));
    }

    #[test]
    fn limits_are_refused_when_they_could_not_work() {
        assert!(rejected_key(with("request_burst_per_ip", 0)).contains("request_burst_per_ip"));
        assert!(rejected_key(with("request_burst_per_account", 0)).contains("request_burst_per_account"));
        assert!(rejected_key(with("request_timeout_seconds", 0)).contains("request_timeout_seconds"));
        assert!(rejected_key(with("max_concurrent_requests", 0)).contains("max_concurrent_requests"));
        assert!(rejected_key(with("trusted_proxies", ["nginx"])).contains("trusted_proxies"));
        let off = Config { requests_per_second_per_ip: 0, request_burst_per_ip: 0, ..Config::default() };
        assert!(off.validate().is_ok(), "no limit needs no burst");
        assert!(
            rejected_key(with("messages_per_second_per_publisher", 0)).contains("messages_per_second_per_publisher")
        );
        assert!(rejected_key(with("stream_retention_days", 0)).contains("stream_retention_days"));
        assert!(rejected_key(with("stream_retention_bytes", 1000)).contains("stream_retention_bytes"));
        assert!(rejected_key(with("nats_url", "http://127.0.0.1:4222")).contains("nats_url"));
        assert!(rejected_key(with("nats_replicas", 2)).contains("nats_replicas"));
        assert_eq!(
            with("nats_url", "nats://127.0.0.1:4222").unwrap().nats_url.as_deref(),
            Some("nats://127.0.0.1:4222")
        );
    }

    #[test]
    fn member_app_origins_are_bare_origins() {
        let origins = ["https://app.example", "chrome-extension://abcdefghijklmnop", "http://127.0.0.1:8080"];
        assert_eq!(with("member_app_origins", origins).unwrap().member_app_origins, origins);
        for bad in ["app.example", "https://app.example/", "https://app.example/path", "https://app.example?x=1", "*"] {
            assert!(rejected_key(with("member_app_origins", [bad])).contains("member_app_origins"), "{bad}");
        }
    }

    /// Every `COOP_` variable the deployment instructions set (the README's shell blocks and the
    /// systemd units' environment file) is one the server reads: none is silently ignored.
    #[test]
    fn the_deployment_instructions_set_only_variables_the_server_reads() {
        let readme = include_str!("../../README.md");
        let shell_blocks = readme.split("```").skip(1).step_by(2).filter(|block| block.starts_with("sh\n"));
        let sources = shell_blocks
            .chain([include_str!("../../deploy/coop.env.example"), include_str!("../../deploy/coop@.service")]);
        let mut seen = 0;
        for source in sources {
            for (at, _) in source.match_indices("COOP_") {
                let name: String =
                    source[at + 5..].chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                if name.is_empty() {
                    // `COOP_<KEY>`, in prose.
                    continue;
                }
                let key = name.to_ascii_lowercase();
                assert!(
                    KEYS.contains(&key.as_str()) || OTHER_VARIABLES.contains(&key.as_str()),
                    "COOP_{name} is set by the deployment instructions but read by nothing"
                );
                seen += 1;
            }
        }
        assert!(seen >= 10, "the instructions were found ({seen} variables)");
    }

    #[test]
    fn a_bad_log_directive_is_refused() {
        assert!(rejected_key(with("log", "info,[[")).contains("log"));
    }
}
