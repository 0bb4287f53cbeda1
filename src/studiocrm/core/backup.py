"""Back up and restore the whole install: the database and every stored file, in one archive.

``manage.py backup`` (``make backup``) writes a ``.tar.gz`` holding:

- ``manifest.json``: when, which database engine, the migrations applied, the row count of
  every table and the SHA-256 of every file, all read from the database snapshot itself;
- ``database/db.sqlite3`` (SQLite's online backup API) or ``database/db.dump``
  (``pg_dump -Fc`` run on a snapshot exported from the transaction that counted the rows);
- ``files/<storage>/<name>``: everything in the default storage (``MEDIA_ROOT``) and the
  private storage (uploads, PDFs), through the storage API, so S3 buckets are read the same
  way as local folders.

The database is copied first and the files after it: a file a row of the snapshot names
already exists when the files are read (files are only added, never rewritten in place), and
the backup checks that every such file made it into the archive. A file written after the
snapshot is kept too; nothing points at it yet, which is harmless.

``manage.py restore`` (``make restore``) puts an archive back into an EMPTY database (no
tables) and empty storages, and then checks it: every table's row count, the migrations, every
file's checksum and the audit chain. A non-empty database is refused unless ``--force``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import Storage, default_storage, storages
from django.db import connections, models, transaction
from django.utils import timezone

FORMAT = 1
STORAGE_ALIASES = ("default", "private")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Backup or restore cannot go on; the message says why and what to do."""


@dataclass
class VerifyReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    audit_rows: int = 0
    problems: list[str] = field(default_factory=list)


# Where things are ---------------------------------------------------------------------------


