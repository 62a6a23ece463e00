"""The site's server (site/builder/serve.py): content negotiation by q-value, validators, confined
to its folder, no stale precompressed copies, quiet about bad clients, bounded under load."""
import gzip
import http.client
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))

from builder import serve  # noqa: E402


@pytest.mark.parametrize("header, want", [
    ("gzip, deflate, br", "br"),
    ("br;q=0, gzip", "gzip"),
    ("gzip;q=0, br;q=0", "identity"),
    ("gzip;q=0.5, br;q=0.4", "gzip"),
    ("abrotli, xgzip", "identity"),  # names are tokens, not substrings
    ("BR", "br"),
    ("*", "br"),
    ("*;q=0, identity", "identity"),
    ("identity;q=0, gzip;q=0.1", "gzip"),
    ("gzip;q=oops, br;q=1.5", "br"),  # a malformed weight is 0; weights are clamped to 1
    ("", "identity"),
    (None, "identity"),
])
def test_encoding_is_chosen_by_q_value(header, want):
    assert serve.choose_encoding(header, ["br", "gzip"]) == want


def test_only_available_encodings_are_chosen():
    assert serve.choose_encoding("br, gzip;q=0.9", ["gzip"]) == "gzip"
    assert serve.choose_encoding("br", []) == "identity"


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<p>home</p>")
    (root / "app.js").write_text("console.log('plain')")
    (root / "app.js.gz").write_bytes(gzip.compress(b"console.log('plain')"))
    (root / "sub" / "data.txt").write_text("data")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    server = serve.make_server(0, root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, server.server_address[1], server
    server.shutdown()
    server.server_close()


def get(port, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r, body


def test_compressed_copy_when_accepted_with_validators(site):
    root, port, _ = site
    r, body = get(port, "/app.js", **{"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == b"console.log('plain')" and r.getheader("Content-Type") == "text/javascript"
    assert r.getheader("Vary") == "Accept-Encoding" and r.getheader("Last-Modified")
    etag = r.getheader("ETag")
    r2, body2 = get(port, "/app.js", **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert r2.status == 304 and body2 == b""
    r3, body3 = get(port, "/app.js", **{"Accept-Encoding": "gzip;q=0", "If-None-Match": etag})
    assert r3.status == 200 and body3 == b"console.log('plain')" and r3.getheader("ETag") != etag


def test_stale_compressed_copy_is_not_served(site):
    root, port, _ = site
    (root / "app.js").write_text("console.log('edited after the build')")
    gz = (root / "app.js.gz").stat().st_mtime_ns
    os.utime(root / "app.js", ns=(gz + 1_000_000, gz + 1_000_000))  # edited after the compress step
    r, body = get(port, "/app.js", **{"Accept-Encoding": "gzip"})
    assert r.getheader("Content-Encoding") is None and body == b"console.log('edited after the build')"


def test_if_modified_since(site):
    root, port, _ = site
    r, _ = get(port, "/sub/data.txt")
    r2, body = get(port, "/sub/data.txt", **{"If-Modified-Since": r.getheader("Last-Modified")})
    assert r2.status == 304 and body == b""
    r3, _ = get(port, "/sub/data.txt", **{"If-Modified-Since": "not a date"})
    assert r3.status == 200


@pytest.mark.parametrize("path", ["/sub/", "/sub", "/link.txt", "/../secret.txt", "/%2e%2e/secret.txt",
                                  "/sub/../../secret.txt", "/missing.js"])
def test_no_listing_and_nothing_outside_the_folder(site, path):
    _, port, _ = site
    r, body = get(port, path)
    assert r.status == 404 and b"secret" not in body and b"data.txt" not in body


def test_root_serves_index(site):
    _, port, _ = site
    r, body = get(port, "/")
    assert r.status == 200 and body == b"<p>home</p>"


def wait_idle(server, timeout=5):
    """Until no connection is being handled: every one of the server's connection slots is free
    (taken here one by one, each waited for as the server frees it, then given back)."""
    deadline = time.monotonic() + timeout
    taken = 0
    try:
        for _ in range(serve.MAX_THREADS):
            assert server._slots.acquire(timeout=max(0, deadline - time.monotonic())), \
                "the server kept a connection open"
            taken += 1
    finally:
        for _ in range(taken):
            server._slots.release()


def test_bad_request_gets_400_and_one_log_line(site, capfd):
    _, port, server = site
    r, _ = get(port, "/%00")
    assert r.status == 400
    with socket.create_connection(("127.0.0.1", port)) as s:  # a client that goes away mid-request
        s.sendall(b"GET /app.js HTTP/1.1\r\nHost: x\r\n")
    wait_idle(server)
    err = capfd.readouterr().err
    assert "Traceback" not in err and err.count("\n") <= 2 and "400" in err


def test_silent_connections_are_closed_after_the_timeout(site, monkeypatch):
    _, port, _ = site
    monkeypatch.setattr(serve.SiteHandler, "timeout", 0.5)
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    start = time.perf_counter()
    assert s.recv(1) == b""  # the server closed it
    assert time.perf_counter() - start < 3
    s.close()


def test_a_hundred_concurrent_clients_are_served_quickly(site):
    """With half-open connections holding slots, 100 clients loading at once all get answers,
    none slower than a second."""
    root, port, _ = site
    (root / "big.bin").write_bytes(os.urandom(200_000))
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]  # open, silent
    try:
        def fetch(_):
            start = time.perf_counter()
            r, body = get(port, "/big.bin")
            return r.status, len(body), time.perf_counter() - start
        with ThreadPoolExecutor(100) as pool:
            results = list(pool.map(fetch, range(300)))
    finally:
        for s in idle:
            s.close()
    assert all(status == 200 and n == 200_000 for status, n, _ in results)
    assert max(t for _, _, t in results) < 1.0, max(t for _, _, t in results)
