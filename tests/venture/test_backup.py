"""manage.py backup / restore: a real round trip through the archive on the configured engine (SQLite, or PostgreSQL
with pg_dump/pg_restore in the PostgreSQL leg of CI), and refusal of a tampered archive."""

import glob
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import factories
from venture.ops import backup
from venture.organizations.models import Organization
from venture.proposals.models import Attachment, Proposal
from venture.proposals.services import add_attachment

CONTENT = b"%PDF-1.4\n" + bytes(range(256)) * 64 + "登记证书".encode() + b"\n%%EOF\n"


def _data_with_attachment():
    owner = factories.user("backup_owner")
    org = factories.organization(name="备份测试服务中心", owner=owner)
    proposal = factories.proposal(factories.competition(), org, title="备份测试项目")
    attachment = add_attachment(
        proposal=proposal, by=owner, upload=SimpleUploadedFile("登记证书.pdf", CONTENT), description="证书"
    )
    return org, proposal, attachment


def _backup(output):
    out = io.StringIO()
    call_command("backup", output=str(output), stdout=out)
    return Path(out.getvalue().strip().splitlines()[-1])


def _manifest(archive):
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_back_rows_and_file_bytes(settings, tmp_path):
    org, proposal, attachment = _data_with_attachment()
    stored = Path(settings.MEDIA_ROOT) / attachment.file.name
    assert stored.read_bytes() == CONTENT

    archive = _backup(tmp_path / "backups")

    assert archive.parent == tmp_path / "backups"
    assert archive.name.startswith("venture-backup-") and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data inside
    manifest = _manifest(archive)
    engine = "sqlite" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "postgresql"
    db_member = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[engine]
    assert (manifest["database_engine"], manifest["database_member"], manifest["media_files"]) == (engine, db_member, 1)
    assert manifest["app_version"] == "0.1.0"
    assert set(manifest["members"]) == {db_member, f"media/{attachment.file.name}"}
    assert manifest["members"][f"media/{attachment.file.name}"] == {
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
        "size": len(CONTENT),
    }
    assert manifest["created_at"].endswith("+00:00")

    # Lose the data and the file.
    Attachment.objects.all().delete()
    Proposal.objects.all().delete()
    Organization.objects.all().delete()
    stored.unlink()
    factories.organization(name="备份之后才登记的组织")

    with pytest.raises(CommandError, match="--yes"):  # users and the later organization are still there
        call_command("restore", str(archive), stdout=io.StringIO())
    assert Organization.objects.get().name == "备份之后才登记的组织"

    out = io.StringIO()
    call_command("restore", str(archive), yes=True, stdout=out)

    assert list(Organization.objects.values_list("pk", "name")) == [(org.pk, "备份测试服务中心")]
    restored = Proposal.objects.get()
    assert (restored.pk, restored.title, restored.organization_id) == (proposal.pk, "备份测试项目", org.pk)
    again = Attachment.objects.get()
    assert (again.pk, again.original_name, again.size, again.file.name) == (
        attachment.pk,
        "登记证书.pdf",
        len(CONTENT),
        attachment.file.name,
    )
    assert stored.read_bytes() == CONTENT
    with again.file.open("rb") as f:
        assert f.read() == CONTENT
    kept = list(Path(settings.MEDIA_ROOT).parent.glob("media.before-restore-*"))
    assert len(kept) == 1 and f"kept at {kept[0]}" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_restore_into_an_empty_database_needs_no_confirmation(tmp_path):
    org, proposal, attachment = _data_with_attachment()
    archive = _backup(tmp_path)
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore", str(archive), stdout=io.StringIO())
    assert Proposal.objects.get().title == "备份测试项目"


def _flip_one_byte(archive, member_name, dest):
    """Change one byte of one member's content, leaving the manifest (and a valid gzip/tar) as they were."""
    raw = bytearray(gzip.decompress(archive.read_bytes()))
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tar:
        member = tar.getmember(member_name)
    raw[member.offset_data + member.size // 2] ^= 0x01
    dest.write_bytes(gzip.compress(bytes(raw)))
    return dest


@pytest.mark.parametrize("which", ["media", "database"])
@pytest.mark.django_db(transaction=True)
def test_a_tampered_archive_is_refused_and_nothing_is_restored(settings, tmp_path, which):
    org, proposal, attachment = _data_with_attachment()
    archive = _backup(tmp_path)
    manifest = _manifest(archive)
    member = f"media/{attachment.file.name}" if which == "media" else manifest["database_member"]
    tampered = _flip_one_byte(archive, member, tmp_path / "tampered.tar.gz")
    Proposal.objects.update(title="备份之后改过的标题")

    with pytest.raises(CommandError, match=rf"(?s)failed verification.*{member}: checksum mismatch"):
        call_command("restore", str(tampered), yes=True, stdout=io.StringIO())

    assert Proposal.objects.get().title == "备份之后改过的标题"
    assert (Path(settings.MEDIA_ROOT) / attachment.file.name).read_bytes() == CONTENT
    assert not list(Path(settings.MEDIA_ROOT).parent.glob("media.before-restore-*"))
    # The untouched archive still restores.
    call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    assert Proposal.objects.get().title == "备份测试项目"


@pytest.mark.django_db
def test_an_archive_with_an_unlisted_or_unsafe_member_is_refused(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(CommandError, match="unexpected member"):
        call_command("restore", str(path), yes=True)
    assert not (tmp_path.parent / "outside.txt").exists()
    with pytest.raises(CommandError, match="not a readable backup archive"):
        (tmp_path / "junk.tar.gz").write_bytes(b"not a gzip file")
        call_command("restore", str(tmp_path / "junk.tar.gz"), yes=True)


def test_pg_dump_is_found_outside_path_or_named_when_missing(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    servers = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    if servers:  # Debian keeps the server's client tools there without linking them into PATH
        assert backup.pg_tool("pg_dump").startswith("/usr/lib/postgresql/")
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(backup.BackupError, match=r"pg_dump was not found on PATH or in /usr/lib/postgresql/\*/bin"):
        backup.pg_tool("pg_dump")


@pytest.mark.django_db
def test_backup_on_postgresql_without_pg_dump_fails_with_a_clear_message(monkeypatch, settings, tmp_path):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("pg_dump is used on PostgreSQL only")
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(CommandError, match="pg_dump was not found"):
        call_command("backup", output=str(tmp_path))
    assert not list(tmp_path.glob("*.tar.gz*"))
