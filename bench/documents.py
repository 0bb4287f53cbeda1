"""Client document page throughput, and PDF first render vs cached download.

1. Requests per second and p50/p95 latency for the client's proposal page (a sent proposal
   awaiting acceptance: token lookup, view count, the live draft with its picker) and for a
   minimal Django view (full middleware, ``HttpResponse("ok")``), in the same gunicorn
   server run (2 sync workers, production settings, SQLite in a temp directory), loaded over
   loopback by a bounded Python load generator (threads + http.client) for a fixed time,
   alternating between the two targets so a load spike elsewhere hits both alike.
   Goal: document rps / minimal rps ≥ 0.8.
2. PDF of a 3-page proposal: the first render (the task's work, WeasyPrint) and the cached
   download of the same PDF through the client's PDF link. Goal: cached ≥ 50× faster.
3. One normal document render (``render_document``: the deal's data, then compile + render of
   the proposal template in a sandbox child process): the first in a fresh process (starts
   the fork server and a child) and the median of 20 after it; and the template alone,
   rendered in this process (``render_here``) and in the child (``render_source``), so the
   cost of the isolation shows by itself.

    .venv/bin/python bench/documents.py --quick     # about a minute
    .venv/bin/python bench/documents.py             # longer load rounds

The minimal view lives only in this benchmark: a settings module and a URLconf written to the
temp directory (its ``ROOT_URLCONF`` adds ``/__bench__/minimal/`` in front of the real URLs).
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PROJECT_DIR,
    bench_environment,
    percentile,
    print_table,
    run_load_threads,
)

# The client's document page against a bare Django view on the same server (was 0.5).
PAGE_GOAL_RATIO = 0.8

SETTINGS_MODULE = '''
"""Benchmark-only settings: the real ones, with a URLconf that adds a minimal view."""
from studiocrm.settings import *  # noqa: F403

ROOT_URLCONF = "bench_documents_urls"
'''

URLS_MODULE = """
from django.http import HttpResponse
from django.urls import include, path


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("__bench__/minimal/", minimal),
    path("", include("studiocrm.urls")),
]
"""

SEED = """
import json
from decimal import Decimal

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import Studio, User
from studiocrm.deals.services import create_deal
from studiocrm.documents import services
from studiocrm.documents.presenting import page_state
from studiocrm.estimates import services as estimate_services
from studiocrm.estimates.models import EstimateLine, Package, PriceList

studio = Studio.load()
studio.name = "Bench Studio"
studio.legal_name = "ООО «Бенч»"
studio.email = "hello@bench.test"
studio.save()
manager = User.objects.create_user("anna", "anna@bench.test", "x", first_name="Анна")
client = Client.objects.create(name="ООО «Ромашка»", legal_name="ООО «Ромашка»")
contact = Contact.objects.create(client=client, name="Ирина Петрова", email="irina@client.test")
deal = create_deal(title="Корпоративный сайт", client=client, contact=contact, actor=manager,
                   manager=manager, currency="RUB")
rub = PriceList.objects.get(default_key="default-rub")
estimate = estimate_services.create_estimate(
    deal, actor=manager, package=Package.objects.get(price_list=rub, code="corporate"))
main = estimate.options.get()
EstimateLine.objects.create(option=main, kind="service", name="Поддержка 3 месяца",
                            unit_price=Decimal("30000"), quantity=1, is_optional=True,
                            is_selected=False, position=999)
second = estimate_services.add_option(estimate, actor=manager, name="Лендинг")
estimate_services.apply_package(second, Package.objects.get(price_list=rub, code="landing"),
                                actor=manager)
estimate_services.save_estimate(estimate, actor=manager)
proposal = services.create_proposal(deal, actor=manager)
services.send_document(proposal, actor=manager)
state = page_state(proposal)
pdf = services.request_pdf(proposal, html=state.html, title=proposal.title,
                           revision=state.revision)
