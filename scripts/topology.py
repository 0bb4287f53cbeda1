"""Start the production topology on this machine, without containers.

    .venv/bin/python scripts/topology.py [--web 2] [--workers 2]

What compose.yaml runs in containers, as plain processes: a fresh PostgreSQL database on the
server at TOPOLOGY_POSTGRES (default the local one), copied from a migrated template database
kept there per set of migrations; the database is dropped at the end, the server is never
restarted; Redis at TOPOLOGY_REDIS as the shared cache (a key prefix of its
own), N gunicorn web processes on their own loopback ports, N `manage.py worker` processes,
and an SMTP sink (aiosmtpd) that keeps every message the workers deliver. It waits until
every web process answers /readyz with 200 (which needs a worker heartbeat), prints the
addresses and runs until Ctrl+C.

tests/ops/test_topology.py and bench/topology.py drive it through ``Topology``.
There is no reverse proxy: callers address the web processes in turn (Caddy's round robin).
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
from aiosmtpd.controller import Controller

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
POSTGRES = os.environ.get("TOPOLOGY_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("TOPOLOGY_REDIS", "redis://127.0.0.1:6379/0")
# Collected static files (compressed, with the manifest) are kept between runs: collecting
# takes longer than starting everything else.
STATIC_ROOT = PROJECT_DIR / "var" / "topology-static"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def received(self) -> list[email.message.EmailMessage]:
        with self.lock:
            return list(self.messages)


@dataclass
class Topology:
    web: int = 2
    workers: int = 2
    debug: bool = True
    env: dict[str, str] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"studiocrm_topology_{secrets.token_hex(4)}")
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    web_urls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="studiocrm-topology-"))
        self.sink = MailSink()
        self.database_url = f"{POSTGRES}/{self.database}"
        self.ports = [free_port() for _ in range(self.web)]
        self.web_urls = [f"http://127.0.0.1:{port}" for port in self.ports]

    # The environment every process shares: one database, one cache, one secret.
    def environment(self) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST", "DATABASE_URL", "CACHE_"))
        }
        environment.update(
            {
                "PYTHONPATH": str(PROJECT_DIR / "src"),
                "DJANGO_SETTINGS_MODULE": "studiocrm.settings",
                "DEBUG": "true" if self.debug else "false",
                "SECRET_KEY": self.secret,
                "FIELD_ENCRYPTION_KEY": "dG9wb2xvZ3ktb25seS1maWVsZC1lbmNyeXB0aW9uLWs=",
                "DATABASE_URL": self.database_url,
                "CACHE_URL": REDIS,
                "CACHE_KEY_PREFIX": f"topology-{self.database}",
                "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
                "BASE_URL": self.web_urls[0],
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATA_DIR": str(self.dir / "data"),
                "STATIC_ROOT": str(STATIC_ROOT),
                "WEB_CONCURRENCY": str(self.web),
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO",
                "OPS_HEARTBEAT_SECONDS": "1",
                "OUTBOX_SWEEP_SECONDS": "5",
                "SECURE_SSL_REDIRECT": "false",
            }
        )
        environment.update(self.env)
        return environment

    @property
    def secret(self) -> str:
        if not hasattr(self, "_secret"):
            self._secret = secrets.token_urlsafe(50)
        return self._secret

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(  # noqa: S603 (our own manage.py, arguments from our callers)
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=PROJECT_DIR,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(  # noqa: S603 (our own commands)
            command,
            cwd=PROJECT_DIR,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def collect_static(self) -> None:
        manifest = STATIC_ROOT / "staticfiles.json"
        sources = (PROJECT_DIR / "src").glob("**/static/**/*")
        newest = max((path.stat().st_mtime for path in sources if path.is_file()), default=0)
        if not manifest.exists() or manifest.stat().st_mtime < newest:
            self.manage("collectstatic", "--noinput", "-v0")

    def start_web(self, index: int) -> None:
        self._spawn(
            f"web{index + 1}",
            [
                str(VENV_BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.ports[index]}",
                "--workers",
                "1",
                "--threads",
                "4",
                # gunicorn's control socket defaults to one path per user
                # (~/.gunicorn/gunicorn.ctl): several servers on one machine would share it.
                "--no-control-socket",
            ],
        )

    def start_worker(self, index: int) -> None:
        self._spawn(f"worker{index + 1}", [str(VENV_BIN / "python"), "manage.py", "worker"])

    def create_database(self) -> None:
        """A fresh database, copied from a migrated template kept on the server for this
        exact set of migrations (migrating from nothing takes most of a start)."""
        digest = hashlib.sha256()
        for path in sorted((PROJECT_DIR / "src").glob("**/migrations/*.py")):
            digest.update(path.read_bytes())
        template = f"studiocrm_topology_template_{digest.hexdigest()[:12]}"
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            names = {
                row[0]
                for row in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s",
                    ("studiocrm_topology_template_%",),
                )
            }
            if template not in names:
                for old in names:  # templates of older migrations
                    connection.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
                building = f"{template}_building_{secrets.token_hex(3)}"
                connection.execute(f'CREATE DATABASE "{building}"')
                try:
                    self.database_url = f"{POSTGRES}/{building}"
                    self.manage("migrate", "--noinput")
                finally:
                    self.database_url = f"{POSTGRES}/{self.database}"
                try:
                    connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
                except psycopg.errors.DuplicateDatabase:  # another run built it meanwhile
                    connection.execute(f'DROP DATABASE "{building}"')
            connection.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')

    def start(self, *, timeout: float = 120) -> Topology:
        self.sink.start()
        self.create_database()
        if not self.debug:  # production settings serve static files from the manifest
            self.collect_static()
        for index in range(self.web):
            self.start_web(index)
        for index in range(self.workers):
            self.start_worker(index)
        self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, *, timeout: float = 120) -> None:
        """Until every web process answers /readyz with 200 (database, cache, workers), or
        /healthz when no worker was asked for."""
        probe = "/readyz" if self.workers else "/healthz"
        deadline = time.monotonic() + timeout
        pending = set(self.web_urls)
        last = ""
        while pending and time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log(name)[-3000:]}")
            for url in sorted(pending):
                with contextlib.suppress(requests.ConnectionError):
                    answer = requests.get(f"{url}{probe}", timeout=10)
                    last = answer.text
                    if answer.status_code == 200:
                        pending.discard(url)
            time.sleep(0.3)
        if pending:
            raise RuntimeError(f"not ready after {timeout}s: {sorted(pending)} {last}")

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        process = self.processes[name]
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        return process.returncode

    def stop(self) -> None:
        for process in self.processes.values():  # all at once, then wait for each
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for name in list(self.processes):
            self.stop_process(name)
        self.sink.stop()
        if os.environ.get("TOPOLOGY_KEEP_LOGS") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection,
        ):
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._clear_cache()

    def _clear_cache(self) -> None:
        """The cache keys this topology wrote (its own prefix) go with it."""
        with contextlib.suppress(Exception):
            import redis

            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(match=f"topology-{self.database}:*", count=500):
                client.delete(key)

    def __enter__(self) -> Topology:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    # `kill` (SIGTERM) stops it as cleanly as Ctrl+C.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    with Topology(web=arguments.web, workers=arguments.workers) as topology:
        print(f"database  {topology.database_url}")
        print(f"cache     {REDIS} (prefix topology-{topology.database})")
        for url in topology.web_urls:
            print(f"web       {url}   ({url}/readyz)")
        print(f"workers   {arguments.workers}")
        print(f"smtp sink 127.0.0.1:{topology.sink.port}")
        print(f"logs      {topology.dir} (removed at the end unless TOPOLOGY_KEEP_LOGS=1)")
        print("Ctrl+C stops everything and drops the database.")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == "__main__":
    main()
