"""The worker as a real process for the fault tests: started in its own process group (so a
kill takes its sandbox children too), stopped gently or killed outright.

Its stderr goes to a file, not a pipe read only at the end: while the database was away every
periodic job logged a traceback each round, and 64 KB of them filled the pipe, so the worker
blocked on its next log line (holding the logging lock, a transaction open) until the test
stopped it — the letter the test waited for never left, and only when the restart fell
inside the worker's first round of jobs. The worker now logs one traceback per failing job
(then a line a minute), but a pipe nobody reads is still a trap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

from tests.backup.support import PROJECT


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    # Closed by stop_worker, once the process has ended.
    log = tempfile.TemporaryFile(mode="w+", prefix="studiocrm-worker-", suffix=".log")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, str(PROJECT / "manage.py"), "worker"],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    worker.log = log  # type: ignore[attr-defined]
    return worker


def _log(worker: subprocess.Popen) -> str:
    """What the worker wrote to stderr, once it has ended."""
    log = worker.log  # type: ignore[attr-defined]
    if log.closed:
        return ""
    log.seek(0)
    text = log.read()
    log.close()
    return text


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL, as the kernel's OOM killer or a pulled plug would."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def stop_worker(worker: subprocess.Popen) -> str:
    """SIGTERM (SIGKILL if it lingers); what it wrote to stderr."""
    if worker.returncode is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    return _log(worker)
