"""A classroom on one laptop (#18): 30 clients at once each load the whole built site from
`build.py serve --lan`'s server (bound to every address, reached at the machine's LAN address),
asking for brotli/gzip as browsers do; then a repeat visit, each file revalidated by its ETag."""
from __future__ import annotations

import http.client
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))
from builder import lan  # noqa: E402
from builder.common import SITE  # noqa: E402
from builder.serve import make_server  # noqa: E402

CLIENTS = 30


def _visit(host, port, names, etags, times, sizes, statuses):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    for name in names:
        headers = {"Accept-Encoding": "br, gzip"}
        if name in etags:
            headers["If-None-Match"] = etags[name]
        start = time.perf_counter()
        conn.request("GET", "/" + name, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append(time.perf_counter() - start)
        sizes.append(len(body))
        statuses.append(r.status)
        etags.setdefault(name, r.getheader("ETag"))
    conn.close()


def classroom(clients=CLIENTS, visits=("first", "repeat")):
    """{"first": ..., "repeat": ...}: wall seconds for all clients, the slowest request, bytes, statuses."""
    names = ["index.html", "sw.js"] + [line.split("  ", 1)[1] for line in (SITE / "SHA256SUMS").read_text().splitlines()
                                       if line.split("  ", 1)[1] != "index.html"]
    server = make_server(0, SITE, host="0.0.0.0")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = (lan.addresses() or ["127.0.0.1"])[0]
    etags = [{} for _ in range(clients)]
    out = {"host": host, "clients": clients, "files": len(names)}
    try:
        for visit in visits:
            times, sizes, statuses = [], [], []
            threads = [threading.Thread(target=_visit, args=(host, server.server_address[1], names, etags[i], times,
                                                            sizes, statuses)) for i in range(clients)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            out[visit] = {"seconds": time.perf_counter() - start, "slowest_request": max(times),
                          "median_request": statistics.median(times), "bytes": sum(sizes),
                          "requests": len(statuses), "statuses": sorted(set(statuses))}
    finally:
        server.shutdown()
        server.server_close()
    return out
