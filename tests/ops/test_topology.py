"""The production topology on this machine (scripts/topology.py): a fresh PostgreSQL database,
Redis as the shared cache, two gunicorn web processes, two workers and an SMTP receiver.

A lead becomes a paid invoice over HTTP only, every request going to the other web process
than the one before: the lead form, the brief, the estimate, the proposal accepted, the
contract signed, the deposit invoice and its bank transfer marked as received. Along the way:
a session made on one process works on the other, the lead form's rate limit counts across
both (the shared cache), and every email the workers deliver arrives exactly once. Then one
worker is killed: /readyz stays green on the other, and the owner is told once.

Slow (about a minute): TOPOLOGY_TESTS=0 skips it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest

from tests.ops.topology_support import Visitor, links, load_topology_module, wait_for

pytestmark = [
    pytest.mark.topology,
    pytest.mark.skipif(
        os.environ.get("TOPOLOGY_TESTS") == "0", reason="TOPOLOGY_TESTS=0 skips the topology"
    ),
]

PASSWORD = "correct horse battery"
CLIENT_EMAIL = "anna@roga-kopyta.ru"
SETUP = """
from studiocrm.billing.models import ProviderAccount
from studiocrm.core.models import User
from tests.e2e.sales_path_support import russian_studio

russian_studio()
ProviderAccount.objects.update_or_create(provider="bank_transfer", defaults={"enabled": True})
for role in ("manager", "owner"):
    User.objects.create_user(role, f"{role}@studio.test", PASSWORD, role=role)
