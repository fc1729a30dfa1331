//! The local development chain: anvil from the npm package `@foundry-rs/anvil`, started on a free
//! port and killed when the handle is dropped, so neither `coop dev` nor a test leaves one behind;
//! and the signing provider and send-and-confirm step the operator and the join-part agent share.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};

/// anvil's first well-known development key (account 0), which deploys the contracts in development.
/// Public knowledge: never use it on a real chain.
pub const DEV_DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Where `npm ci` puts the anvil binary, relative to the workspace root.
pub const ANVIL_IN_NODE_MODULES: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// Finds the anvil binary: `COOP_ANVIL` if set, else the npm package under the workspace root
/// (searched from the current directory upwards, so tests run from `server/` find it too).
pub fn anvil_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COOP_ANVIL") {
        return Ok(PathBuf::from(path));
    }
    let start = std::env::current_dir().context("reading the current directory")?;
    start.ancestors().map(|dir| dir.join(ANVIL_IN_NODE_MODULES)).find(|candidate| candidate.is_file()).with_context(
        || format!("anvil not found under {} or its parents (run `npm ci`, or set COOP_ANVIL)", start.display()),
    )
}

/// How long anvil may take to say where it listens before it counts as failed to start.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts anvil on a free port of 127.0.0.1 with the given block time (`None`: mine on demand).
pub fn spawn_anvil(block_time_secs: Option<u64>) -> anyhow::Result<DevChain> {
    spawn_anvil_at(&anvil_path()?, block_time_secs)
}

/// Starts the anvil at `path` and reads its banner (accounts, keys, chain id, port). The deadline is
/// real: its output is read on a thread of its own, which goes on draining it for anvil's whole life,
/// so neither a silent anvil nor a full pipe can stall the caller.
pub fn spawn_anvil_at(path: &Path, block_time_secs: Option<u64>) -> anyhow::Result<DevChain> {
    let mut command = Command::new(path);
    // Twelve accounts: the ten the demo and the tests use, and the dev server's relayer and validator.
    command.args(["--host", "127.0.0.1", "--port", "0", "--accounts", "12"]).env("NO_COLOR", "1");
    if let Some(secs) = block_time_secs {
        command.arg("--block-time").arg(secs.to_string());
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command.spawn().with_context(|| format!("starting anvil from {}", path.display()))?;
    let stdout = child.stdout.take().context("anvil's output is piped")?;
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // After start-up nobody listens: the line is dropped, and the pipe stays drained.
            let _ = lines_tx.send(line);
        }
    });
    let mut banner = Banner::default();
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let port = loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => match banner.read(&line) {
                Ok(Some(port)) => break port,
                Ok(None) => {}
                Err(error) => {
                    stop(&mut child);
                    return Err(error.context("reading anvil's banner"));
                }
            },
            Err(RecvTimeoutError::Timeout) => {
                stop(&mut child);
                bail!("anvil from {} did not start listening within {STARTUP_TIMEOUT:?}", path.display());
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait().map(|status| status.to_string()).unwrap_or_else(|e| e.to_string());
                bail!("anvil from {} stopped before listening ({status})", path.display());
            }
        }
    };
    let endpoint = url::Url::parse(&format!("http://127.0.0.1:{port}")).context("anvil's address")?;
    let chain_id = banner.chain_id.context("anvil's banner named no chain id")?;
    anyhow::ensure!(!banner.signers.is_empty(), "anvil's banner listed no private keys");
    Ok(DevChain {
        child,
        endpoint,
        chain_id,
        addresses: banner.signers.iter().map(|s| s.address()).collect(),
        signers: banner.signers,
    })
}

/// What anvil prints before it listens: its keys, under "Private Keys", and its chain id, the line
/// after "Chain ID".
#[derive(Default)]
struct Banner {
    section: String,
    signers: Vec<PrivateKeySigner>,
    chain_id: Option<u64>,
}

impl Banner {
    /// Takes one line; the port once anvil says it is listening.
    fn read(&mut self, line: &str) -> anyhow::Result<Option<u16>> {
        let line = line.trim();
        if let Some(address) = line.strip_prefix("Listening on") {
            let address: std::net::SocketAddr = address.trim().parse().context("the listening address")?;
            return Ok(Some(address.port()));
        }
        match self.section.as_str() {
            "Private Keys" if line.starts_with('(') => {
                let key = line.rsplit(' ').next().unwrap_or_default();
                self.signers.push(key.parse().with_context(|| format!("a private key in {line:?}"))?);
            }
            "Chain ID" if !line.is_empty() && !line.starts_with('=') => {
                self.chain_id = Some(line.parse().with_context(|| format!("the chain id {line:?}"))?);
                self.section.clear();
            }
            _ => {}
        }
        if !line.is_empty() && line.chars().all(|c| c.is_ascii_alphabetic() || c == ' ') {
            self.section = line.to_owned();
        }
        Ok(None)
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A running anvil; dropping it kills the process.
pub struct DevChain {
    child: Child,
    endpoint: url::Url,
    chain_id: u64,
    signers: Vec<PrivateKeySigner>,
    addresses: Vec<Address>,
}

impl DevChain {
    pub fn endpoint(&self) -> url::Url {
        self.endpoint.clone()
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// A signer for development account `index` (0 to 9): anvil's well-known keys, funded with
    /// 10,000 ETH each.
    pub fn signer(&self, index: usize) -> PrivateKeySigner {
        self.signers[index].clone()
    }

    pub fn addresses(&self) -> &[Address] {
        &self.addresses
    }
}

impl Drop for DevChain {
    fn drop(&mut self) {
        // Its state lives in memory only: nothing to shut down gracefully.
        stop(&mut self.child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_stops_before_listening_is_an_error_not_a_wait() {
        let error = spawn_anvil_at(Path::new("/bin/false"), None).err().expect("no chain from /bin/false");
        assert!(error.to_string().contains("stopped before listening"), "{error:#}");
    }

    #[test]
    fn the_banner_gives_keys_chain_id_and_port() {
        let mut banner = Banner::default();
        let lines = [
            "Available Accounts",
            "==================",
            "(0) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (10000.000000000000000000 ETH)",
            "Private Keys",
            "==================",
            "",
            "(0) 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
            "Wallet",
            "Mnemonic:          test test test test test test test test test test test junk",
            "Chain ID",
            "==================",
            "",
            "31337",
            "Base Fee",
            "1000000000",
        ];
        for line in lines {
            assert_eq!(banner.read(line).unwrap(), None, "{line}");
        }
        assert_eq!(banner.read("Listening on 127.0.0.1:40123").unwrap(), Some(40123));
        assert_eq!(banner.chain_id, Some(31337));
        let addresses: Vec<Address> = banner.signers.iter().map(PrivateKeySigner::address).collect();
        assert_eq!(addresses, ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse::<Address>().unwrap()]);
    }
}
