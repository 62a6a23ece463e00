"""``.npz`` files: deterministic writing, and reading that trusts nothing in the file.

Reading parses the zip's central directory and every ``.npy`` header itself (not ``zipfile`` or
``np.load``), and checks each entry's declared size against the caller's limits, against its
``.npy`` header and against the bytes really in the file, all before allocating anything. Entries
are inflated in chunks, never past their declared size, and their CRC is checked. Object arrays
are refused by their header: nothing is ever unpickled.
"""
from __future__ import annotations

import ast
import io
import math
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

CHUNK = 1 << 20  # bytes inflated at a time
MAX_NPY_HEADER = 10_000  # bytes of a .npy header's dict, as numpy's own reader allows
MAX_NAME = 1024  # bytes of an entry's name
DEFLATE_MAX_RATIO = 1032  # deflate never inflates one byte into more than about 1032
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory, 22 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory entry, 46 bytes
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header, 30 bytes
_UNSAFE_FLAGS = {0x1: "it is encrypted", 0x20: "it holds patched data", 0x40: "it is encrypted",
                 0x2000: "its directory is encrypted"}
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


class NpzError(ValueError):
    """An archive that is not a sound ``.npz`` within the given limits; the message says why."""


def write_npz(file, arrays):
    """``np.savez_compressed`` with fixed timestamps: the same arrays always give the same bytes.

    ``file``: a path or a binary file object; ``arrays``: {key: array}, stored as ``key.npy``.
    """
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)


@dataclass
class Entry:
    """One ``key.npy`` of the archive, as its central directory and ``.npy`` header declare it."""

    key: str
    raw_name: bytes
    method: int
    crc: int
    compressed: int  # bytes in the file
    size: int  # bytes once inflated: the .npy header and the data
    offset: int  # of the local header
    start: int = 0  # of the entry's data
    dtype: np.dtype | None = None
    shape: tuple = ()
    fortran_order: bool = False
    header: int = 0  # bytes of .npy header before the data

    @property
    def nbytes(self):
        return self.size - self.header


