"""archive reads an uploaded .zip, .tar.gz or .tar and decides, entry by entry, what may land.

Nothing declared in an archive is trusted: every entry is read with a hard cap, and
sizes are counted from the bytes actually decompressed. An entry that may not land
is *skipped* with a stable reason code (below); an archive that is unusable as a
whole raises a problem (422 corrupt or not an archive, 413 over a total limit) and
the caller writes nothing (it stores batches inside one transaction).

Per-entry reasons: the path codes of ``paths`` (``path_traversal``,
``absolute_path``, ``drive_letter``, ``invalid_path``, ``path_too_long``), then
``symlink``, ``hardlink``, ``device``, ``fifo``, ``unsupported_type`` (sockets,
sparse files), ``encrypted``, ``corrupt`` (bad CRC or data), ``duplicate`` (a path
seen earlier in the archive), ``too_many_files`` (past ``ARCHIVE_MAX_FILES``),
``too_large`` (past ``FILE_MAX_BYTES``), ``compression_ratio`` (a zip entry
inflating more than ``ARCHIVE_MAX_RATIO`` times, once past ``RATIO_FLOOR`` bytes)
and ``binary`` (a NUL byte, or not UTF-8).

Whole-archive refusals: not a zip/gzip/tar or corrupt (422); more than
``ARCHIVE_MAX_ENTRIES`` entries, more than ``ARCHIVE_MAX_TOTAL_BYTES`` decompressed,
or a .tar.gz stream inflating more than ``ARCHIVE_MAX_RATIO`` times overall (413).
Directories are not files: they are neither stored nor reported.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

from functions.project_service import paths
from functions.project_service.settings import ProjectConfig
from shared import languages
from shared.errors import PayloadTooLarge, ValidationFailed

RATIO_FLOOR = 1024 * 1024
"""Below this many decompressed bytes no ratio is a bomb (tiny repetitive files are fine)."""
_CHUNK = 64 * 1024
_BATCH_BYTES = 8 * 1024 * 1024
_BATCH_FILES = 500
_TAR_OVERHEAD = 1024  # header + padding per entry, for the stream-level cap

ZIP, TAR_GZ, TAR = "zip", "tar.gz", "tar"
_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error, struct.error)


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_entries: int
    max_total_bytes: int
    max_ratio: int
    file_max_bytes: int
    path_max_length: int

    @classmethod
    def of(cls, config: ProjectConfig) -> Limits:
        return cls(
            max_files=config.archive_max_files,
            max_entries=config.archive_max_entries,
            max_total_bytes=config.archive_max_total_bytes,
            max_ratio=config.archive_max_ratio,
            file_max_bytes=config.file_max_bytes,
            path_max_length=config.path_max_length,
        )


@dataclass(frozen=True)
class Accepted:
    path: str
    content: bytes
    sha256: str
    language: str | None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class Batch:
    accepted: list[Accepted] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    size: int = 0


class _Entry(Protocol):
    name: str
    kind: str
    compressed_size: int | None
    errors: tuple[type[BaseException], ...]
    """Read errors that spoil only this entry (the rest of the archive stays readable)."""

    def open(self) -> IO[bytes]: ...


class EntryRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invalid(detail: str) -> ValidationFailed:
    return ValidationFailed([{"loc": ["body"], "msg": detail, "type": "archive"}], detail=detail)


def detect(data: bytes) -> str:
    """``zip``, ``tar.gz`` or ``tar`` from the magic bytes.

    Raises:
        ValidationFailed: none of them.
    """
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return ZIP
    if data[:2] == b"\x1f\x8b":
        return TAR_GZ
    if data[257:262] == b"ustar":
        return TAR
    raise invalid("The body is not a .zip, .tar.gz or .tar archive.")


def batches(data: bytes, limits: Limits) -> Iterator[Batch]:
    """Read ``data`` and yield what may land in batches of bounded size.

    Raises:
        ValidationFailed: the archive is not one, or is corrupt.
        PayloadTooLarge: the archive exceeds a whole-archive limit.
    """
    kind = detect(data)
    reader = _Reader(limits)
    entries = _zip_entries(data, limits) if kind == ZIP else _tar_entries(data, kind, limits)
    batch = Batch()
    try:
        for entry in entries:
            reader.consider(entry, batch)
            if batch.size >= _BATCH_BYTES or len(batch.accepted) >= _BATCH_FILES:
                yield batch
                batch = Batch()
    except _CORRUPT as e:
        raise invalid(f"The {kind} archive is corrupt: {e}.") from None
    yield batch


class _Reader:
    """Applies the per-entry rules and counts what the whole archive has cost so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.entries = 0
        self.files = 0
        self.total = 0
        self.seen: set[str] = set()

    def consider(self, entry: _Entry, batch: Batch) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise PayloadTooLarge(
                f"The archive has more than {self.limits.max_entries} entries "
                "(ARCHIVE_MAX_ENTRIES)."
            )
        if entry.kind == "dir":
            return
        try:
            accepted = self._accept(entry)
        except paths.PathRefused as e:
            batch.skipped.append(Skipped(paths.display(entry.name), e.reason))
        except EntryRefused as e:
            batch.skipped.append(Skipped(paths.display(entry.name), e.reason))
        else:
            batch.accepted.append(accepted)
            batch.size += accepted.size

    def _accept(self, entry: _Entry) -> Accepted:
        path = paths.normalize(entry.name, max_length=self.limits.path_max_length)
        if entry.kind != "file":
            raise EntryRefused(entry.kind)
        if path in self.seen:
            raise EntryRefused("duplicate")
        if self.files >= self.limits.max_files:
            raise EntryRefused("too_many_files")
        self.seen.add(path)
        content, digest = self._read(entry)
        if not is_text(content):
            raise EntryRefused("binary")
        self.files += 1
        return Accepted(path, content, digest, languages.detect(path, content[:256]))

    def _read(self, entry: _Entry) -> tuple[bytes, str]:
        """The entry's bytes and SHA-256, hashed as they stream, capped at FILE_MAX_BYTES."""
        cap = self.limits.file_max_bytes
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        try:
            with entry.open() as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    self._count(len(chunk))
                    if size > cap:
                        raise EntryRefused("too_large")
                    if entry.compressed_size is not None and _bomb(
                        size, entry.compressed_size, self.limits.max_ratio
                    ):
                        raise EntryRefused("compression_ratio")
                    digest.update(chunk)
                    chunks.append(chunk)
        except entry.errors as e:
            raise EntryRefused("corrupt") from e
        except NotImplementedError as e:
            raise EntryRefused("unsupported_type") from e
        return b"".join(chunks), digest.hexdigest()

    def _count(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise PayloadTooLarge(
                f"The archive decompresses to more than {self.limits.max_total_bytes} bytes "
                "(ARCHIVE_MAX_TOTAL_BYTES)."
            )


def _bomb(size: int, compressed: int, ratio: int) -> bool:
    return size > RATIO_FLOOR and size > ratio * max(compressed, 1)


def is_text(content: bytes) -> bool:
    """Text is UTF-8 without NUL bytes; everything else is binary."""
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------- zip


@dataclass
class _ZipEntry:
    archive: zipfile.ZipFile
    info: zipfile.ZipInfo
    name: str
    kind: str
    compressed_size: int | None
    errors: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zlib.error, EOFError)

    def open(self) -> IO[bytes]:
        if self.info.flag_bits & 0x1:
            raise EntryRefused("encrypted")
        return self.archive.open(self.info)


