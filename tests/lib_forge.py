"""Forging model files for the tests: a raw zip writer with every header field under control,
``.npy`` headers that lie, and model descriptions with one thing wrong."""
import copy
import io
import json
import re
import struct
import zlib

import numpy as np

import webnet as wn
from webnet.architecture import describe

GOOD_NET = wn.build_model("784-16-10", rng=5)
GOOD_ARCH = describe(GOOD_NET)
GOOD_STATE = GOOD_NET.state_dict()


def deflate(raw, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(raw) + c.flush()


def deflate_stream(head, n, fill=b"\0", tail=b"", level=6):
    """(raw deflate stream, CRC) of ``head`` + ``n`` bytes of ``fill`` + ``tail``, made 16 MB at a
    time: a gigabyte of zeros becomes a megabyte without ever being in memory."""
    c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    out, crc, block = [c.compress(head)], zlib.crc32(head), fill * (16 << 20)
    while n:
        piece = block[:min(n, len(block))]
        out.append(c.compress(piece))
        crc, n = zlib.crc32(piece, crc), n - len(piece)
    out += [c.compress(tail), c.flush()]
    return b"".join(out), zlib.crc32(tail, crc)


def npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def npy_header(descr="<f4", shape=(3,), fortran=False, text=None, version=1):
    """A ``.npy`` header (no data); ``text`` replaces the dict's text."""
    body = (text if text is not None else
            f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}").encode("latin1")
    body += b" " * (-(len(body) + 11) % 64) + b"\n"
    size = struct.pack("<H", len(body)) if version == 1 else struct.pack("<I", len(body))
    return b"\x93NUMPY" + bytes([version, 0]) + size + body


def entry(name, raw=None, method=8, data=None, **fields):
    """A zip entry holding ``raw`` (deflated unless ``method`` is 0), or exactly ``data`` as stored;
    ``fields`` override what the headers declare (crc, usize, csize, flags, offset, local_name ...)."""
    name = name.encode() if isinstance(name, str) else name
    if data is None:
        data = deflate(raw) if method == 8 else raw
    e = {"name": name, "data": data, "method": method, "crc": zlib.crc32(raw or b""),
         "usize": len(raw) if raw is not None else 0, "csize": len(data), "flags": 0, "extra": b""}
    e.update(fields)
    return e


def raw_zip(entries, n_entries=None, cd_offset=None, disk=0, comment=b""):
    """The bytes of a zip archive written field by field (local headers, data, directory, end)."""
    out, directory = bytearray(), bytearray()
    for e in entries:
        offset = len(out)
        local_name = e.get("local_name", e["name"])
        out += struct.pack("<4s5H3L2H", e.get("local_magic", b"PK\x03\x04"), 20, e["flags"], e["method"], 0, 33,
                           e["crc"], e["csize"] & 0xFFFFFFFF, e["usize"] & 0xFFFFFFFF, len(local_name), 0)
        out += local_name + e["data"]
        usize, csize = e["usize"], e["csize"]
        extra = e["extra"]
        if usize > 0xFFFFFFFE:  # ZIP64: the real size in the extra field
            extra = struct.pack("<HHQ", 1, 8, usize) + extra
            usize = 0xFFFFFFFF
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, e["flags"], e["method"], 0, 33, e["crc"],
                                 csize, usize, len(e["name"]), len(extra), 0, 0, 0, 0, e.get("offset", offset))
        directory += e["name"] + extra
    n = len(entries) if n_entries is None else n_entries
    start = len(out) if cd_offset is None else cd_offset
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", disk, disk, n, n, len(directory), start, len(comment))
    return bytes(out + directory + end + comment)


def meta_bytes(arch):
    text = arch if isinstance(arch, (bytes, str)) else json.dumps(arch)
    return np.frombuffer(text.encode() if isinstance(text, str) else text, np.uint8)


def model_file(arch=None, state=None, extra_entries=(), method=8):
    """A model file from a description (default: the good one) and a state dict (default: its
    weights), written entry by entry with ``raw_zip``."""
    arch = GOOD_ARCH if arch is None else arch
    state = GOOD_STATE if state is None else state
    entries = [entry("__webnet__.npy", npy(meta_bytes(arch)), method)]
    entries += [entry(f"{k}.npy", npy(v), method) for k, v in state.items()]
    return raw_zip(entries + list(extra_entries))


def arch_with(change):
    """The good description with ``change(arch)`` applied to a deep copy."""
    arch = copy.deepcopy(GOOD_ARCH)
    change(arch)
    return arch


def good_bytes(net=GOOD_NET, card=None):
    buf = io.BytesIO()
    wn.save(net, buf, card=card)
    return buf.getvalue()


def set_in(path, value):
    """A change for ``arch_with``: the value at ``path`` (keys and indices) set to ``value``."""
    def change(arch):
        target = arch
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def linear(d_in, d_out):
    return {"type": "LinearLayer", "in_features": d_in, "out_features": d_out}


def mlp(*layers, dtype="float32"):
    return dict(GOOD_ARCH, layers=list(layers), dtype=dtype)


SOFTMAX, RELU = {"type": "Softmax"}, {"type": "ReLU"}


def whitespace_meta(n):
    """A __webnet__ entry of ``n`` bytes of JSON: "{}" after n - 2 spaces, deflated (300 MB -> 300 KB)."""
    header = npy_header("|u1", (n,))
    data, crc = deflate_stream(header, n - 2, fill=b" ", tail=b"{}", level=9)
    return raw_zip([entry("__webnet__.npy", data=data, crc=crc, usize=len(header) + n)])


def assert_plain(message, pattern):
    assert re.search(pattern, message), message
    assert "\n" not in message and "Traceback" not in message and len(message) < 700, message


def byte_flips(blob, max_size):
    """A hypothesis strategy: 1 to ``max_size`` (position, new byte value) changes to ``blob``."""
    from hypothesis import strategies as st

    return st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)), min_size=1, max_size=max_size)


def damaged(blob, flips):
    out = bytearray(blob)
    for at, value in flips:
        out[at] = value
    return bytes(out)
