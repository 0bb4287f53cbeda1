"""`manage.py backup` / `restore` on the suite's database engine (SQLite in the SQLite run,
PostgreSQL in the PostgreSQL run): the app runs as separate processes against a database of
its own, is backed up, and the archive is restored into an EMPTY database and storage. The
test checks every table's row count against the manifest by itself, every file's checksum, and
the audit chain with `manage.py verify_audit_chain`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import tarfile
import time

import psycopg
import pytest

from tests.backup.support import (
    PROJECT,
    PgDatabases,
    app_env,
    manage,
    shell,
    suite_engine,
)


@pytest.fixture(scope="module")
def databases():
    """``new()`` gives the URL of a new empty database of the suite's engine."""
    engine = suite_engine()
    pg = PgDatabases() if engine == "postgresql" else None
    counter = iter(range(100))

    class New:
        def __call__(self, tmp_path):
            if pg is not None:
                return pg.create()
            return f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite3'}"

    yield New()
    if pg is not None:
        pg.drop_all()


def read_manifest(archive_path):
    with tarfile.open(archive_path, "r:gz") as archive:
        return json.load(archive.extractfile("manifest.json")), archive.getnames()


def count_sql(table):
    return f'SELECT COUNT(*) FROM "{table}"'  # noqa: S608 - a table name from the catalog


def table_counts(database_url):
    """Row counts of every table, read straight from the database (not through the app)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {n: connection.execute(count_sql(n)).fetchone()[0] for n in names}
        connection.close()
        return counts
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        return {n: connection.execute(count_sql(n)).fetchone()[0] for n in names}


def stored_files(data_dir):
    """sha256 of every file under the install's media and private folders."""
    found = {}
    for alias, folder in (("default", data_dir / "media"), ("private", data_dir / "private")):
        for path in folder.rglob("*"):
            if path.is_file():
                key = f"{alias}/{path.relative_to(folder).as_posix()}"
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def source_install(tmp_path_factory, databases):
    """A migrated install (every table, the data migrations' rows) with a logo, brief
    uploads, PDFs and audit history. Shared by the tests of this module, which only add."""
    tmp_path = tmp_path_factory.mktemp("source")
    url = databases(tmp_path)
    env = app_env(url, tmp_path / "data")
    manage(env, "migrate", "--noinput", "-v", "0")
    shell(env, "from tests.backup.populate import files_and_rows; files_and_rows()")
    return url, env, tmp_path / "data"


def test_a_backup_restores_into_an_empty_database_with_every_row_and_file(
    tmp_path, databases, source_install
):
    source_url, source_env, source_dir = source_install
    archive = tmp_path / "backup.tar.gz"
    result = manage(source_env, "backup", "--output", str(archive))
    assert "Backup written" in result.stdout

    manifest, members = read_manifest(archive)
    assert manifest["database"]["engine"] == suite_engine()
    assert manifest["created_at"]
    assert manifest["migrations"]["core"] and manifest["migrations"]["documents"]
    # The manifest's counts are the source's (nothing wrote since).
    assert manifest["tables"] == table_counts(source_url)
    assert manifest["tables"]["core_auditlog"] > 150
    assert manifest["tables"]["briefs_brief"] >= 1
    # Every file of both storages, with its checksum: the logo, 3 uploads, 2 PDFs.
    source_files = stored_files(source_dir)
    assert {key: meta["sha256"] for key, meta in manifest["files"].items()} == source_files
    assert sum(key.startswith("private/briefs/") for key in source_files) == 3
    assert sum(key.startswith("private/documents/") for key in source_files) == 2
    assert "default/studio/logo.png" in source_files
    assert set(manifest["referenced"]) <= set(source_files)
    assert all(f"files/{key}" in members for key in source_files)

    target_url = databases(tmp_path)
    target_env = app_env(target_url, tmp_path / "target")
    result = manage(target_env, "restore", str(archive))
    assert "Restored and verified" in result.stdout

    assert table_counts(target_url) == manifest["tables"]
    assert stored_files(tmp_path / "target") == source_files
    chain = manage(target_env, "verify_audit_chain")
    assert "Audit chain intact" in chain.stdout
    assert f"{manifest['tables']['core_auditlog']} rows" in chain.stdout
    # The restored install works: its migrations are all applied and it serves the files.
    plan = manage(target_env, "migrate", "--plan")
    assert "No planned migration operations" in plan.stdout
    served = shell(
        target_env,
        "from studiocrm.briefs.models import BriefFile; f = BriefFile.objects.last(); "
        "print(f.file.open('rb').read()[:4])",
    )
    assert "PNG" in served.stdout


