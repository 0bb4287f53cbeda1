"""A production-like studiocrm under gunicorn on 127.0.0.1, for attacks as a stranger makes
them: DEBUG off, its own SQLite database and static files, the repository's gunicorn.conf.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

PROJECT_DIR = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PASSWORD = "correct horse battery"


def base_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "WEB_CONCURRENCY"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="studiocrm.settings",
        PYTHONPATH=str(PROJECT_DIR / "src"),
        DEBUG="false",
        SECRET_KEY="real-server-test-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        # A fixed test key: production settings refuse to start without one.
        FIELD_ENCRYPTION_KEY="Yzk1ZjY0NjE0YjY0NDI0YTg4MWQ1ZjQyYzQ5ZDdhYjg=",
        ALLOWED_HOSTS="127.0.0.1",
        BASE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATA_DIR=str(data_dir),
        STATIC_ROOT=str(data_dir / "static"),
        EMAIL_URL="console://",
        LOG_LEVEL="WARNING",
    )
    environment.update(extra)
    return environment


def prepare_site(directory: Path) -> Path:
    """Migrate a SQLite database and collect static files once; returns the data dir."""
    environment = base_environment(directory)
    manage = [sys.executable, str(PROJECT_DIR / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(manage + command, env=environment, cwd=PROJECT_DIR, check=True)
    return directory


def run_python(data_dir: Path, code: str, **extra: str) -> dict:
    """Run code with Django set up against the server's database; returns its @@ JSON line."""
    script = "import django, json\ndjango.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=base_environment(data_dir, **extra),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("@@"))
    return json.loads(line[2:])


def make_user(data_dir: Path, username: str, email: str, role: str = "manager") -> None:
    run_python(
        data_dir,
        "from studiocrm.core.models import User\n"
        f"User.objects.create_user({username!r}, {email!r}, {PASSWORD!r}, role={role!r})\n"
        "print('@@{}')",
    )


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path
    data_dir: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str, dict[str, str]]:
        """One request on a fresh connection; returns status, headers, body, set cookies."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        jar = cookies if cookies is not None else {}
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if jar:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookies: dict[str, str] = {}
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    set_cookies[name] = morsel.value
            return response.status, dict(response.headers), text, set_cookies
        finally:
            connection.close()

    def form_session(self, path: str) -> tuple[dict[str, str], str]:
        """GET a form page: the cookies to send back and its CSRF token."""
        status, _headers, body, cookies = self.request("GET", path)
        assert status == 200, (status, body[:500])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        return cookies, token

    def worker_pids(self) -> set[str]:
        """Process ids of the workers that answered, from the access log."""
        return set(re.findall(r"^pid=<?(\d+)>? ", self.log_path.read_text(), flags=re.MULTILINE))


@contextmanager
def gunicorn(template: Path, workdir: Path, *, workers: int = 1, **extra: str):
    """Serve a copy of a prepared site with gunicorn on a free port."""
    data_dir = workdir / "site"
    shutil.copytree(template, data_dir)
    log_path = workdir / "gunicorn.log"
    environment = base_environment(data_dir, **extra)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                GUNICORN,
                "--workers",
                str(workers),
                "--bind",
                "127.0.0.1:0",
                "--access-logfile",
                "-",
                "--access-logformat",
                "pid=%(p)s %(s)s %(r)s",
            ],
            env=environment,
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        port = _wait_for_port(process, log_path)
        yield Server(port=port, process=process, log_path=log_path, data_dir=data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
        if match and re.search(r"Booting worker", log_path.read_text()):
            port = int(match.group(1))
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/login/", headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200:
                    return port
            except OSError:
                pass
            finally:
                connection.close()
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not come up: {log_path.read_text()[-3000:]}")
