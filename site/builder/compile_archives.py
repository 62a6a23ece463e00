"""Compile the .py files of wheels and of the stdlib zip to .pyc, inside Pyodide's own Python (run
by pyc.js under Node), so the bytecode matches the CPython 3.12.7 of the page.

Reads /work/in/<archive>, writes /work/out/<archive>; ``LEVELS`` maps each archive's name to its
``compile()`` optimisation level. The .pyc files are sourceless (no timestamp check) and the
wheel's RECORD is rewritten with their hashes. Files that do not compile (templates, Python 2
examples inside some packages) are kept as they are.
"""
import base64
import hashlib
import importlib._bootstrap_external as bootstrap  # _code_to_timestamp_pyc: see private_apis.py
import json
import zipfile

STAMP = (1980, 1, 1, 0, 0, 0)  # no date inside the archives: the same input gives the same bytes


def pyc(source, name, level):
    code = compile(source, name, "exec", dont_inherit=True, optimize=level)
    return bootstrap._code_to_timestamp_pyc(code, 0, len(source))


def convert(src, dst, level):
    record_name, records = None, []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            data, name = zin.read(info.filename), info.filename
            if name.endswith(".dist-info/RECORD"):
                record_name = name
                continue
            if name.endswith(".py"):
                try:
                    data, name = pyc(data, name, level), name[:-3] + ".pyc"
                except (SyntaxError, ValueError):
                    pass
            out = zipfile.ZipInfo(name, date_time=STAMP)
            out.external_attr = info.external_attr
            zout.writestr(out, data, compress_type=zipfile.ZIP_DEFLATED)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{name},sha256={digest},{len(data)}")
        if record_name:
            records.append(f"{record_name},,")
            zout.writestr(zipfile.ZipInfo(record_name, date_time=STAMP), "\n".join(records) + "\n",
                          compress_type=zipfile.ZIP_DEFLATED)


for archive, level in json.loads(LEVELS).items():  # noqa: F821 (set by pyc.js)
    convert(f"/work/in/{archive}", f"/work/out/{archive}", level)
