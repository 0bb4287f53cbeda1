"""Worker processes with hard limits, for the code a studio writes: templates and their PDFs.

The sandbox (``sandbox.py``) bounds a template from inside Python: loop steps, output, value
sizes, a wall-clock budget checked between steps. It cannot stop one long C-level call (a
sort, ``wordwrap``, Python's compiler on a huge or deeply nested template) or an interpreter
that runs out of stack, and WeasyPrint has no budget at all. So every compile + render and
every PDF runs in a child process, under limits the template cannot reach:

- CPU time: a profiling timer (``ITIMER_PROF``) raises ``CpuTimeExceeded`` inside Python
  code when the budget is spent, so the error can name the template line; ``RLIMIT_CPU``,
  one second later, kills the child whatever C code it is in;
- memory: ``RLIMIT_AS`` lets the child's address space grow by a fixed amount per job kind;
  beyond it allocations fail (``MemoryError``) or the child dies;
- wall time: the parent waits a bounded time for the answer and kills the child after it;
- no core files (``RLIMIT_CORE`` 0).

Children are forked from multiprocessing's fork server, which has Django and the job modules
loaded, so a new child costs milliseconds. Each process (a web worker, the task worker) keeps
a small pool and reuses its children; a child that hit a limit, failed or died is replaced.
Waiting for a child releases the GIL, so with a threaded server (gunicorn ``--threads``) a
hostile template holds one request thread, not the web worker.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

# Modules the fork server imports once, so each forked child starts with them loaded.
PRELOAD = ["studiocrm.documents.isolation_child"]
MAX_JOBS_PER_CHILD = 500  # recycle children now and then (caches, fragmentation)
STARTUP_SECONDS = 60.0  # a new child loads nothing much (templates) or WeasyPrint (PDFs)


class IsolationError(Exception):
    """A job did not finish in its child; ``reason`` says how."""

    reason = "failed"

    def __init__(self, detail: str = "", line: int | None = None) -> None:
        super().__init__(detail or self.reason)
        self.detail = detail
        self.line = line


class TooSlow(IsolationError):
    """The job spent its CPU or wall-clock budget."""

    reason = "slow"


class TooLarge(IsolationError):
    """The job needed more memory than its limit."""

    reason = "memory"


class Crashed(IsolationError):
    """The child died (a signal, a C-level stack overflow) or answered nonsense."""

    reason = "crashed"


class Busy(IsolationError):
    """Every child of the pool stayed busy for the whole wait."""

    reason = "busy"


class JobFailed(IsolationError):
    """The job raised an exception the caller handles; ``value`` is what it sent back."""

    reason = "job"

    def __init__(self, value: Any) -> None:
        super().__init__(repr(value)[:200])
        self.value = value


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float
    memory_bytes: int  # how much the child's address space may grow during one job
    wall_seconds: float


class CpuTimeExceeded(BaseException):
    """Raised by the profiling timer inside a child. A BaseException, so that no
    ``except Exception`` in a template's path (Jinja, the sandbox) swallows it."""


