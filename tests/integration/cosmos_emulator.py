"""Run ``@vercel/cosmosdb-server`` (npm, pinned in package.json) for tests and benchmarks.

The package's bundled certificate expired in 2021 and names no host, so each start generates a short-lived
self-signed certificate for 127.0.0.1/localhost and hands it to the SDK as its CA bundle: TLS stays verified.
What the emulator lacks (measured): transactional batch, TTL, change feed, vector search; a read of a missing item
answers 500 instead of 404. ``CosmosDocumentStore`` copes with the 500; the rest is tested on recorded responses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "node_modules" / "@vercel" / "cosmosdb-server"
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="  # public

_SERVER_JS = """
const fs = require('fs');
const { createHttpsServer } = require(process.env.COSMOS_PKG);
const server = createHttpsServer({cert: fs.readFileSync(process.env.COSMOS_CERT),
                                  key: fs.readFileSync(process.env.COSMOS_KEYFILE), keepAlive: true});
server.listen(Number(process.env.COSMOS_PORT), '127.0.0.1', () => console.log('ready'));
"""


@dataclass
class CosmosEmulator:
    endpoint: str
    key: str
    ca_cert: str
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def available() -> bool:
    return PACKAGE.exists() and bool(_node())


def _node() -> str | None:
    from shutil import which

    return which("node")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cosmos-emulator.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cosmos-cert.pem", folder / "cosmos-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def start(folder: Path, port: int | None = None, timeout: float = 20) -> CosmosEmulator:
    node = _node()
    if not PACKAGE.exists() or not node:
        raise RuntimeError("@vercel/cosmosdb-server is not installed: run `make setup` (npm ci) first")
    port = port or _free_port()
    cert, key = make_certificate(folder)
    env = {**os.environ, "COSMOS_PKG": str(PACKAGE), "COSMOS_CERT": str(cert), "COSMOS_KEYFILE": str(key),
           "COSMOS_PORT": str(port)}
    log = open(folder / "cosmos-emulator.log", "ab")
    process = subprocess.Popen([node, "-e", _SERVER_JS], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cosmosdb-server exited; see {folder / 'cosmos-emulator.log'}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return CosmosEmulator(f"https://127.0.0.1:{port}", EMULATOR_KEY, str(cert), process)
        time.sleep(0.05)
    CosmosEmulator("", "", "", process).stop()
    raise RuntimeError("cosmosdb-server did not listen in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.cosmos_emulator",
                                     description="Run the local Cosmos DB emulator in the foreground.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--dir", default=str(REPO / ".data" / "cosmos"))
    args = parser.parse_args(argv)
    emulator = start(Path(args.dir), args.port)
    print(f"COSMOS_ENDPOINT={emulator.endpoint}\nCOSMOS_KEY={emulator.key}\nCOSMOS_CA_CERT={emulator.ca_cert}")
    try:
        emulator.process.wait()  # type: ignore[union-attr]
    except KeyboardInterrupt:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
