"""Onboarding a shop from an upload: a zip of its tenant folder, or the blobs under a prefix of the knowledge
container, unpacked into a temporary folder within limits and imported with ``import_tenant`` (the command line
imports folders with the same function, so both print the same report and warnings).

Zip entries are checked before anything is written: no absolute paths, no ``..``, no links, at most
``MAX_FILES`` files and ``MAX_UNPACKED_BYTES`` once unpacked (a zip bomb is refused from its directory, then
again while reading). A zip whose files all sit in one top folder is read from that folder."""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from core.rag.retrieval import KnowledgeSearch
from core.stores.ports import DocumentStore

from . import ImportReport, TenantImportError, import_tenant

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_FILES = 5000


class BlobImport(BaseModel):
    """Import a tenant from its folder in the knowledge container."""

    model_config = {"extra": "forbid"}
    blob_prefix: str = Field(min_length=1, max_length=512, description="The tenant's folder in the knowledge "
                             "container: '<tenant>/' or a folder below it, holding tenant.json")


class UploadError(TenantImportError):
    """The upload itself is refused (``status``: 400 unreadable, 413 too large, 422 not a tenant folder)."""

    def __init__(self, message: str, field: str = "body", status: int = 400):
        super().__init__(message, field)
        self.status = status


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UploadError(f"zip entry {name[:120]!r} points outside the tenant folder")
    return path


def _root(names: list[PurePosixPath]) -> PurePosixPath:
    """The folder holding the tenant: the zip's single top folder when every file sits below it."""
    tops = {p.parts[0] for p in names}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in names):
        return PurePosixPath(next(iter(tops)))
    return PurePosixPath()


def unpack_zip(data: bytes, dest: Path) -> Path:
    """Write the zip's files under ``dest``; returns the tenant folder (where tenant.json is)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the zip is larger than {MAX_UPLOAD_BYTES} bytes", status=413)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("the body is not a zip archive") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > MAX_FILES:
            raise UploadError(f"the zip holds {len(entries)} files; the limit is {MAX_FILES}", status=413)
        if sum(info.file_size for info in entries) > MAX_UNPACKED_BYTES:
            raise UploadError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES} bytes", status=413)
        names = []
        for info in entries:
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UploadError(f"zip entry {info.filename[:120]!r} is a link; only files are accepted")
            names.append(_safe_name(info.filename))
        root = _root(names)
        written = 0
        for info, name in zip(entries, names, strict=True):
            relative = name.relative_to(root) if root.parts else name
            if relative.parts and relative.parts[0] == "__MACOSX":
                continue
            target = dest.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, open(target, "wb") as sink:
                    while chunk := source.read(1 << 16):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:  # the directory under-stated a size
                            raise UploadError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES} bytes", status=413)
                        sink.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
                raise UploadError(f"zip entry {info.filename[:120]!r} cannot be read ({type(exc).__name__})") from None
    if not (dest / "tenant.json").is_file():
        raise UploadError("the zip has no tenant.json at its top (or in its single top folder)", "tenant.json", 422)
    return dest


def unpack_blobs(blobs: Iterable[tuple[str, bytes]], prefix: str, dest: Path) -> Path:
    """Write blobs named ``<prefix><path>`` under ``dest`` as ``<path>``; returns the tenant folder."""
    total = count = 0
    for name, data in blobs:
        relative = _safe_name(name[len(prefix):].lstrip("/"))
        count, total = count + 1, total + len(data)
        if count > MAX_FILES or total > MAX_UNPACKED_BYTES:
            raise UploadError(f"more than {MAX_FILES} blobs or {MAX_UNPACKED_BYTES} bytes under the prefix",
                              "blob_prefix", 413)
        target = dest.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if not count:
        raise UploadError(f"no blobs under the prefix {prefix[:120]!r}", "blob_prefix", 422)
    if not (dest / "tenant.json").is_file():
        raise UploadError("no tenant.json directly under the prefix", "tenant.json", 422)
    return dest


def import_upload(tenant_id: str, unpack: Callable[[Path], Path], store: DocumentStore, *,
                  knowledge: KnowledgeSearch | None = None, dry_run: bool = False) -> ImportReport:
    """Unpack an upload into a temporary folder (``unpack(folder) -> tenant folder``) and import it."""
    workdir = Path(tempfile.mkdtemp(prefix="shopdesk-import-"))
    try:
        folder = unpack(workdir / "tenant")
        return import_tenant(tenant_id, folder, store, knowledge=knowledge, dry_run=dry_run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
