"""Fixtures for the fault tests: a real tiny disk (tmpfs) to fill up, and the documents
tests' deal, proposal and contract."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import uuid

import pytest

from tests.documents.conftest import (  # noqa: F401 - fixtures
    clean_cache,
    deal,
    migration_data,
    proposal,
    rub_list,
    sent_contract,
    sent_proposal,
)


class TinyDisk:
    """A 256 KB tmpfs mounted for the test: writes past its end fail with a real ENOSPC."""

    def __init__(self, path):
        self.path = path
        self.filler = path / "filler.bin"

    def fill(self, leave_bytes: int = 2048) -> None:
        """Take all the space but ``leave_bytes``."""
        handle = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(handle, b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
        finally:
            os.close(handle)
        size = self.filler.stat().st_size
        with contextlib.suppress(OSError):
            os.truncate(self.filler, max(size - leave_bytes, 0))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def files(self):
        return sorted(
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if p.is_file() and p != self.filler
        )


@pytest.fixture
def tiny_disk(tmp_path):
    path = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    mounted = subprocess.run(  # noqa: S603
        ["/usr/bin/mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr!r}")
    try:
        yield TinyDisk(path)
    finally:
        subprocess.run(["/usr/bin/umount", str(path)], check=False)  # noqa: S603


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """One migrated SQLite database file; tests copy it instead of migrating again."""
    from tests.backup.support import app_env, manage

    folder = tmp_path_factory.mktemp("migrated")
    url = f"sqlite:///{folder / 'template.sqlite3'}"
    manage(app_env(url, folder / "data"), "migrate", "--noinput", "-v", "0")
    return folder / "template.sqlite3"


@pytest.fixture
def app_install(tmp_path, migrated_sqlite):
    """A fresh copy of the migrated database and a data folder for processes of the app."""
    import shutil

    database = tmp_path / "app.sqlite3"
    shutil.copy(migrated_sqlite, database)
    return f"sqlite:///{database}", database, tmp_path / "data"