def engine_of(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def storage(alias: str) -> Storage:
    if alias == "private":
        from django.conf import settings

        if "private" not in settings.STORAGES:
            raise BackupError('STORAGES has no "private" storage')
    return storages[alias]


def walk(store: Storage, path: str = "") -> Iterator[str]:
    """Every file name in a storage, depth first, in a stable order."""
    try:
        directories, files = store.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from walk(store, f"{path}/{directory}" if path else directory)


def file_fields() -> list[tuple[str, str, str]]:
    """(table, column, storage alias) of every FileField of every installed model."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                store = model_field.storage
                alias = getattr(store, "alias", None) or (
                    "default" if store is default_storage else None
                )
                if alias not in STORAGE_ALIASES:
                    raise BackupError(f"{model._meta.label}.{model_field.name}: unknown storage")
                found.append((model._meta.db_table, model_field.column, alias))
    return found


# What a database holds (run on the snapshot) ------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def describe(cursor: Any, vendor: str) -> dict[str, Any]:
    """Tables and their row counts, migrations applied, files referenced: from ``cursor``,
    which sees the snapshot being backed up (or the restored database)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a table name
        counts[table] = cursor.fetchone()[0]
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    referenced = set()
    for table, column, alias in file_fields():
        if table not in counts:
            continue
        column_sql = _quote(column)
        cursor.execute(
            f"SELECT {column_sql} FROM {_quote(table)} "  # noqa: S608 - names from models
            f"WHERE {column_sql} IS NOT NULL AND {column_sql} <> ''"
        )
        referenced.update(f"{alias}/{row[0]}" for row in cursor.fetchall())
    return {"tables": counts, "migrations": migrations, "referenced": sorted(referenced)}


def _sqlite_path(alias: str = "default") -> str:
    name = str(connections[alias].settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return name


def _pg_env(alias: str = "default") -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore: the password never goes on a command line."""
    settings_dict = connections[alias].settings_dict
    options = settings_dict.get("OPTIONS") or {}
    env = {**os.environ}
    pairs = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
        "PGAPPNAME": "studiocrm-backup",
    }
    for key, value in pairs.items():
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed programs, arguments we build
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt install postgresql-client)"
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Backup --------------------------------------------------------------------------------------


def snapshot_database(workdir: Path, alias: str = "default") -> tuple[Path, dict[str, Any]]:
    """Copy the database into ``workdir`` and describe the copy. Consistent while the app
    writes: SQLite's backup API copies one committed state; PostgreSQL's dump runs on the
    snapshot the description was read in."""
    vendor = engine_of(alias)
    if vendor == "sqlite":
        target = workdir / "db.sqlite3"
        source = sqlite3.connect(_sqlite_path(alias), timeout=60)
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
        copy = sqlite3.connect(target)
        try:
            description = describe(copy.cursor(), vendor)
        finally:
            copy.close()
        return target, description
    target = workdir / "db.dump"
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            + ["-f", str(target)],
            _pg_env(alias),
        )
        description = describe(cursor, vendor)
    return target, description


def add_files(archive: tarfile.TarFile, workdir: Path) -> dict[str, dict[str, Any]]:
    """Copy every file of every storage into the archive; their checksums and sizes."""
    files: dict[str, dict[str, Any]] = {}
    for alias_name in STORAGE_ALIASES:
        store = storage(alias_name)
        for name in walk(store):
            if PurePosixPath(name).name.startswith(".partial-"):
                continue  # a file being written right now (portal.files); not a file yet
            key = f"{alias_name}/{name}"
            copy = workdir / "file"
            digest = hashlib.sha256()
            try:
                with store.open(name, "rb") as source, copy.open("wb") as target:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        target.write(chunk)
            except FileNotFoundError:
                continue  # deleted since the listing; if a row names it, the check below fails
            archive.add(copy, arcname=f"files/{key}")
            files[key] = {"sha256": digest.hexdigest(), "size": copy.stat().st_size}
    return files


def create_backup(output: Path, alias: str = "default") -> dict[str, Any]:
    """Write the archive to ``output`` (atomically: a temporary name, then renamed) and
    return its manifest."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    vendor = engine_of(alias)
    created_at = timezone.now()
    with tempfile.TemporaryDirectory(prefix="studiocrm-backup-") as tmp:
        workdir = Path(tmp)
        database_file, description = snapshot_database(workdir, alias)
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(database_file, arcname=f"database/{database_file.name}")
            # Files after the database: whatever the snapshot names exists by now.
            files = add_files(archive, workdir)
            missing = [name for name in description["referenced"] if name not in files]
            if missing:
                raise BackupError(
                    f"{len(missing)} file(s) the database refers to are not in storage "
                    f"(first: {missing[0]}); the backup would not restore them"
                )
            manifest = {
                "format": FORMAT,
                "created_at": created_at.isoformat(),
                "database": {
                    "engine": vendor,
                    "member": f"database/{database_file.name}",
                    "sha256": _sha256_file(database_file),
                },
                "migrations": description["migrations"],
                "tables": description["tables"],
                "referenced": description["referenced"],
                "files": files,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mtime = int(created_at.timestamp())
            archive.addfile(info, io.BytesIO(data))
        os.replace(partial, output)
    return manifest


# Restore -------------------------------------------------------------------------------------


@contextmanager
def opened(path: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, Any]]]:
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{path}: not a studiocrm backup ({error})") from None
    with archive:
        try:
            member = archive.extractfile("manifest.json")
            manifest = json.load(member) if member else None
        except (KeyError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{path}: no readable manifest of format {FORMAT}")
        yield archive, manifest


def _member(archive: tarfile.TarFile, name: str) -> io.BufferedReader:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise BackupError(f"unsafe name in the archive: {name}")
    try:
        info = archive.getmember(name)
    except KeyError:
        raise BackupError(f"the archive lacks {name}") from None
    if not info.isfile():
        raise BackupError(f"{name} in the archive is not a regular file")
    return archive.extractfile(info)  # type: ignore[return-value]


def database_is_empty(alias: str = "default") -> bool:
    return not connections[alias].introspection.table_names(include_views=True)


def _drop_everything(alias: str) -> None:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(_sqlite_path(alias) + suffix).unlink(missing_ok=True)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = _quote(cursor.fetchone()[0])
        cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        cursor.execute(f"CREATE SCHEMA {schema}")


def restore_database(archive: tarfile.TarFile, manifest: dict[str, Any], alias: str) -> None:
    vendor = engine_of(alias)
    if manifest["database"]["engine"] != vendor:
        raise BackupError(
            f"the backup is of a {manifest['database']['engine']} database; "
            f"DATABASE_URL points at {vendor}"
        )
    with tempfile.TemporaryDirectory(prefix="studiocrm-restore-") as tmp:
        copy = Path(tmp) / "database"
        with _member(archive, manifest["database"]["member"]) as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        if _sha256_file(copy) != manifest["database"]["sha256"]:
            raise BackupError("the database copy in the archive does not match its checksum")
        connection = connections[alias]
        if vendor == "sqlite":
            connection.close()
            source_db = sqlite3.connect(copy)
            target_db = sqlite3.connect(_sqlite_path(alias), timeout=60)
            try:
                with target_db:
                    source_db.backup(target_db)
            finally:
                source_db.close()
                target_db.close()
            return
        connection.close()
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
            + ["--single-transaction", "-d", str(connection.settings_dict["NAME"]), str(copy)],
            _pg_env(alias),
        )


def restore_files(archive: tarfile.TarFile, manifest: dict[str, Any], *, force: bool) -> int:
    restored = 0
    for key, meta in sorted(manifest["files"].items()):
        alias_name, _, name = key.partition("/")
        if alias_name not in STORAGE_ALIASES or not name:
            raise BackupError(f"unknown storage in the archive: {key}")
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            raise BackupError(f"unsafe name in the archive: {key}")
        store = storage(alias_name)
        if store.exists(name):
            if _sha256_storage(store, name) == meta["sha256"]:
                continue
            if not force:
                raise BackupError(
                    f"{key} already exists with other content; restore into empty storage "
                    "or pass --force"
                )
            store.delete(name)
        with _member(archive, f"files/{key}") as source:
            saved = store.save(name, File(source, name=PurePosixPath(name).name))
        if saved != name:
            raise BackupError(f"{key} was stored as {saved}")
        restored += 1
    return restored


def _sha256_storage(store: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with store.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def restore_backup(path: Path, *, force: bool = False, alias: str = "default") -> VerifyReport:
    with opened(Path(path)) as (archive, manifest):
        if not database_is_empty(alias):
            if not force:
                raise BackupError(
                    "the database is not empty: restore into a new, empty database "
                    "(createdb, or a new SQLite file), or pass --force to replace everything "
                    "in it"
                )
            _drop_everything(alias)
        restore_database(archive, manifest, alias)
        restore_files(archive, manifest, force=force)
    connections[alias].close()
    return verify(manifest, alias)


def verify(manifest: dict[str, Any], alias: str = "default") -> VerifyReport:
    """Compare what is now in the database and the storages with the manifest."""
    from studiocrm.core.audit import verify_chain

    report = VerifyReport()
    connection = connections[alias]
    with connection.cursor() as cursor:
        description = describe(cursor, connection.vendor)
    expected = manifest["tables"]
    for table in sorted(set(expected) | set(description["tables"])):
        want, have = expected.get(table), description["tables"].get(table)
        if want != have:
            report.problems.append(f"table {table}: {have} rows, the backup had {want}")
    report.tables = len(description["tables"])
    report.rows = sum(description["tables"].values())
    if description["migrations"] != manifest["migrations"]:
        report.problems.append("the migrations applied differ from the backup's")
    for key, meta in sorted(manifest["files"].items()):
        alias_name, _, name = key.partition("/")
        store = storage(alias_name)
        if not store.exists(name):
            report.problems.append(f"file {key} is missing")
        elif _sha256_storage(store, name) != meta["sha256"]:
            report.problems.append(f"file {key} differs from the backup")
        else:
            report.files += 1
    for key in description["referenced"]:
        if key not in manifest["files"]:
            report.problems.append(f"the database refers to {key}, which is not in the backup")
    chain = verify_chain()
    report.audit_rows = chain.rows
    if chain.problem is not None:
        report.problems.append(f"audit chain broken: {chain.problem.message}")
    return report
