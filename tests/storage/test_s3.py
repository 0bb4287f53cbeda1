"""Files on S3-compatible storage: moto's S3 server runs as a separate process on
127.0.0.1 (an ephemeral port) and the app is configured by the same environment variables a
studio sets (STORAGE_S3_*). A client's brief upload and a rendered PDF land in the bucket,
read back through the app's own checked views, and are not readable anonymously."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefFile, BriefTemplate
from studiocrm.core.models import Studio
from studiocrm.documents import pdf as pdf_module
from studiocrm.documents.models import PdfFile
from tests.backup.support import app_env, shell

BUCKET = "studio-files"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
MOTO = (
    "from moto.server import ThreadedMotoServer; import time; "
    "s = ThreadedMotoServer('127.0.0.1', 0, verbose=False); s.start(); "
    "print(s.get_host_and_port()[1], flush=True); time.sleep(3600)"
)


@pytest.fixture(scope="module")
def s3_server():
    process = subprocess.Popen(
        [sys.executable, "-c", MOTO],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def s3_env(s3_server):
    return {
        "STORAGE_S3_BUCKET": BUCKET,
        "STORAGE_S3_ENDPOINT_URL": s3_server,
        "STORAGE_S3_REGION": "us-east-1",
        "STORAGE_S3_ACCESS_KEY_ID": "studio-key",
        "STORAGE_S3_SECRET_ACCESS_KEY": "studio-secret",
        "STORAGE_S3_ADDRESSING_STYLE": "path",
    }


@pytest.fixture
def bucket(s3_server, s3_env):
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="studio-key",
        aws_secret_access_key="studio-secret",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def s3_storages(settings, s3_env, tmp_path, bucket):
    """STORAGES exactly as settings.py builds them from the environment (read from a
    process started with those variables), put in place for this test."""
    env = app_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path / "data", **s3_env)
    printed = shell(
        env, "import json; from django.conf import settings; print(json.dumps(settings.STORAGES))"
    ).stdout
    storages = json.loads(printed.strip().splitlines()[-1])
    assert storages["private"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["private"]["OPTIONS"]["location"] == "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storages["default"],
        "private": storages["private"],
    }
    settings.PRIVATE_ROOT = tmp_path / "local-private"
    settings.MEDIA_ROOT = tmp_path / "local-media"
    return storages


def anonymous_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def keys(bucket):
    return {item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_without_the_variables_files_stay_on_the_local_disk(tmp_path):
    env = app_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path / "data")
    printed = shell(
        env, "import json; from django.conf import settings; print(json.dumps(settings.STORAGES))"
    ).stdout
    storages = json.loads(printed.strip().splitlines()[-1])
    assert storages["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storages["private"]["BACKEND"] == "studiocrm.portal.files.LocalPrivateStorage"


def test_a_brief_upload_goes_to_the_bucket_and_only_the_app_hands_it_out(
    s3_storages, s3_server, bucket, deal, manager, manager_client, anonymous_client, tmp_path
):
    template = BriefTemplate.objects.get(default_key="corporate", language="en")
    brief = brief_services.send_brief(deal, template, actor=manager)
    token = brief.link_token()
    response = anonymous_client.post(
        reverse("briefs_client:brief_upload", args=[token]),
        {"key": "brand_files", "file_brand_files": SimpleUploadedFile("logo.png", PNG)},
    )
    assert response.status_code == 200
    stored = BriefFile.objects.get(brief=brief)
    key = f"private/{stored.file.name}"
    assert key in keys(bucket)
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    assert not (tmp_path / "local-private").exists()  # nothing on the local disk

    # Not readable without the keys, and no public URL is ever made for it.
    status, body = anonymous_get(f"{s3_server}/{BUCKET}/{key}")
    assert status == 403 and PNG not in body
    with pytest.raises(ValueError, match="no public URL"):
        stored.file.url  # noqa: B018

    # The client (through the link) and the manager (logged in) download it from the app.
    client_download = anonymous_client.get(
        reverse("briefs_client:brief_file", args=[token, stored.pk])
    )
    assert client_download.status_code == 200
    assert b"".join(client_download.streaming_content) == PNG
    manager_download = manager_client.get(reverse("briefs:file", args=[brief.pk, stored.pk]))
    assert manager_download.status_code == 200
    assert b"".join(manager_download.streaming_content) == PNG
    # A wrong token gets nothing.
    wrong = anonymous_client.get(reverse("briefs_client:brief_file", args=["x" * 40, stored.pk]))
    assert wrong.status_code == 404


def test_a_rendered_pdf_goes_to_the_bucket_and_reads_back(
    s3_storages, s3_server, bucket, sent_proposal, manager_client
):
    pdf = PdfFile.objects.get(document=sent_proposal)
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    pdf.refresh_from_db()
    key = f"private/{pdf.file.name}"
    assert key in keys(bucket)
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read().startswith(b"%PDF")
    status, _body = anonymous_get(f"{s3_server}/{BUCKET}/{key}")
    assert status == 403
    response = manager_client.get(reverse("documents:pdf", args=[sent_proposal.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # Rendering again keeps the one object.
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    assert sum(k.startswith(f"private/documents/{sent_proposal.pk}/") for k in keys(bucket)) == 1


def test_the_default_storage_gives_signed_expiring_urls_only(s3_storages, s3_server, bucket, db):
    studio = Studio.load()
    studio.logo.save("logo.png", ContentFile(PNG), save=True)
    key = f"media/{studio.logo.name}"
    assert key in keys(bucket)
    assert anonymous_get(f"{s3_server}/{BUCKET}/{key}")[0] == 403
    url = studio.logo.url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert anonymous_get(url) == (200, PNG)


def test_backup_and_restore_read_and_write_the_bucket(s3_storages, bucket, sent_proposal, tmp_path):
    """The backup walks storages through the storage API: objects in the bucket are in the
    archive, and a restore into an empty bucket puts them back with the same checksums."""
    from studiocrm.core import backup

    pdf = PdfFile.objects.get(document=sent_proposal)
    pdf_module.render_pdf_file(pdf.pk)
    pdf.refresh_from_db()
    files = {}
    for alias in backup.STORAGE_ALIASES:
        for name in backup.walk(backup.storage(alias)):
            files[f"{alias}/{name}"] = name
    assert f"private/{pdf.file.name}" in files
    before = bucket.get_object(Bucket=BUCKET, Key=f"private/{pdf.file.name}")["Body"].read()
    archive_path = tmp_path / "b.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        copied = backup.add_files(archive, tmp_path)
    key = f"private/{pdf.file.name}"
    assert copied[key]["sha256"] == hashlib.sha256(before).hexdigest()
    bucket.delete_object(Bucket=BUCKET, Key=key)
    manifest = {"files": copied}
    with tarfile.open(archive_path, "r:gz") as archive:
        assert backup.restore_files(archive, manifest, force=False) == 1  # only the missing one
    after = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert after == before
