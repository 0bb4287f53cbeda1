"""The deploy bundle: compose.yaml, the Dockerfile and the Caddyfile.

No container runtime here (`docker compose config` needs its plugin): the files are read as
data and checked for what a studio relies on — every image pinned to a version, the
services and their wiring, the shared cache, the volumes, non-root, the health checks.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^[a-z0-9./-]+:\d+(\.\d+)+(-[a-z0-9.]+)*$")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_the_services_with_pinned_images():
    services = compose()["services"]
    assert set(services) == {"db", "cache", "migrate", "web", "worker", "proxy"}
    images = {name: service.get("image") for name, service in services.items()}
    assert images["db"].startswith("postgres:15.")
    assert images["cache"].startswith("redis:7.")
    assert images["proxy"].startswith("caddy:2.")
    for name in ("db", "cache", "proxy"):
        assert PINNED.match(images[name]), f"{name}: {images[name]} is not pinned to a version"
    for name in ("migrate", "web", "worker"):
        assert services[name]["build"] == "."
        assert services[name]["env_file"] == ".env"


def test_web_and_worker_scale_and_share_the_database_cache_and_files():
    services = compose()["services"]
    web, worker = services["web"], services["worker"]
    assert web["deploy"]["replicas"] == "${WEB_REPLICAS:-2}"
    assert worker["deploy"]["replicas"] == "${WORKER_REPLICAS:-2}"
    assert web["command"][0] == "gunicorn" and "--threads" in web["command"]
    # gunicorn's control socket would go to $HOME, which the image's user cannot write.
    assert "--no-control-socket" in web["command"]
    assert worker["command"] == ["python", "manage.py", "worker"]
    for service in (web, worker):
        environment = service["environment"]
        assert environment["CACHE_URL"] == "redis://cache:6379/0"
        assert environment["DATABASE_URL"].startswith("postgres://studiocrm:")
        assert environment["DATABASE_URL"].endswith("@db:5432/studiocrm")
        assert environment["DEBUG"] == "false"
        assert environment["LOG_FORMAT"] == "json"
        assert "media:/data" in service["volumes"]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert set(compose()["volumes"]) >= {"pgdata", "media", "caddy_data"}


def test_caddy_terminates_tls_in_front_of_every_web_replica():
    proxy = compose()["services"]["proxy"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert caddyfile.count("{") == caddyfile.count("}")
    assert "{$STUDIOCRM_DOMAIN} {" in caddyfile  # a domain: Caddy gets the certificate
    assert "dynamic a web 8000" in caddyfile
    assert "header_up X-Request-ID" in caddyfile


def test_the_dockerfile_is_debian_pinned_non_root_with_weasyprint_libraries():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases[-1] == "python:3.11.11-slim-bookworm"
    assert all(PINNED.match(base) for base in bases), bases
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert library in dockerfile
    assert re.search(r"^USER studiocrm$", dockerfile, flags=re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert "pip install -c constraints.txt" in dockerfile
    assert dockerfile.rstrip().splitlines()[-1].startswith('CMD ["gunicorn"')


def test_every_variable_compose_needs_is_in_env_example():
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in required | {"LOG_FORMAT", "OPS_WORKER_STALE_SECONDS"}:
        assert re.search(rf"^#?\s*{name}=", example, flags=re.MULTILINE), name


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for name in (".env", ".venv", "var", "node_modules", ".git"):
        assert name in ignored, name
