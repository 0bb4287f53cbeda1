"""The worker as a real process for the fault tests: started in its own process group (so a
kill takes its sandbox children too), stopped gently or killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.backup.support import PROJECT


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(PROJECT / "manage.py"), "worker"],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL, as the kernel's OOM killer or a pulled plug would."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=30)


def stop_worker(worker: subprocess.Popen) -> str:
    """SIGTERM (SIGKILL if it lingers); what it wrote to stderr."""
    if worker.returncode is not None:
        return ""
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        return worker.communicate(timeout=20)[1] or ""
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        return worker.communicate(timeout=30)[1] or ""
