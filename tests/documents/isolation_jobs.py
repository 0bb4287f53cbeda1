"""Jobs the isolation tests run in sandbox children: each misbehaves in one way a template or
WeasyPrint could (imported by the child by dotted path, never by a template)."""

import os
import time


def answer(value):
    return value


def spin_in_c():
    """One long C-level call: the profiling timer cannot interrupt it, RLIMIT_CPU can."""
    return sum(range(10**12))


def spin_in_python():
    while True:
        pass


def allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))


def sleep(seconds):
    time.sleep(seconds)
    return "woke"


def die():
    os.abort()


def process_id():
    return os.getpid()
