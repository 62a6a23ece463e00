"""The classroom's own network (#18): the addresses `build.py serve --lan` offers, its QR code read
back, the lab's Share link, the portable zip, and the LAN server under 30 clients at once."""
import hashlib
import http.client
import io
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))
from builder import lan  # noqa: E402
from builder.serve import make_server  # noqa: E402

SITE = ROOT / "dist" / "site"


def finish(coroutine):
    """Run a coroutine that never waits here (segno is installed: nothing to load) to its end,
    whatever event loop an earlier test left running in this thread."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited for something")


def decode(image):
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    return found[0].text


def test_addresses_the_default_route_first_then_private_ones_never_loopback():
    ranked = lan.rank("192.168.1.20", ["127.0.0.1", "169.254.3.4", "8.8.4.4", "10.0.0.7", "192.168.1.20",
                                       "0.0.0.0", "172.20.1.1", "not an address"])
    assert ranked == ["192.168.1.20", "10.0.0.7", "172.20.1.1", "8.8.4.4"]
    assert lan.rank(None, ["127.0.0.1"]) == []
    assert all(lan.usable(a) for a in lan.addresses())  # this machine's, whatever they are


def test_the_terminal_qr_code_reads_back_as_the_url():
    url = "http://192.168.1.20:8000/"
    text = lan.terminal_qr(url).strip("\n").splitlines()
    # two rows of modules per character: a full block is two light ones, a space two dark ones
    top = {"█": 1, "▀": 1, "▄": 0, " ": 0}
    bottom = {"█": 1, "▀": 0, "▄": 1, " ": 0}
    rows = []
    for line in text:
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    light = np.array(rows, np.uint8) * 255
    image = Image.fromarray(light).resize((light.shape[1] * 8, light.shape[0] * 8), Image.NEAREST)
    assert decode(image) == url


def test_the_share_link_is_the_experiment_and_its_qr_code_reads_back(monkeypatch):
    import panel as pn
    import segno

    from webnet_lab.app import App
    from webnet_lab.qr import qr_svg

    app = App(query={"arch": "lenet", "lr": "0.03", "seed": "3"})
    app.__panel__()
    url = app.share_url()
    assert url.startswith("?arch=lenet&") and "lr=0.03" in url and "seed=3" in url
    from panel.io.location import Location

    from panel.util import edit_readonly

    location = Location()
    with edit_readonly(location):  # as the page's worker sets it (webnet_lab.worker.set_location)
        location.param.update(protocol="http:", hostname="192.168.1.20", port="8000", pathname="/")
    monkeypatch.setattr(type(pn.state), "location", property(lambda s: location))
    url = app.share_url()
    assert url.startswith("http://192.168.1.20:8000/?arch=lenet&")
    box, button = pn.pane.HTML("", visible=False), pn.widgets.Button(name="Share (QR code)")
    finish(app.share(box, button))
    assert box.visible and url.replace("&", "&amp;") in box.object and "<svg" in box.object
    assert button.name == "Hide the QR code"  # what it does next
    assert qr_svg(segno, url) in box.object
    png = io.BytesIO()
    segno.make(url, error="m", micro=False).save(png, kind="png", scale=6)  # the same code, as pixels
    assert decode(Image.open(png)) == url
    app.trainer.learning_rate = 0.3  # the code shown follows the settings
    assert "lr=0.3" in box.object and qr_svg(segno, app.share_url()) in box.object
    finish(app.share(box, button))
    assert not box.visible and button.name == "Share (QR code)"  # the button shows and hides it


def test_the_portable_zip_holds_exactly_the_built_site(tmp_path, monkeypatch):
    import build

    monkeypatch.setattr(build, "PORTABLE", tmp_path / "lab.zip")
    monkeypatch.setattr(build, "ensure_built", lambda: None)
    build.step_dist()
    sums = dict(reversed(line.split("  ", 1)) for line in (SITE / "SHA256SUMS").read_text().splitlines())
    with zipfile.ZipFile(tmp_path / "lab.zip") as z:
        names = {n.removeprefix("webnet-lab/") for n in z.namelist()}
        assert names == set(sums) | {"SHA256SUMS", "sw.js", "READ-ME.txt"}
        for name, digest in sums.items():
            assert hashlib.sha256(z.read("webnet-lab/" + name)).hexdigest() == digest, name
        assert "python3 -m http.server" in z.read("webnet-lab/READ-ME.txt").decode()


def test_the_lan_server_serves_thirty_clients_at_once():
    server = make_server(0, SITE, host="0.0.0.0")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = (lan.addresses() or ["127.0.0.1"])[0]
    sums = [line.split("  ", 1) for line in (SITE / "SHA256SUMS").read_text().splitlines()]
    biggest = sorted(sums, key=lambda s: -(SITE / s[1]).stat().st_size)[:3]
    wanted = [s for s in sums if s[1] in ("index.html", "worker.js")] + biggest
    results, errors = [], []

    def client():
        try:
            conn = http.client.HTTPConnection(host, server.server_address[1], timeout=60)
            for digest, name in wanted:
                conn.request("GET", "/" + name)
                r = conn.getresponse()
                body = r.read()
                results.append((name, r.status, digest == hashlib.sha256(body).hexdigest()))
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.shutdown()
    server.server_close()
    assert errors == [] and len(results) == 30 * len(wanted)
    assert all(status == 200 and same for _, status, same in results)
