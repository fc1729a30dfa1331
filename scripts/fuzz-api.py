#!/usr/bin/env python3
"""Fuzzes the REST API with schemathesis against `coop dev`, signed in.

Starts `coop dev` (its own anvil, the demo marketplace) on a free loopback port with the rate limits
off, signs in as the demo union's owner (anvil signs for its development accounts), and runs
schemathesis over every operation of the OpenAPI document with every check, stateful links
included: no 5xx, no schema-valid request refused and no schema-violating request accepted
(scripts/schemathesis.toml lists the refusals a schema cannot state). Exits with schemathesis's
status. Sign-out is left out: it would end the session the run is signed in with.

    scripts/fuzz-api.py [--max-examples N] [--seed S]
"""

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/coop-target"))
# The demo marketplace's union owner (scripts and seed: anvil account 2).
UNION_OWNER = 2


def start_dev(data_dir: str):
    env = {
        **os.environ,
        "COOP_LISTEN": "127.0.0.1:0",
        "COOP_DATA_DIR": data_dir,
        # One client sends thousands of requests a second here; the limits have tests of their own.
        "COOP_REQUESTS_PER_SECOND_PER_IP": "0",
        "COOP_REQUESTS_PER_SECOND_PER_ACCOUNT": "0",
        "RUST_LOG": "warn,startup=info,dev=info",
        "NO_COLOR": "1",
        "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}",
    }
    binary = os.environ.get("COOP_BIN", str(TARGET / "debug" / "coop"))
    server = subprocess.Popen([binary, "dev"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found, log = {}, []

    def read():
        for line in server.stdout:
            log.append(line)
            for key, pattern in (("chain", r"started anvil url=(\S+)"), ("app", r"listening on (http://\S+)")):
                match = re.search(pattern, line)
                if match and key not in found:
                    found[key] = match.group(1)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.time() + 120
    while not ("chain" in found and "app" in found):
        if server.poll() is not None or time.time() > deadline:
            server.kill()
            sys.exit("coop dev did not start:\n" + "".join(log))
        time.sleep(0.2)
    return server, found["app"], found["chain"], log


def rpc(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["result"]


def sign_in(app: str, chain: str) -> str:
    """The session cookie's value for the union owner, signed in as the web page does."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for _ in range(100):
        try:
            with opener.open(f"{app}/readyz", timeout=5):
                break
        except OSError:
            time.sleep(0.2)
    with opener.open(f"{app}/api/v1/auth/nonce", timeout=30) as answer:
        grant = json.load(answer)
    address = rpc(chain, "eth_accounts", [])[UNION_OWNER]
    host = app.split("://", 1)[1]
    message = (
        f"{host} wants you to sign in with your Ethereum account:\n{to_checksum(chain, address)}\n\n"
        f"Sign in to Coop.\n\nURI: {app}\nVersion: 1\nChain ID: {int(rpc(chain, 'eth_chainId', []), 16)}\n"
        f"Nonce: {grant['nonce']}\nIssued At: {grant['issuedAt']}\nExpiration Time: {grant['expirationTime']}"
    )
    signature = rpc(chain, "personal_sign", ["0x" + message.encode().hex(), address])
    body = json.dumps({"message": message, "signature": signature}).encode()
    request = urllib.request.Request(f"{app}/api/v1/auth/sign-in", body, {"content-type": "application/json"})
    with opener.open(request, timeout=30) as answer:
        assert answer.status == 200, answer.status
    return next(c for c in jar if c.name == "coop_session").value


def to_checksum(chain: str, address: str) -> str:
    """EIP-55, as a sign-in message writes the address; keccak256 is the chain's (`web3_sha3`)."""
    lower = address.lower()[2:]
    digest = rpc(chain, "web3_sha3", ["0x" + lower.encode().hex()])[2:]
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


# schemathesis's command line, run by the interpreter it is installed for. CPython 3.11 before 3.11.8
# can raise SystemError when re-parsing a module's source (gh-106905), which hypothesis does to name
# a lambda in a message; a name is not worth a failed run.
SCHEMATHESIS = """
import sys
import hypothesis.internal.lambda_sources as sources
describe = sources._lambda_description
def named(*args, **kwargs):
    try:
        return describe(*args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"
sources._lambda_description = named
from schemathesis.cli import schemathesis
sys.exit(schemathesis())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    venv = Path(os.environ.get("COOP_VENV", "/var/tmp/coop-venv"))
    python = str(venv / "bin" / "python3") if (venv / "bin" / "st").exists() else sys.executable
    if subprocess.call([python, "-c", "import schemathesis"], stderr=subprocess.DEVNULL) != 0:
        sys.exit("schemathesis is not installed (scripts/setup.sh --test installs it)")
    data_dir = tempfile.mkdtemp(prefix="coop-fuzz-")
    server, app, chain, log = start_dev(data_dir)
    try:
        # The document's `session` scheme carries it (scripts/schemathesis.toml): schemathesis sends it
        # where an operation asks for it, and leaves it out to check that the operation then refuses.
        session = sign_in(app, chain)
        run = [
            python, "-c", SCHEMATHESIS, "--config-file", str(ROOT / "scripts" / "schemathesis.toml"),
            "run", f"{app}/api/v1/openapi.json",
            "--checks", "all",
            "--exclude-path", "/api/v1/auth/sign-out",
            # A live feed answers for as long as the client listens, and the socket only to a
            # WebSocket handshake (server/tests/api/streams.rs covers both).
            "--exclude-path", "/api/v1/products/{id}/streams/{stream}/live",
            "--exclude-path", "/api/v1/products/{id}/streams/{stream}/socket",
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", "2",
            "--request-timeout", "30",
        ]
        status = subprocess.call(run, cwd=data_dir, env={**os.environ, "COOP_SESSION": session})
        if status != 0:
            print("".join(log[-200:]), file=sys.stderr)
        return status
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
