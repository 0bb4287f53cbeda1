"""Private files behind client links: storage outside MEDIA_ROOT, uploads checked by content,
downloads only as attachments.

Apps store a client's uploads with ``PrivateStorage`` and hand them out through a view that has
already checked the link token (or the manager's login), using ``attachment_response``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

# What a client may upload: detected extension -> MIME type we serve it with. Decided by the
# file's bytes, never by the name or the Content-Type the browser claims. No SVG/HTML: they
# can carry script.
ALLOWED_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "zip": "application/zip",
}
# Names clients give files that are legitimately the same detected type.
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg"}
# Office formats are zip archives inside; a .docx detected as zip is still a .docx.
ZIP_BASED = {"docx", "xlsx", "pptx", "odt", "ods"}


def _private_root() -> Path:
    return Path(getattr(settings, "PRIVATE_ROOT", settings.DATA_DIR / "private"))


@deconstructible(path="studiocrm.portal.files.LocalPrivateStorage")
class LocalPrivateStorage(FileSystemStorage):
    """Private files on the local disk under ``PRIVATE_ROOT`` (``DATA_DIR/private``), with
    no public URL: the default ``STORAGES["private"]``.

    The location is read on every use (not cached) so tests can point it elsewhere with
    ``override_settings(PRIVATE_ROOT=...)``.
    """

    def __init__(self, **options: object) -> None:
        super().__init__(
            base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700
        )

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(_private_root())

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no public URL")

    def _save(self, name: str, content: object) -> str:
        """Write to a temporary file beside the target, then link it into place: a file that
        could not be written whole (disk full, the process killed) never appears under its
        name, and nothing half-written is left behind when writing fails."""
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, mode=self.directory_permissions_mode or 0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():  # type: ignore[attr-defined]
                    out.write(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, self.file_permissions_mode or 0o600)
            while True:
                try:
                    os.link(temporary, self.path(name))  # fails if the name exists
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return str(name).replace("\\", "/")


@deconstructible(path="studiocrm.portal.files.PrivateStorage")
class PrivateStorage(Storage):
    """The storage of private files (client uploads, PDFs): whatever ``STORAGES["private"]``
    names — local disk by default, an S3-compatible bucket when configured (settings.py).

    Models keep this one class in their migrations while the backend is chosen at run time.
    A private file never has a URL, whatever the backend: it is handed out only by a view
    that has checked the link token or the manager's login (``attachment_response``).
    """

    alias = "private"

    @property
    def backend(self) -> Storage:
        if self.alias in settings.STORAGES:
            return storages[self.alias]
        return LocalPrivateStorage()

    def open(self, name: str, mode: str = "rb") -> object:
        return self.backend.open(name, mode)

    def save(self, name: str | None, content: object, max_length: int | None = None) -> str:
        return self.backend.save(name, content, max_length=max_length)

    def delete(self, name: str) -> None:
        self.backend.delete(name)

    def exists(self, name: str) -> bool:
        return self.backend.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.backend.listdir(path)

    def size(self, name: str) -> int:
        return self.backend.size(name)

    def path(self, name: str) -> str:
        return self.backend.path(name)

    def get_valid_name(self, name: str) -> str:
        return self.backend.get_valid_name(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self.backend.get_alternative_name(file_root, file_ext)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.backend.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename: str) -> str:
        return self.backend.generate_filename(filename)

    def get_accessed_time(self, name: str) -> object:
        return self.backend.get_accessed_time(name)

    def get_created_time(self, name: str) -> object:
        return self.backend.get_created_time(name)

    def get_modified_time(self, name: str) -> object:
        return self.backend.get_modified_time(name)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no public URL")


class UploadRejected(Exception):
    """An upload that may not be stored; the message is for the client."""


@dataclass(frozen=True)
class CheckedUpload:
    extension: str
    content_type: str
    safe_name: str


def storage_problem(error: OSError) -> str:
    """What a client reads when an accepted file could not be stored."""
    if error.errno == errno.ENOSPC:
        return _(
            "The file could not be stored: the studio's server is out of space. Please try "
            "again later or send the file by email."
        )
    return _("The file could not be stored. Please try again later.")


def check_upload(upload: UploadedFile, *, max_bytes: int) -> CheckedUpload:
    """Check an upload's size and its real type; raise UploadRejected with a clear message.

    The type comes from the file's first bytes. A file whose name claims one type while its
    content is another (``photo.png`` that is really a PDF or a program) is rejected.
    """
    if upload.size is None or upload.size == 0:
        raise UploadRejected(_("The file is empty."))
    if upload.size > max_bytes:
        raise UploadRejected(
            _("The file is too large: %(size)s MB; the limit is %(limit)s MB.")
            % {"size": _megabytes(upload.size), "limit": _megabytes(max_bytes)}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    detected = kind.extension if kind else None
    if detected == "zip":
        # Office Open XML / OpenDocument files are zip archives; trust the name only to tell
        # which of them it is, and only among zip-based formats.
        claimed_zip = _claimed_extension(upload.name)
        if claimed_zip in ZIP_BASED:
            detected = claimed_zip
    if detected not in ALLOWED_TYPES:
        raise UploadRejected(
            _("This type of file is not accepted. Allowed: %(types)s.")
            % {"types": ", ".join(sorted({ext.upper() for ext in ALLOWED_TYPES}))}
        )
    claimed = _claimed_extension(upload.name)
    if claimed != detected:
        raise UploadRejected(
            _(
                "The file's content does not match its name (%(name)s looks like a %(kind)s "
                "file). Please upload the original file."
            )
            % {"name": _display_name(upload.name), "kind": detected.upper()}
        )
    return CheckedUpload(
        extension=detected,
        content_type=ALLOWED_TYPES[detected],
        safe_name=_display_name(upload.name),
    )


def _claimed_extension(name: str | None) -> str:
    extension = Path(name or "").suffix.lower().lstrip(".")
    return EXTENSION_ALIASES.get(extension, extension)


def _display_name(name: str | None) -> str:
    """The client's file name, reduced to something safe to show and to put in a header."""
    base = Path((name or "file").replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>\r\n')
    return (cleaned.strip() or "file")[:150]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def attachment_response(
    path_in_storage: str, storage: Storage, *, filename: str, content_type: str
) -> FileResponse:
    """Serve a private file as a download: never rendered inline, never sniffed, not cached."""
    response = FileResponse(
        storage.open(path_in_storage, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
