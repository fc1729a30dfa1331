//! A NATS server with JetStream of a test's own: Debian's `nats-server` on a free loopback port,
//! its storage in a temporary folder, killed when dropped. Without `nats-server` on the path NATS
//! tests are skipped, unless `COOP_REQUIRE_NATS=1` (as `make test` sets), which makes it a failure.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestNats {
    /// Where clients connect: `nats://127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    _storage: tempfile::TempDir,
}

impl TestNats {
    /// A started server, or `None` when NATS tests are skipped.
    pub fn start() -> Option<TestNats> {
        if Command::new("nats-server").arg("--version").output().is_err() {
            assert!(
                std::env::var("COOP_REQUIRE_NATS").is_err(),
                "COOP_REQUIRE_NATS is set but nats-server is missing (scripts/setup.sh --test installs it)"
            );
            eprintln!("skipped: nats-server is not installed");
            return None;
        }
        // A free port can be taken by another test's server between the probe and the start: then
        // this server exits at once while the other answers. Keep only a server still running once
        // the port listens, and try another port otherwise.
        let storage = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let (port, child) = loop {
            assert!(started.elapsed() < Duration::from_secs(20), "nats-server did not start within 20 s");
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new("nats-server")
                .args(["--jetstream", "--addr", "127.0.0.1", "--port", &port.to_string(), "--store_dir"])
                .arg(storage.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start nats-server");
            let listening = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
                && listening.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(100));
            match child.try_wait() {
                Ok(None) => {
                    assert!(
                        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
                        "nats-server did not listen within 10 s"
                    );
                    break (port, child);
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        };
        Some(TestNats { url: format!("nats://127.0.0.1:{port}"), child, _storage: storage })
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
