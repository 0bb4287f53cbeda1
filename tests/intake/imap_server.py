"""A real IMAP server for the mailbox tests: Dovecot from Debian (scripts/system_deps.sh
installs dovecot-imapd), started with a throwaway configuration in a temporary directory,
listening with TLS (a self-signed certificate made here with ``cryptography``) on an
ephemeral port of 127.0.0.1.

Dovecot's master process must start as root (it drops privileges for its login and mail
processes; mail is owned by ``nobody`` here, because Dovecot never lets a user log in as
root). CI and this machine run the tests as root; elsewhere the tests are skipped with the
reason.
"""

from __future__ import annotations

import datetime
import imaplib
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_UID = 65534  # nobody
USER = "studio@mail.test"
PASSWORD = "imap-secret-1"


def available() -> str | None:
    """Why the server cannot run here, or None."""
    if not os.path.exists(DOVECOT):
        return "dovecot is not installed (scripts/system_deps.sh installs dovecot-imapd)"
    if os.geteuid() != 0:
        return "Dovecot's master process needs root (as in CI)"
    return None


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A year either side: OpenSSL checks it against the machine's clock, which is not
        # the tests' under TEST_CLOCK (tests/conftest.py).
        .not_valid_before(now - datetime.timedelta(days=366))
        .not_valid_after(now + datetime.timedelta(days=366))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DovecotServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="studiocrm-dovecot-"))
        # Dovecot's mail processes run as nobody and must reach the mail directory.
        os.chmod(self.root, 0o755)  # noqa: S103
        self.cert, self.key = make_certificate(self.root)
        self.port = free_port()
        self.home = self.root / "home"
        self.home.mkdir()
        os.chown(self.home, MAIL_UID, MAIL_UID)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={self.home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"dovecot exited: {output}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start\n{self.log()}")

    def kill(self) -> None:
        """The server goes away at once (all its processes), as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.client()
        try:
            status, data = imap.append(folder, None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every message in the folder, in order."""
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            status, data = imap.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes) and b"FLAGS" in item]
        finally:
            imap.logout()
