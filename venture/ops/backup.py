"""Backups and restores: one ``.tar.gz`` holding a consistent database dump, the media folder and a manifest.

Archive layout::

    database.sqlite3   (SQLite: a copy made with the online backup API, consistent while the app runs)
    database.pgdump    (PostgreSQL: ``pg_dump --format=custom``, one consistent snapshot)
    media/...          (every uploaded file under MEDIA_ROOT)
    manifest.json      (app version, database engine, created at, sha256 and size of every other member)

The database is dumped before the media folder is read: an upload is written to disk before its row is committed,
so every file the dump refers to is in the archive. The commands in ``venture/ops/management/commands`` are thin
wrappers around :func:`create_backup` and :func:`restore_backup`.
"""

import datetime
import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection, connections

from venture.version import app_version

MANIFEST = "manifest.json"
FORMAT = 1
DB_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA = "media"
# Filled by `migrate` alone: a freshly migrated database is still "empty".
SCHEMA_TABLES = {"django_migrations", "django_content_type", "auth_permission", "django_session"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why in words an operator can act on."""


def engine():
    vendor = connection.vendor
    if vendor not in DB_MEMBERS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


# --- PostgreSQL client tools ----------------------------------------------------------------------------------------


def _pg_version(path):
    match = re.search(r"/postgresql/(\d+)/bin", path)
    return int(match.group(1)) if match else 0


def pg_tool(name):
    """The path of pg_dump/pg_restore: from PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian puts the
    server's own copies there without linking them into PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_pg_version, reverse=True):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin. Install the PostgreSQL client tools of the "
        f"server's major version or newer (Debian: apt-get install postgresql-client) and try again."
    )


def _pg_env(db):
    """libpq environment for the configured database (DATABASE_URL, as parsed by dj_database_url in settings): the
    password travels in the environment, never on a command line that `ps` shows."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run(args, env):
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tool = os.path.basename(args[0])
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result


# --- Dump and load the database -------------------------------------------------------------------------------------


def _sqlite_path(db):
    name = str(db["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        raise BackupError("The SQLite database is in memory; there is nothing on disk to back up.")
    return name


def dump_database(dest):
    db = connection.settings_dict
    kind = engine()
    if kind == "sqlite":
        path = Path(_sqlite_path(db)).resolve()
        if not path.is_file():
            raise BackupError(f"The SQLite database {path} does not exist.")
        source = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=60)  # never creates a new file
        target = sqlite3.connect(dest)
        try:
            # The online backup API copies a consistent snapshot while the app keeps reading and writing (WAL).
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run(
            [pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={dest}", f"--dbname={db['NAME']}"],
            _pg_env(db),
        )
    return kind


def load_database(dump, kind):
    db = connection.settings_dict
    connections.close_all()  # our own connection must not hold a lock the restore waits for
    if kind == "sqlite":
        source = sqlite3.connect(dump)
        try:
            check = source.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"The database in the archive is damaged: {check}")
            target = sqlite3.connect(_sqlite_path(db), timeout=60)
            try:
                source.backup(target)  # replaces every page of the configured database, under its write lock
            finally:
                target.close()
        finally:
            source.close()
    else:
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={db['NAME']}",
                str(dump),
            ],
            _pg_env(db),
        )
    connections.close_all()


def database_is_empty():
    """True when no table holds data beyond what `migrate` itself writes."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in SCHEMA_TABLES:
                continue
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # table names come from introspection
            if cursor.fetchone():
                return False
    return True


# --- The archive ----------------------------------------------------------------------------------------------------


class _Hashing:
    """A file wrapper that hashes what tarfile reads through it."""

    def __init__(self, fileobj):
        self.fileobj, self.sha256 = fileobj, hashlib.sha256()

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.sha256.update(data)
        return data


def _add_bytes(tar, name, data, mtime=None):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime or datetime.datetime.now().timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _add_file(tar, name, path):
    stat = os.stat(path)
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
    with open(path, "rb") as f:
        reader = _Hashing(f)
        tar.addfile(info, reader)
    return {"sha256": reader.sha256.hexdigest(), "size": stat.st_size}


def _media_files(root):
    """(relative posix path, absolute path) of every regular file under the media folder; symlinks are skipped."""
    root = Path(root)
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def _archive_name(output_dir):
    stamp = datetime.datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    path, n = output_dir / f"venture-backup-{stamp}.tar.gz", 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        n += 1
        path = output_dir / f"venture-backup-{stamp}-{n}.tar.gz"
    return path