class Archive:
    """An ``.npz`` opened for safe reading from a seekable binary file of ``size`` bytes.

    ``dtypes``: the array dtypes allowed (anything else is refused by its header);
    ``max_entries`` and ``max_bytes`` (all entries inflated, headers included) bound the archive.
    ``entries`` maps each key to its ``Entry``; ``read(key)`` gives the array.
    """

    def __init__(self, f, size, dtypes, max_entries, max_bytes):
        self.f, self.file_size = f, size
        self.dtypes = {np.dtype(d) for d in dtypes}
        directory_offset, entries = self._directory(max_entries)
        self._place(entries, directory_offset)
        total = sum(e.size for e in entries)
        if total > max_bytes:
            raise NpzError(f"its arrays would take {total:,} bytes, more than the {max_bytes:,} allowed")
        for e in entries:
            self._read_npy_header(e)
        self.entries = {e.key: e for e in entries}

    # -- the zip structure -------------------------------------------------------------------
    def _read_at(self, offset, n):
        self.f.seek(offset)
        data = self.f.read(n)
        if len(data) != n:
            raise NpzError("it is truncated")
        return data

    def _directory(self, max_entries):
        tail_start = max(0, self.file_size - (_EOCD.size + 0xFFFF))
        tail = self._read_at(tail_start, self.file_size - tail_start)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            raise NpzError("it is truncated or corrupted: no zip directory at its end")
        _, disk, cd_disk, n_here, n_total, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, at)
        if 0xFFFF in (n_here, n_total) or 0xFFFFFFFF in (cd_size, cd_offset):
            raise NpzError("it is a ZIP64 archive (over 4 GB or 65,535 entries): far too large")
        if disk or cd_disk or n_here != n_total:
            raise NpzError("it is a multi-part zip archive")
        if n_total > max_entries:
            raise NpzError(f"it declares {n_total:,} entries, at most {max_entries} are allowed")
        if cd_offset + cd_size > tail_start + at:
            raise NpzError("it is truncated or corrupted: the zip directory lies outside the file")
        if cd_size > n_total * (_CENTRAL.size + 2 * MAX_NAME):
            raise NpzError(f"its zip directory takes {cd_size:,} bytes for {n_total} entries")
        directory = self._read_at(cd_offset, cd_size)
        entries, pos = [], 0
        for _ in range(n_total):
            if pos + _CENTRAL.size > len(directory) or directory[pos:pos + 4] != b"PK\x01\x02":
                raise NpzError("it is corrupted: a bad zip directory entry")
            (_, _, _, flags, method, _, _, crc, csize, usize, name_len, extra_len, comment_len, _, _, _,
             offset) = _CENTRAL.unpack_from(directory, pos)
            at = pos + _CENTRAL.size
            raw_name, extra = directory[at:at + name_len], directory[at + name_len:at + name_len + extra_len]
            pos = at + name_len + extra_len + comment_len
            name = self._name(raw_name, flags)
            usize, csize, offset = _zip64_sizes(extra, usize, csize, offset)
            for bit, why in _UNSAFE_FLAGS.items():
                if flags & bit:
                    raise NpzError(f"entry {name!r} cannot be read: {why}")
            if method not in _METHODS:
                raise NpzError(f"entry {name!r} uses compression method {method}; only stored and "
                               f"deflated entries are read")
            if not name.endswith(".npy"):
                raise NpzError(f"entry {name!r} is not a .npy array")
            key = name[:-4]
            if any(e.key == key for e in entries):
                raise NpzError(f"entry {name!r} appears twice")
            entries.append(Entry(key, raw_name, method, crc, csize, usize, offset))
        if pos > len(directory):
            raise NpzError("it is corrupted: the zip directory is cut short")
        return cd_offset, entries

    @staticmethod
    def _name(raw, flags):
        if len(raw) > MAX_NAME:
            raise NpzError(f"an entry's name is {len(raw):,} bytes long")
        try:
            return raw.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise NpzError("an entry's name is not valid UTF-8") from None

    def _place(self, entries, directory_offset):
        """Each entry's data inside the file, before the directory, overlapping no other entry
        (overlapping entries are how small zip bombs make many large files from one stream)."""
        ordered = sorted(entries, key=lambda e: e.offset)
        for e, following in zip(ordered, ordered[1:] + [None]):
            local = self._read_at(e.offset, _LOCAL.size) if e.offset + _LOCAL.size <= self.file_size else b""
            if len(local) != _LOCAL.size or local[:4] != b"PK\x03\x04":
                raise NpzError(f"entry {e.key + '.npy'!r} is truncated or corrupted: no local header")
            _, _, _, method, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack(local)
            if method != e.method or self.f.read(name_len) != e.raw_name:
                raise NpzError(f"entry {e.key + '.npy'!r} is corrupted: its local header disagrees with the directory")
            e.start = e.offset + _LOCAL.size + name_len + extra_len
            end = directory_offset if following is None else following.offset
            if e.start + e.compressed > end:
                raise NpzError(f"entry {e.key + '.npy'!r} is truncated or overlaps another entry")
            if e.method == zipfile.ZIP_STORED and e.compressed != e.size:
                raise NpzError(f"entry {e.key + '.npy'!r} is stored but declares {e.size:,} bytes in {e.compressed:,}")
            if e.size > DEFLATE_MAX_RATIO * e.compressed + 64:
                raise NpzError(f"entry {e.key + '.npy'!r} declares {e.size:,} bytes from {e.compressed:,} "
                               f"compressed, more than deflate can produce")

    # -- the .npy inside ---------------------------------------------------------------------
    def _read_npy_header(self, e):
        """Fill in ``e.dtype``, ``shape``, ``fortran_order`` and ``header`` from the first bytes
        of the entry, and check that they account for exactly its declared size."""
        head = b""
        for chunk in self._inflate(e, limit=12 + MAX_NPY_HEADER):
            head += chunk
        what = f"entry {e.key + '.npy'!r}"
        if not head.startswith(b"\x93NUMPY") or len(head) < 10:
            raise NpzError(f"{what} is not a .npy array (bad magic)")
        major = head[6]
        if major not in (1, 2, 3):
            raise NpzError(f"{what} has an unknown .npy format version {major}")
        start = 10 if major == 1 else 12
        length = int.from_bytes(head[8:start], "little")
        if length > MAX_NPY_HEADER or start + length > len(head):
            raise NpzError(f"{what} has a .npy header of {length:,} bytes (at most {MAX_NPY_HEADER:,})")
        text = head[start:start + length].decode("utf-8" if major == 3 else "latin1", "replace")
        try:
            with warnings.catch_warnings():  # a hostile header's odd escapes: refused below, not warned about
                warnings.simplefilter("ignore")
                meta = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise NpzError(f"{what} has an unreadable .npy header") from None
        if not isinstance(meta, dict) or set(meta) != {"descr", "fortran_order", "shape"}:
            raise NpzError(f"{what} has a .npy header without exactly descr, fortran_order and shape")
        descr, fortran_order, shape = meta["descr"], meta["fortran_order"], meta["shape"]
        if descr in ("|O", "<O", ">O", "O"):
            raise NpzError(f"{what} contains pickled data (an object array), which webnet never loads")
        try:
            dtype = np.dtype(descr) if isinstance(descr, str) else None
        except (TypeError, ValueError):
            dtype = None
        if dtype is None or dtype not in self.dtypes:
            allowed = ", ".join(sorted(d.name for d in self.dtypes))
            raise NpzError(f"{what} has dtype {str(descr)[:40]!r}; only {allowed} are read")
        if not isinstance(shape, tuple) or len(shape) > 8 or not all(
                type(d) is int and d >= 0 for d in shape) or type(fortran_order) is not bool:
            raise NpzError(f"{what} has a malformed .npy header (shape {repr(shape)[:40]})")
        data = math.prod(shape) * dtype.itemsize
        if start + length + data != e.size:
            raise NpzError(f"{what} declares shape {shape} ({data:,} bytes) but holds "
                           f"{e.size - start - length:,} bytes")
        e.dtype, e.shape, e.fortran_order, e.header = dtype, shape, fortran_order, start + length

    def _inflate(self, e, limit=None):
        """The entry's inflated bytes in chunks; with ``limit``, just its first bytes (at least
        ``limit`` of them unless the entry is shorter). Checks the size and CRC at the end."""
        want = e.size if limit is None else min(limit, e.size)
        self.f.seek(e.start)
        left, produced, crc = e.compressed, 0, 0
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if e.method == zipfile.ZIP_DEFLATED else None
        pending = b""
        try:
            while produced < want:
                if not pending:
                    if not left:
                        break
                    pending = self.f.read(min(CHUNK, left))
                    if not pending:
                        raise NpzError(f"entry {e.key + '.npy'!r} is truncated")
                    left -= len(pending)
                if inflater is None:
                    out, pending = pending, b""
                else:
                    out = inflater.decompress(pending, CHUNK)
                    pending = inflater.unconsumed_tail
                    if inflater.eof and (pending or left):
                        pending, left = b"", 0  # bytes after the end of the stream: ignored
                produced += len(out)
                if produced > e.size:
                    raise NpzError(f"entry {e.key + '.npy'!r} is corrupted: it inflates past its declared "
                                   f"{e.size:,} bytes")
                crc = zlib.crc32(out, crc)
                yield out
        except zlib.error as err:
            raise NpzError(f"entry {e.key + '.npy'!r} is corrupted ({err})") from None
        if limit is None and (produced != e.size or crc != e.crc):
            raise NpzError(f"entry {e.key + '.npy'!r} is truncated or corrupted (size or CRC mismatch)")

    def _data_chunks(self, e):
        """The entry's array bytes (after the .npy header), in chunks."""
        skip = e.header
        for chunk in self._inflate(e):
            if skip:
                chunk, skip = chunk[skip:], max(0, skip - len(chunk))
            if chunk:
                yield chunk

    def check(self, key, finite=False):
        """Inflate entry ``key`` without keeping it: size, CRC and, with ``finite``, that every
        value is finite. Nothing the size of the array is allocated."""
        e = self.entries[key]
        carry = b""
        for chunk in self._data_chunks(e):
            if finite:
                chunk = carry + chunk
                whole = len(chunk) - len(chunk) % e.dtype.itemsize
                if not np.isfinite(np.frombuffer(chunk[:whole], e.dtype)).all():
                    raise NpzError(f"{key!r} contains NaN or infinite values")
                carry = chunk[whole:]

    def read(self, key):
        """Entry ``key`` as a C-ordered array (its size was checked when the archive was opened)."""
        e = self.entries[key]
        out = np.empty(e.nbytes, np.uint8)
        pos = 0
        for chunk in self._data_chunks(e):
            out[pos:pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
            pos += len(chunk)
        array = out.view(e.dtype)
        if e.fortran_order:
            return np.ascontiguousarray(array.reshape(e.shape[::-1]).T)
        return array.reshape(e.shape)


def _zip64_sizes(extra, usize, csize, offset):
    """Sizes the directory marks 0xFFFFFFFF come from the ZIP64 extra field (id 1), in order."""
    values = [usize, csize, offset]
    if 0xFFFFFFFF not in values:
        return usize, csize, offset
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if kind == 1:
            field, at = extra[pos + 4:pos + 4 + length], 0
            for i, v in enumerate(values):
                if v == 0xFFFFFFFF:
                    if at + 8 > len(field):
                        raise NpzError("it is corrupted: a ZIP64 size is missing")
                    values[i] = struct.unpack_from("<Q", field, at)[0]
                    at += 8
            return tuple(values)
        pos += 4 + length
    raise NpzError("it is corrupted: a ZIP64 size is missing")


def read_npz(data, dtypes, max_entries, max_bytes):
    """{key: array} of all entries of an ``.npz`` given as bytes, read by ``Archive``."""
    archive = Archive(io.BytesIO(data), len(data), dtypes, max_entries, max_bytes)
    return {key: archive.read(key) for key in archive.entries}