# The parent side -----------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class _Child:
    def __init__(self, preparation: str) -> None:
        context = _context()
        parent_end, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end, preparation), daemon=True, name="studiocrm-sandbox"
        )
        self.process.start()
        child_end.close()
        self.connection: Connection = parent_end
        self.jobs = 0
        # The child says when it is ready, so a job's wall-clock limit counts the job only.
        try:
            ready = parent_end.poll(STARTUP_SECONDS) and parent_end.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise Crashed("the child process did not start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=2)
        with contextlib.suppress(Exception):
            self.connection.close()
        with contextlib.suppress(Exception):
            self.process.close()


class Pool:
    """At most ``size`` children for one kind of job, started on first use and reused.

    Thread-safe: a threaded web worker's requests share its pool. After ``os.fork`` (a
    gunicorn worker forked from a master that used the pool) the children belong to the
    parent, so the pool starts afresh.
    """

    def __init__(self, name: str, size: int, preparation: str = "") -> None:
        self.name = name
        self.size = max(1, size)
        self.preparation = preparation
        self._condition = threading.Condition()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._idle: list[_Child] = []
        self._running = 0  # children started and not yet stopped, idle or busy

    def _acquire(self, wait: float) -> _Child:
        deadline = time.monotonic() + wait
        with self._condition:
            if self._pid != os.getpid():
                self._reset()
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._running < self.size:
                    self._running += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Busy()
                self._condition.wait(remaining)
        try:
            return _Child(self.preparation)
        except BaseException:
            with self._condition:
                self._running -= 1
                self._condition.notify()
            raise

    def _release(self, child: _Child, *, keep: bool) -> None:
        keep = keep and child.jobs < MAX_JOBS_PER_CHILD
        with self._condition:
            if self._pid != os.getpid():
                return
            if keep:
                self._idle.append(child)
            else:
                self._running -= 1
            self._condition.notify()
        if not keep:
            child.stop()

    def run(self, job: str, args: tuple[Any, ...], limits: Limits, *, language: str = "") -> Any:
        """Run ``job`` (``"module:function"``, code of ours, never user input) with ``args``
        in a child under ``limits``; its return value, or an ``IsolationError``."""
        child = self._acquire(limits.wall_seconds)
        if not child.process.is_alive():  # died while idle (killed from outside): replace it
            self._release(child, keep=False)
            child = self._acquire(limits.wall_seconds)
        keep = False
        try:
            try:
                child.connection.send((job, args, limits, language))
                answered = child.connection.poll(limits.wall_seconds)
                if not answered:
                    raise TooSlow("wall")
                status, value, *rest = child.connection.recv()
            except (EOFError, OSError) as error:
                raise self._death(child) from error
            child.jobs += 1
            if status == "ok":
                keep = True
                return value
            if status == "raised":  # an exception the job's caller knows how to report
                keep = bool(rest and rest[0])
                raise JobFailed(value)
            line = rest[0] if rest else None
            if status == "slow":
                raise TooSlow(str(value), line)
            if status == "memory":
                raise TooLarge(str(value), line)
            raise Crashed(str(value), line)
        finally:
            self._release(child, keep=keep)

    def _death(self, child: _Child) -> IsolationError:
        child.process.join(timeout=2)
        code = child.process.exitcode
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            return TooSlow(f"killed by signal {-code}")
        return Crashed(f"exit code {code}")

    def close(self) -> None:
        with self._condition:
            children, self._idle = self._idle, []
            self._running -= len(children)
        for child in children:
            child.stop()


_pools: dict[str, Pool] = {}
_pools_lock = threading.Lock()


def pool(name: str) -> Pool:
    """This process's pool for ``"templates"`` (compile + render, ``DOCUMENT_RENDER_PROCESSES``
    children) or ``"pdf"`` (WeasyPrint, one child)."""
    from django.conf import settings

    with _pools_lock:
        if name not in _pools:
            if name == "pdf":
                _pools[name] = Pool(name, 1, "studiocrm.documents.isolation_child:prepare_pdf")
            else:
                _pools[name] = Pool(name, settings.DOCUMENT_RENDER_PROCESSES)
        return _pools[name]


# The child side ------------------------------------------------------------------------------


def _address_space() -> int:
    """Bytes of address space this process uses now (Linux; 0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _on_cpu_timer(signum: int, frame: Any) -> None:
    raise CpuTimeExceeded()


# The child's set-up and the template-line finder are named, like jobs, by "module:function"
# and imported in the child: this executor knows nothing of what it runs.
CHILD_SETUP = "studiocrm.documents.isolation_child:setup"
TEMPLATE_LINE = "studiocrm.documents.sandbox:_template_line"


def _template_line(error: BaseException) -> int | None:
    return _load(TEMPLATE_LINE)(error)


def _load(job: str) -> Any:
    module, function = job.split(":")
    return getattr(importlib.import_module(module), function)


def _serve(connection: Connection, preparation: str) -> None:
    """A child's loop: one job at a time until the parent closes the pipe or a job leaves
    the process in a state not worth keeping (a limit was hit)."""
    _load(CHILD_SETUP)()
    if preparation:
        _load(preparation)()
    try:
        connection.send("ready")
    except (OSError, ValueError):
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on `make run` stops the parent
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            job, args, limits, language = connection.recv()
        except (EOFError, OSError):
            return
        answer, keep = _run_job(job, args, limits, language, cpu_hard)
        try:
            connection.send(answer)
        except (OSError, ValueError):
            return
        if not keep:
            return


def _run_job(
    job: str, args: tuple[Any, ...], limits: Limits, language: str, cpu_hard: int
) -> tuple[tuple[Any, ...], bool]:
    from django.utils import translation

    _, memory_hard = resource.getrlimit(resource.RLIMIT_AS)
    base = _address_space()
    if base:
        soft = base + limits.memory_bytes
        if memory_hard != resource.RLIM_INFINITY:
            soft = min(soft, memory_hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, memory_hard))
    kill_at = math.ceil(_cpu_used() + limits.cpu_seconds + 1)
    if cpu_hard != resource.RLIM_INFINITY:
        kill_at = min(kill_at, cpu_hard)
    resource.setrlimit(resource.RLIMIT_CPU, (kill_at, cpu_hard))
    try:
        try:
            signal.setitimer(signal.ITIMER_PROF, limits.cpu_seconds)
            function = _load(job)
            with translation.override(language or None):
                result = function(*args)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        return ("ok", result), True
    except CpuTimeExceeded as error:
        return ("slow", "cpu", _template_line(error)), False
    except MemoryError as error:
        return ("memory", "memory", _template_line(error)), False
    except RecursionError as error:
        return ("crashed", "recursion", _template_line(error)), False
    except Exception as error:
        expected = getattr(error, "isolation_answer", None)
        if callable(expected):  # the job's own error type, reported by the caller
            return ("raised", expected(), True), True
        log.exception("isolated job %s failed", job)
        return ("crashed", f"{type(error).__name__}: {error}"[:500], None), False
    finally:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (memory_hard, memory_hard))