""".replace("PASSWORD", repr(PASSWORD))

BRIEF_ANSWERS = {
    "q_company": "Рога и копыта",
    "q_activity": "Фермерские продукты с доставкой по Москве",
    "q_goal": "Продажи онлайн и меньше заказов по телефону",
    "q_audience": "Семьи, которые покупают продукты раз в неделю",
    "q_products_count": "150",
    "q_pages": ["home", "about", "catalog", "product", "cart", "checkout", "contacts"],
    "q_features": ["catalog", "cart", "online_payment", "search"],
    "q_payment_methods": ["card"],
    "q_delivery": "yes",
    "q_content_ready": "partial",
    "q_has_brandbook": "no",
    "q_budget": "300k_700k",
    "full_form": "1",
}


@pytest.fixture(scope="module")
def topology():
    module = load_topology_module()
    # A tight lead-form limit (3 a minute per address) shows it is counted across processes;
    # a worker silent for 4 s counts as stopped.
    env = {"INTAKE_RATE": "3/m", "OPS_WORKER_STALE_SECONDS": "4"}
    with module.Topology(web=2, workers=2, env=env) as running:
        running.manage("shell", "-c", SETUP)
        yield running


def mail_to(topology, address: str, path: str, count: int = 1):
    """Wait for ``count`` messages to ``address`` carrying a link under ``path``."""
    base = topology.web_urls[0]

    def found():
        matching = [
            message
            for message in topology.sink.received()
            if message["To"] == address and links(message, base, path)
        ]
        return matching if len(matching) >= count else None

    return wait_for(found, what=f"mail to {address} with {path}")[count - 1]


def stage(topology, deal_id: int) -> str:
    return topology.sql("SELECT stage_id FROM deals_deal WHERE id = %s", (deal_id,))[0][0]


def test_a_lead_becomes_a_paid_invoice_across_two_web_processes_and_two_workers(topology):
    base = topology.web_urls[0]
    client = Visitor(topology.web_urls, "client")
    desk = Visitor(topology.web_urls, "manager")
    started = time.monotonic()

    # 1. The lead, through the intake endpoint the site's snippet posts to. ---------------
    lead = {
        "name": "Анна Петрова",
        "email": CLIENT_EMAIL,
        "phone": "+7 916 123-45-67",
        "company": "Рога и копыта",
        "message": "Нужен интернет-магазин фермерских продуктов.",
        "submission_id": "0" * 31 + "1",
    }
    as_json = {"Accept": "application/json"}
    assert client.post("/lead/submit/", lead, headers=as_json).json() == {"ok": True}
    # A double submit on the other process: the same answer, no second deal.
    assert client.post("/lead/submit/", lead, headers=as_json).json() == {"ok": True}
    [(deal_id, deal_stage)] = topology.sql("SELECT id, stage_id FROM deals_deal")
    assert deal_stage == "new"
    # A malformed one (third request from this address: still within 3 a minute)...
    broken = client.post("/lead/submit/", {"name": ""}, headers=as_json, expect=400)
    assert broken.json()["ok"] is False
    # ...and the fourth is refused, though each process has seen only two: the limit
    # is counted in the shared cache.
    refused = client.post("/lead/submit/", lead, headers=as_json, expect=429)
    assert int(refused.headers["Retry-After"]) > 0
    assert topology.sql("SELECT count(*) FROM deals_deal") == [(1,)]

    # 2. The manager logs in on one process and works on the other. ----------------------
    deal_link = links(mail_to(topology, "manager@studio.test", "/deals/"), base, "/deals/")[0]
    login = desk.get("/login/")
    desk.submit(login, "/login/", {"username": "manager", "password": PASSWORD})
    deal_page = desk.get(deal_link)
    assert desk.served_by[-1] != desk.served_by[-2]
    assert "Рога и копыта" in deal_page.text

    # 3. The brief: sent by the manager, answered by the client. -------------------------
    [(template_id,)] = topology.sql(
        "SELECT id FROM briefs_brieftemplate WHERE default_key = 'store' AND language = 'ru'"
    )
    desk.submit(deal_page, f"/briefs/deal/{deal_id}/send/", {"template": str(template_id)})
    assert stage(topology, deal_id) == "brief_sent"
    brief_link = links(mail_to(topology, CLIENT_EMAIL, "/c/b/"), base, "/c/b/")[0]
    brief_page = client.get(brief_link)
    thanks = client.submit(brief_page, "/submit/", BRIEF_ANSWERS)
    assert thanks.url.endswith("/thanks/")
    assert stage(topology, deal_id) == "brief_received"

    # 4. The estimate drafted from the brief and saved. ----------------------------------
    deal_page = desk.get(deal_link)
    editor = desk.submit(deal_page, f"/estimates/deal/{deal_id}/draft/")
    [(estimate_id,)] = topology.sql("SELECT id FROM estimates_estimate")
    desk.submit(editor, f"/estimates/{estimate_id}/save/")
    assert stage(topology, deal_id) == "estimated"

    # 5. The proposal, sent and accepted by the client. ----------------------------------
    deal_page = desk.get(deal_link)
    proposal_page = desk.submit(deal_page, f"/documents/deal/{deal_id}/proposal/")
    [(proposal_id,)] = topology.sql(
        "SELECT id FROM documents_document WHERE kind = 'proposal' AND deal_id = %s", (deal_id,)
    )
    desk.submit(proposal_page, f"/documents/{proposal_id}/send/")
    assert stage(topology, deal_id) == "proposal_sent"
    proposal_link = links(mail_to(topology, CLIENT_EMAIL, "/c/doc/"), base, "/c/doc/")[0]
    page = client.get(proposal_link)
    accepted = client.submit(
        page,
        "/accept/",
        {"name": "Анна Петрова", "email": CLIENT_EMAIL, "consent": "on"},
    )
    assert "done=accepted" in accepted.url
    assert stage(topology, deal_id) == "proposal_accepted"

    # 6. The contract (with its appendix), sent without the client's details; the client
    # gives them and signs both with one signature. ---------------------------------------
    [(contract_id,)] = topology.sql(
        "SELECT id FROM documents_document WHERE kind = 'contract' AND deal_id = %s", (deal_id,)
    )
    contract_page = desk.get(f"/documents/{contract_id}/")
    desk.submit(contract_page, f"/documents/{contract_id}/send/", {"without_details": "1"})
    assert stage(topology, deal_id) == "contract_sent"
    contract_mail = mail_to(topology, CLIENT_EMAIL, "/c/doc/", count=2)
    contract_link = links(contract_mail, base, "/c/doc/")[0]
    page = client.get(contract_link)
    page = client.submit(
        page,
        "/details/",
        {
            "legal_name": "ООО «Рога и копыта»",
            "tax_id": "7707083893",
            "address": "Москва, ул. Садовая, д. 5",
            "signatory_name": "Петрова Анна Сергеевна",
            "signatory_position": "Генеральный директор",
            "signatory_basis": "Устав",
        },
    )
    assert "done=details" in page.url
    signed = client.submit(page, "/accept/", {"consent": "on"})
    assert "done=accepted" in signed.url
    assert stage(topology, deal_id) == "contract_signed"
    assert topology.sql("SELECT count(*) FROM documents_acceptance") == [(3,)]

    # 7. The deposit invoice from the payment schedule, paid by bank transfer. -----------
    deal_page = desk.get(deal_link)
    invoice_page = desk.submit(deal_page, f"/billing/deal/{deal_id}/schedule/1/")
    [(invoice_id, total, status)] = topology.sql(
        "SELECT id, total, status FROM billing_invoice WHERE deal_id = %s", (deal_id,)
    )
    assert status == "issued"
    assert stage(topology, deal_id) == "invoiced"
    pay_link = links(mail_to(topology, CLIENT_EMAIL, "/c/pay/"), base, "/c/pay/")[0]
    invoice_for_client = client.get(pay_link)
    assert "40702810900000000001" in invoice_for_client.text  # the studio's account
    payment_form = desk.get(f"/billing/{invoice_id}/payment/")
    desk.submit(
        payment_form,
        f"/billing/{invoice_id}/payment/",
        {"amount": str(total), "note": "Платёжное поручение 42"},
    )
    assert invoice_page.status_code == 200
    [(status, paid)] = topology.sql(
        "SELECT status, paid_amount FROM billing_invoice WHERE id = %s", (invoice_id,)
    )
    assert (status, paid) == ("paid", total)
    assert stage(topology, deal_id) == "in_work"
    walk_seconds = time.monotonic() - started

    # Both web processes answered both people.
    assert set(client.served_by) == set(desk.served_by) == set(topology.web_urls)

    # 8. Every email the outbox holds arrives exactly once, delivered by the workers. ----
    def all_delivered():
        rows = topology.sql("SELECT id, status FROM notifications_outbox ORDER BY id")
        if not rows or any(status != "sent" for _pk, status in rows):
            return None
        expected = {f"<outbox-{pk}@studiocrm>" for pk, _status in rows}
        arrived = {message["Message-ID"] for message in topology.sink.received()}
        return expected if expected <= arrived else None

    expected = wait_for(all_delivered, timeout=90, what="every outbox row sent and received")
    time.sleep(2)  # a duplicate would arrive now
    received = topology.sink.received()
    ids = Counter(message["Message-ID"] for message in received)
    assert max(ids.values()) == 1, [
        (message["Message-ID"], message["To"], message["Subject"])
        for message in received
        if ids[message["Message-ID"]] > 1
    ]
    # Nothing arrived that the outbox does not hold (rows queued since are still sent once).
    [(rows_now,)] = topology.sql("SELECT count(*) FROM notifications_outbox")
    assert expected <= set(ids) and len(ids) <= rows_now
    sent = len(expected)
    recipients = Counter(message["To"] for message in received)
    assert recipients["manager@studio.test"] >= 1 and recipients[CLIENT_EMAIL] >= 5
    # Each delivery task ran once, taken by one of the workers from the shared task table.
    runs = topology.sql(
        "SELECT status, jsonb_array_length(worker_ids) FROM django_tasks_database_dbtaskresult"
        " WHERE task_path LIKE %s",
        ("%deliver_outbox",),
    )
    assert runs and all(run == ("SUCCESSFUL", 1) for run in runs), runs
    workers_seen = topology.sql(
        "SELECT DISTINCT jsonb_array_elements_text(worker_ids)"
        " FROM django_tasks_database_dbtaskresult"
    )

    # 9. Structured logs: one JSON line per request, with its id, in both processes. -----
    for name in ("web1", "web2"):
        lines = [
            json.loads(line)
            for line in topology.log(name).splitlines()
            if line.startswith("{") and '"studiocrm.request"' in line
        ]
        assert lines, f"{name} logged no requests"
        assert all(line["request_id"] and line["status"] for line in lines)
        assert any(line["user_id"] for line in lines)

    print(
        f"\nthe walk took {walk_seconds:.1f} s; {sent} emails delivered once each;"
        f" tasks run by {len(workers_seen)} worker(s)"
    )


def test_a_killed_worker_is_reported_once_while_the_other_keeps_the_studio_ready(topology):
    victim = topology.processes["worker1"]
    victim.send_signal(signal.SIGKILL)  # no goodbye: as if its machine died
    victim.wait(timeout=10)

    def alerted():
        rows = topology.sql(
            "SELECT worker_id FROM ops_workerheartbeat WHERE alerted_at IS NOT NULL"
        )
        return rows or None

    [(dead,)] = wait_for(alerted, timeout=30, what="the dead worker reported")
    assert dead.endswith(f":{victim.pid}")

    def owner_mail():
        return [
            message for message in topology.sink.received() if message["To"] == "owner@studio.test"
        ] or None

    [letter] = wait_for(owner_mail, timeout=30, what="the owner's email")
    assert dead in letter["Subject"]
    time.sleep(3)  # the surviving worker watches every second: still one letter
    assert len(owner_mail()) == 1

    visitor = Visitor(topology.web_urls, "probe")
    for _ in topology.web_urls:
        body = visitor.get("/readyz").json()
        assert body["status"] == "ok"
        assert (body["checks"]["workers"]["alive"], body["checks"]["workers"]["stopped"]) == (1, 1)