def test_restore_refuses_a_database_that_is_not_empty(tmp_path, databases, source_install):
    _url, source_env, _dir = source_install
    archive = tmp_path / "backup.tar.gz"
    manage(source_env, "backup", "--output", str(archive))
    # The source itself is not empty: restoring over it is refused and changes nothing.
    before = table_counts(_url)
    result = manage(source_env, "restore", str(archive), check=False)
    assert result.returncode == 1
    assert "the database is not empty" in result.stderr
    assert "--force" in result.stderr
    assert table_counts(_url) == before


def test_a_damaged_or_hostile_archive_is_refused(tmp_path, databases):
    env = app_env(databases(tmp_path), tmp_path / "target")
    not_an_archive = tmp_path / "junk.tar.gz"
    not_an_archive.write_bytes(b"not a tarball")
    result = manage(env, "restore", str(not_an_archive), check=False)
    assert result.returncode == 1 and "not a studiocrm backup" in result.stderr

    escaping = tmp_path / "escape.tar.gz"
    manifest = {
        "format": 1,
        "database": {"engine": suite_engine(), "member": "../../etc/passwd", "sha256": "0"},
        "tables": {},
        "migrations": {},
        "referenced": [],
        "files": {},
    }
    with tarfile.open(escaping, "w:gz") as archive:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        import io

        archive.addfile(info, io.BytesIO(data))
    result = manage(env, "restore", str(escaping), check=False)
    assert result.returncode == 1 and "unsafe name in the archive" in result.stderr


def test_a_backup_taken_while_the_app_writes_restores_consistently(
    tmp_path, databases, source_install
):
    """A writer process keeps adding audited rows and uploads while the backup runs; the
    restored copy matches its own manifest exactly (counts, files, an intact audit chain),
    which holds only if the counts, the dump and the file list describe one moment."""
    source_url, source_env, _dir = source_install
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            str(PROJECT / "manage.py"),
            "shell",
            "-v",
            "0",
            "-c",
            f"from tests.backup.populate import keep_writing; keep_writing(120, {str(stop)!r})",
        ],
        env=source_env,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = table_counts(source_url)["core_auditlog"]
        deadline = time.monotonic() + 60
        while table_counts(source_url)["core_auditlog"] < before + 5:
            assert time.monotonic() < deadline, "the writer does not write"
            time.sleep(0.2)
        archive = tmp_path / "backup.tar.gz"
        manage(source_env, "backup", "--output", str(archive))
        time.sleep(0.5)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    written = int(out.strip().splitlines()[-1])
    manifest, _members = read_manifest(archive)
    # The writer went on after the snapshot: the source moved past the backup.
    assert table_counts(source_url)["core_auditlog"] > manifest["tables"]["core_auditlog"]
    assert written > 5

    target_url = databases(tmp_path)
    target_env = app_env(target_url, tmp_path / "target")
    result = manage(target_env, "restore", str(archive))
    assert "Restored and verified" in result.stdout
    assert table_counts(target_url) == manifest["tables"]
    assert "Audit chain intact" in manage(target_env, "verify_audit_chain").stdout


def test_a_file_name_climbing_out_of_its_storage_is_refused(tmp_path, settings):
    from studiocrm.core import backup

    settings.PRIVATE_ROOT = tmp_path / "private"
    archive_path = tmp_path / "b.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        archive.add(__file__, arcname="files/private/../../escaped.py")
    manifest = {"files": {"private/../../escaped.py": {"sha256": "0", "size": 1}}}
    with (
        tarfile.open(archive_path, "r:gz") as archive,
        pytest.raises(backup.BackupError, match="unsafe name"),
    ):
        backup.restore_files(archive, manifest, force=False)
    assert not (tmp_path / "escaped.py").exists()
