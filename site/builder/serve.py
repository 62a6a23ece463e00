"""The site's static file server (build.py serve; the tests and the benchmark use it too).

Read-only and confined to the site folder: no directory listings, nothing reached through a
symlink that leads out of the folder. Precompressed copies (.br, .gz from the compress step) are
sent when the client accepts them (RFC 9110 q-values) and only while they are newer than the file
they were made from. Every response carries validators (ETag, Last-Modified) so repeat visits
revalidate cheaply. Connections are bounded in number and time; bad requests and disconnects are
answered with one log line, never a traceback.
"""
from __future__ import annotations

import email.utils
import http.server
import os
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_THREADS = 128  # connections served at once; more wait in the listen backlog
BACKLOG = 256
TIMEOUT = 10  # seconds a connection may stay silent before it is closed
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # ours, best first
TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
         ".whl": "application/zip", ".zip": "application/zip", ".json": "application/json",
         ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml", ".png": "image/png"}


def accepted_encodings(header):
    """{coding: q} from an Accept-Encoding header (RFC 9110 12.5.3), names lower-cased."""
    result = {}
    for item in (header or "").split(","):
        name, *params = [p.strip() for p in item.split(";")]
        if not name:
            continue
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a malformed weight: not acceptable
        result[name.lower()] = q
    return result


def choose_encoding(header, available):
    """The content coding to send: the client's most preferred of ``available`` (ours first on a
    tie), or "identity"; None when nothing acceptable is available (then 406 would be correct;
    we send identity anyway, as most servers do)."""
    weights = accepted_encodings(header)
    star = weights.get("*")

    def q(coding):
        if coding in weights:
            return weights[coding]
        if coding == "identity":  # acceptable unless excluded ("identity;q=0" or "*;q=0", RFC 9110
            return 0.001 if star is None or star > 0 else 0.0  # 12.5.3), but preferred least
        return star if star is not None else 0.0

    candidates = [c for c in (*available, "identity") if q(c) > 0]
    if not candidates:
        return "identity"
    return max(candidates, key=lambda c: (q(c), -[*available, "identity"].index(c)))


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """GET and HEAD of the site's files."""

    server_version = "webnet-serve"
    protocol_version = "HTTP/1.1"  # keep-alive: a page load reuses its connections
    timeout = TIMEOUT
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def send_head(self):
        try:
            path = self._resolve()
        except ValueError:  # a NUL byte, or another path the file system cannot take
            self.send_error(400, "Bad request path")
            return None
        if path is None:
            self.send_error(404, "Not found")
            return None
        encoding, sent = "identity", path
        available = [c for c, suffix in ENCODINGS if _fresh(path, path.with_name(path.name + suffix))]
        chosen = choose_encoding(self.headers.get("Accept-Encoding"), available)
        if chosen != "identity":
            encoding, sent = chosen, path.with_name(path.name + dict(ENCODINGS)[chosen])
        stat = sent.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-{encoding}"'
        if self._not_modified(etag, path.stat().st_mtime):
            self.send_response(304)
            self._common_headers(etag, path)
            self.end_headers()
            return None
        f = open(sent, "rb")
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if encoding != "identity":
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(stat.st_size))
        self._common_headers(etag, path)
        self.end_headers()
        return f

    def _common_headers(self, etag, path):
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        self.send_header("Cache-Control", "no-cache")  # always revalidate: a new build is seen at once
        self.send_header("Vary", "Accept-Encoding")

    def _not_modified(self, etag, mtime):
        if "If-None-Match" in self.headers:
            tags = [t.strip() for t in self.headers["If-None-Match"].split(",")]
            return etag in tags or "*" in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    def _resolve(self):
        """The file the request names, or None. Directories give their index.html (no listings);
        the real path must lie inside the site folder (symlinks out of it are not followed)."""
        root = Path(self.directory).resolve()
        rel = unquote(urlsplit(self.path).path)
        if "\x00" in rel:
            raise ValueError("NUL in path")
        path = (root / rel.lstrip("/")).resolve()
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def list_directory(self, path):  # never reached through send_head; kept closed all the same
        self.send_error(404, "Not found")

    def log_message(self, fmt, *args):
        if os.environ.get("WEBNET_SERVE_LOG"):
            super().log_message(fmt, *args)

    def log_error(self, fmt, *args):
        if fmt.startswith("Request timed out"):
            return  # an idle keep-alive connection closed after TIMEOUT: normal, not an error
        sys.stderr.write(f"webnet-serve: {self.address_string()}: {fmt % args}\n")


def _fresh(original, compressed):
    """A precompressed copy may stand for ``original`` only if it was made after the file's last change."""
    try:
        return compressed.stat().st_mtime_ns >= original.stat().st_mtime_ns
    except OSError:
        return False


class SiteServer(http.server.ThreadingHTTPServer):
    """A thread per connection, at most MAX_THREADS at once; a listen backlog of BACKLOG."""

    request_queue_size = BACKLOG
    daemon_threads = True

    def __init__(self, address, handler):
        self._slots = threading.BoundedSemaphore(MAX_THREADS)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self._slots.acquire()  # the accept loop waits here; new clients wait in the backlog
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        """One line for a client that went away or misbehaved, instead of a traceback."""
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError, socket.timeout)):
            return  # a disconnect or an idle connection closed: nothing to report
        sys.stderr.write(f"webnet-serve: {client_address[0]}: {type(err).__name__}: {err}\n")


def make_server(port=0, directory=None, handler_class=None, host="127.0.0.1"):
    """A server for ``directory`` (the built site by default) on ``host:port`` (0: a free port)."""
    from functools import partial

    from .common import SITE

    handler = partial(handler_class or SiteHandler, directory=str(directory or SITE))
    return SiteServer((host, port), handler)
