"""SQLite busy under concurrent writers: four processes of the app write to one database file
at once (numbered documents, audited rows, outbox messages) through the real services and
settings (WAL, IMMEDIATE transactions, a busy timeout). None of them sees "database is
locked"; every number is taken once, in one gapless series; the audit chain is intact."""

from __future__ import annotations

import subprocess
import sys

from tests.backup.support import PROJECT, app_env, manage

WRITER = """
import sys
from django.db import transaction
from studiocrm.clients.models import Client
from studiocrm.core import audit
from studiocrm.core.numbering import next_number
from studiocrm.notifications.outbox import queue_email
worker = int(sys.argv[-1])
numbers = []
for step in range(40):
    with transaction.atomic():
        number = next_number("fault-invoice", 2026)
        client = Client.objects.create(name=f"W{worker}-{step}")
        audit.record("client.created", client, actor=None, data={"number": number})
        queue_email(to="c@example.test", subject="n", body=str(number),
                    dedupe_key=f"busy:{worker}:{step}")
    numbers.append(number)
print(" ".join(map(str, numbers)))
"""

WRITERS = 4


def test_concurrent_writers_never_see_database_is_locked(app_install):
    url, database, data = app_install
    env = app_env(url, data)
    script = data.parent / "writer.py"
    script.write_text(
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'studiocrm.settings')\n"
        "django.setup()\n" + WRITER,
        encoding="utf-8",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(worker)],
            env=env,
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(WRITERS)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert "database is locked" not in err
        assert process.returncode == 0, err
    numbers = sorted(int(n) for out, _err in outputs for n in out.split())
    assert numbers == list(range(1, WRITERS * 40 + 1))  # each once, no gap

    counted = manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "from studiocrm.clients.models import Client; "
        "from studiocrm.notifications.models import Outbox; "
        "print(Client.objects.count(), Outbox.objects.count())",
    )
    assert counted.stdout.split() == [str(WRITERS * 40), str(WRITERS * 40)]
    assert "Audit chain intact" in manage(env, "verify_audit_chain").stdout