print("@@" + json.dumps({"token": proposal.link_token(), "pdf": pdf.pk}))
"""

RENDER_PDF = """
import json, time
from studiocrm.documents import pdf
from studiocrm.documents.models import PdfFile
started = time.perf_counter()
status = pdf.render_pdf_file({pdf_id})
elapsed = time.perf_counter() - started
row = PdfFile.objects.get(pk={pdf_id})
print("@@" + json.dumps({{"status": status, "seconds": elapsed, "pages": row.pages}}))
"""


RENDER = """
import json, statistics, time
from studiocrm.documents.models import Document
from studiocrm.documents.rendering import render_document
document = Document.objects.get(kind="proposal")
started = time.perf_counter()
render_document(document)
first = time.perf_counter() - started
times = []
for _ in range(20):
    started = time.perf_counter()
    render_document(document)
    times.append(time.perf_counter() - started)
from studiocrm.documents import sandbox
from studiocrm.documents.context import build_context
context = build_context(document)
medians = {}
for name, function in (("in_process", sandbox.render_here), ("isolated", sandbox.render_source)):
    function(document.source, context)
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        function(document.source, context)
        samples.append(time.perf_counter() - started)
    medians[name] = statistics.median(samples) * 1000
print("@@" + json.dumps({"first_ms": first * 1000, "median_ms": statistics.median(times) * 1000,
                         "template_in_process_ms": medians["in_process"],
                         "template_isolated_ms": medians["isolated"]}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_python(code: str, environment: dict[str, str]) -> dict:
    """Run code in a Django-configured child process; return its @@ JSON line."""
    script = "import django\ndjango.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    line = next(line for line in result.stdout.splitlines() if line.startswith("@@"))
    return json.loads(line[2:])


def fetch(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if fetch(port, "/__bench__/minimal/", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def load(port: int, path: str, seconds: float, threads: int) -> dict:
    """GET path from `threads` threads for `seconds`; count only 200 answers."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                status, _body = fetch(port, path)
            except OSError:
                errors[index] += 1
                continue
            if status == 200:
                latencies[index].append(time.perf_counter() - started)
            else:
                errors[index] += 1

    return run_load_threads(worker, threads, latencies, errors)


def summarise(rounds: list[dict]) -> dict:
    requests = sum(item["requests"] for item in rounds)
    seconds = sum(item["seconds"] for item in rounds)
    latencies = [value for item in rounds for value in item["latencies"]]
    return {
        "rps": requests / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "p95_ms": percentile(latencies, 0.95) * 1000 if latencies else float("nan"),
        "requests": requests,
        "errors": sum(item["errors"] for item in rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short load rounds (about 12 s)")
    parser.add_argument("--threads", type=int, default=4, help="load generator threads")
    arguments = parser.parse_args()
    round_seconds = 3.0 if arguments.quick else 10.0
    rounds = 2 if arguments.quick else 3

    workdir = Path(tempfile.mkdtemp(prefix="studiocrm-bench-documents-"))
    (workdir / "bench_documents_settings.py").write_text(SETTINGS_MODULE, encoding="utf-8")
    (workdir / "bench_documents_urls.py").write_text(URLS_MODULE, encoding="utf-8")
    environment = bench_environment(
        DJANGO_SETTINGS_MODULE="bench_documents_settings",
        DATA_DIR=str(workdir / "data"),
        STATIC_ROOT=str(workdir / "static"),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        # Two gunicorn workers need a cache they share (the settings refuse a per-process
        # one, see core.checks): a Redis database for this benchmark, emptied before use.
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14"),
    )
    environment["PYTHONPATH"] = os.pathsep.join([str(workdir), environment["PYTHONPATH"]])
    server = None
    try:
        print("Preparing: migrate, collectstatic, seed a sent proposal…", flush=True)
        manage = [sys.executable, str(PROJECT_DIR / "manage.py")]
        for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run(manage + command, env=environment, cwd=PROJECT_DIR, check=True)
        run_python("from django.core.cache import cache\ncache.clear()\nprint('@@{}')", environment)
        seeded = run_python(SEED, environment)
        print("Render: one proposal, first and then 20 more…", flush=True)
        render = run_python(RENDER, environment)
        page_path = f"/c/doc/{seeded['token']}/"
        pdf_path = f"/c/doc/{seeded['token']}/pdf/"

        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "studiocrm.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            env=environment,
            cwd=PROJECT_DIR,
        )
        wait_until_up(port)
        status, body = fetch(port, page_path)
        if status != 200 or "Коммерческое предложение".encode() not in body:
            raise RuntimeError(f"the document page answered {status}")

        print(
            f"Load: {rounds} rounds × {round_seconds:.0f} s per target, "
            f"{arguments.threads} threads",
            flush=True,
        )
        load(port, "/__bench__/minimal/", 1.0, arguments.threads)  # warm both workers
        load(port, page_path, 1.0, arguments.threads)
        minimal_rounds, page_rounds = [], []
        for _ in range(rounds):
            minimal_rounds.append(
                load(port, "/__bench__/minimal/", round_seconds, arguments.threads)
            )
            page_rounds.append(load(port, page_path, round_seconds, arguments.threads))
        minimal = summarise(minimal_rounds)
        page = summarise(page_rounds)
        ratio = page["rps"] / minimal["rps"] if minimal["rps"] else 0.0

        print("PDF: first render of the proposal, then the cached download…", flush=True)
        rendered = run_python(RENDER_PDF.format(pdf_id=seeded["pdf"]), environment)
        downloads = []
        for _ in range(20):
            started = time.perf_counter()
            status, body = fetch(port, pdf_path)
            downloads.append(time.perf_counter() - started)
            if status != 200 or not body.startswith(b"%PDF"):
                raise RuntimeError(f"the cached PDF answered {status}")
        cached = statistics.median(downloads)
        speedup = rendered["seconds"] / cached if cached else 0.0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print_table(
        ["target", "rps", "p50 ms", "p95 ms", "requests", "errors"],
        [
            [
                "minimal view",
                round(minimal["rps"], 1),
                round(minimal["p50_ms"], 2),
                round(minimal["p95_ms"], 2),
                minimal["requests"],
                minimal["errors"],
            ],
            [
                "client document page",
                round(page["rps"], 1),
                round(page["p50_ms"], 2),
                round(page["p95_ms"], 2),
                page["requests"],
                page["errors"],
            ],
        ],
    )
    print(f"\nratio document/minimal: {ratio:.2f} (goal ≥ {PAGE_GOAL_RATIO})")
    print(
        f"PDF ({rendered['pages']} pages): first render {rendered['seconds'] * 1000:.0f} ms, "
        f"cached download {cached * 1000:.2f} ms (median of 20), {speedup:.0f}× faster "
        "(goal ≥ 50×)"
    )
    print(
        f"document render: first {render['first_ms']:.0f} ms (fresh process), "
        f"then {render['median_ms']:.1f} ms (median of 20); the template alone "
        f"{render['template_in_process_ms']:.1f} ms in process, "
        f"{render['template_isolated_ms']:.1f} ms in a sandbox child"
    )
    figures = {
        "benchmark": "documents",
        "quick": arguments.quick,
        "threads": arguments.threads,
        "gunicorn_workers": 2,
        **{f"minimal_{key}": round(value, 3) for key, value in minimal.items()},
        **{f"document_page_{key}": round(value, 3) for key, value in page.items()},
        "ratio_vs_baseline": round(ratio, 3),
        "ratio_goal": PAGE_GOAL_RATIO,
        "ratio_goal_met": ratio >= PAGE_GOAL_RATIO,
        "pdf_pages": rendered["pages"],
        "pdf_first_render_ms": round(rendered["seconds"] * 1000, 1),
        "pdf_cached_download_ms": round(cached * 1000, 3),
        "pdf_cached_speedup_ratio": round(speedup, 1),
        "pdf_goal_met": speedup >= 50,
        "render_first_ms": round(render["first_ms"], 1),
        "render_median_ms": round(render["median_ms"], 2),
        "template_in_process_ms": round(render["template_in_process_ms"], 2),
        "template_isolated_ms": round(render["template_isolated_ms"], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