def create_backup(output_dir=None):
    """Write one timestamped archive into ``output_dir`` (default DATA_DIR/backups) and return its path.

    The archive is written as ``<name>.partial`` (mode 0600: it holds personal data) and renamed when complete, so a
    half-written file is never mistaken for a backup."""
    output_dir = Path(output_dir or Path(settings.DATA_DIR) / "backups").resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    kind = engine()
    db_member = DB_MEMBERS[kind]
    final = _archive_name(output_dir)
    partial = final.with_name(final.name + ".partial")
    members = {}
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".venture-backup-") as tmp:
        dump = Path(tmp) / db_member
        dump_database(dump)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                members[db_member] = _add_file(tar, db_member, dump)
                media_count = 0
                for rel, path in _media_files(settings.MEDIA_ROOT):
                    try:
                        data = path.read_bytes()  # read once: the checksum is of exactly the bytes archived
                        mtime = path.stat().st_mtime
                    except FileNotFoundError:  # removed by the running app since the listing
                        continue
                    members[f"{MEDIA}/{rel}"] = _add_bytes(tar, f"{MEDIA}/{rel}", data, mtime)
                    media_count += 1
                manifest = {
                    "format": FORMAT,
                    "app": "venture",
                    "app_version": app_version(),
                    "database_engine": kind,
                    "database_member": db_member,
                    "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "media_files": media_count,
                    "members": members,
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return final, manifest


def _safe_name(name):
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return False
    return name == MANIFEST or name in DB_MEMBERS.values() or (path.parts[0] == MEDIA)


def extract_archive(archive, into):
    """Extract ``archive`` into the folder ``into`` and check it against its manifest; return the manifest.

    Only regular files and folders with safe names are accepted (no links, devices, absolute paths or ``..``), each
    file is hashed while it is written, and any difference from the manifest (a changed byte, a missing or an extra
    member) refuses the whole archive."""
    into = Path(into)
    hashes = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = member.name.rstrip("/")
                if not _safe_name(name):
                    raise BackupError(f"The archive has an unexpected member {member.name!r}; refused.")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"The archive member {member.name!r} is not a regular file; refused.")
                if name in hashes:
                    raise BackupError(f"The archive holds {member.name!r} twice; refused.")
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        dst.write(chunk)
                hashes[name] = digest.hexdigest()
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError) and not Path(archive).exists():
            raise BackupError(f"No such file: {archive}") from exc
        raise BackupError(f"{archive} is not a readable backup archive: {exc}") from exc
    if MANIFEST not in hashes:
        raise BackupError("The archive has no manifest.json; refused.")
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
        expected = {name: entry["sha256"] for name, entry in manifest["members"].items()}
        db_member = manifest["database_member"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"The manifest cannot be read: {exc}") from exc
    found = {name: digest for name, digest in hashes.items() if name != MANIFEST}
    problems = []
    for name in sorted(expected.keys() | found.keys()):
        if name not in found:
            problems.append(f"{name}: listed in the manifest but missing")
        elif name not in expected:
            problems.append(f"{name}: not listed in the manifest")
        elif found[name] != expected[name]:
            problems.append(f"{name}: checksum mismatch")
    if db_member not in found:
        problems.append(f"{db_member}: the database dump is missing")
    if problems:
        raise BackupError("The archive failed verification and was NOT restored:\n  " + "\n  ".join(problems))
    return manifest


def _restore_media(staged, media_root, stamp):
    """Put the archive's media folder in place of MEDIA_ROOT. The previous folder is kept beside it (returned) so a
    mistaken restore can be undone; delete it once the restore is checked."""
    media_root = Path(media_root)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(staged)
    if not staged.exists():
        staged.mkdir()
    previous = None
    if media_root.exists():
        previous = media_root.with_name(f"{media_root.name}.before-restore-{stamp}")
        try:
            media_root.rename(previous)
        except OSError:  # MEDIA_ROOT is a mount point: copy the files over it instead of swapping folders
            shutil.copytree(staged, media_root, dirs_exist_ok=True)
            return None
    try:
        staged.rename(media_root)
    except OSError:  # another filesystem
        shutil.copytree(staged, media_root)
    return previous


def restore_backup(archive, *, yes=False):
    """Verify ``archive``, then restore the database and the media folder from it. Returns a summary dict.

    Refuses (BackupError) when the archive fails verification, was made from another database engine, or when the
    configured database already holds data and ``yes`` is not given."""
    archive = Path(archive)
    kind = engine()
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    # Extract beside MEDIA_ROOT: the restored media folder is then moved into place by a rename.
    with tempfile.TemporaryDirectory(dir=media_root.parent, prefix=".venture-restore-") as tmp:
        manifest = extract_archive(archive, tmp)
        if manifest.get("database_engine") != kind:
            raise BackupError(
                f"The archive holds a {manifest.get('database_engine')} database; this site runs "
                f"{kind}. Restore it on a site with the same database engine."
            )
        if not yes and not database_is_empty():
            raise BackupError(
                "The database is not empty; restoring replaces everything in it. Run again with --yes "
                "to confirm (take a backup of the current state first)."
            )
        load_database(Path(tmp) / manifest["database_member"], kind)
        stamp = datetime.datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
        previous = _restore_media(Path(tmp) / MEDIA, media_root, stamp)
    return {"manifest": manifest, "previous_media": previous}