def _zip_entries(data: bytes, limits: Limits) -> Iterator[_Entry]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise PayloadTooLarge(
                f"The archive has {len(infos)} entries; the limit is {limits.max_entries} "
                "(ARCHIVE_MAX_ENTRIES)."
            )
        for info in infos:
            yield _ZipEntry(archive, info, info.filename, _zip_kind(info), info.compress_size)


def _zip_kind(info: zipfile.ZipInfo) -> str:
    if info.is_dir():
        return "dir"
    mode = info.external_attr >> 16
    if not stat.S_IFMT(mode) or stat.S_ISREG(mode):  # many zippers store permissions only
        return "file"
    return _mode_kind(mode)


def _mode_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISDIR(mode):
        return "dir"
    return "unsupported_type"


# ---------------------------------------------------------------- tar


class _CappedStream:
    """A decompressed stream that refuses to inflate past a total or an overall ratio."""

    def __init__(self, raw: io.BytesIO, inner: io.BufferedIOBase, *, cap: int, ratio: int) -> None:
        self.raw, self.inner, self.cap, self.ratio = raw, inner, cap, ratio
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size if size >= 0 else _CHUNK)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.cap:
            raise PayloadTooLarge(
                f"The archive decompresses to more than {self.cap} bytes (ARCHIVE_MAX_TOTAL_BYTES)."
            )
        if self.raw is not self.inner and _bomb(self.read_bytes, self.raw.tell(), self.ratio):
            raise PayloadTooLarge(
                f"The archive inflates more than {self.ratio} times (ARCHIVE_MAX_RATIO)."
            )
        return chunk


@dataclass
class _TarEntry:
    archive: tarfile.TarFile
    member: tarfile.TarInfo
    name: str
    kind: str
    compressed_size: int | None = None
    errors: tuple[type[BaseException], ...] = ()

    def open(self) -> IO[bytes]:
        stream = self.archive.extractfile(self.member)
        if stream is None:
            raise EntryRefused("unsupported_type")
        return stream


def _tar_entries(data: bytes, kind: str, limits: Limits) -> Iterator[_Entry]:
    raw = io.BytesIO(data)
    inner: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if kind == TAR_GZ else raw
    cap = limits.max_total_bytes + _TAR_OVERHEAD * limits.max_entries
    stream = _CappedStream(raw, inner, cap=cap, ratio=limits.max_ratio)
    # Stream mode ("r|"): members are read in order, nothing seeks back.
    with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
        for member in archive:
            yield _TarEntry(archive, member, member.name, _tar_kind(member))


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "fifo"
    if member.isreg() and not member.issparse():
        return "file"
    return "unsupported_type"
