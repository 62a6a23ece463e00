"""webnet.drawings: a class's labelled drawings in one safe .npz (round trip, deterministic bytes,
merging without duplicates, every bad file refused with a plain message and nothing unpickled),
how a network reads them, the held-out split, and `python -m webnet evaluate --drawings`."""
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from webnet import drawn
from webnet.drawings import MAX_DRAWINGS, Drawings, DrawingsFileError
from webnet.models import pretrained
from webnet.npz import write_npz


@pytest.fixture(scope="module")
def class_set():
    X, y = drawn.digits(n_per_digit=4, seed=11)
    return Drawings.of(X, y)


def test_a_set_round_trips_in_the_same_bytes(class_set, tmp_path):
    path = tmp_path / "class.npz"
    class_set.save(path)
    back = Drawings.load(path)
    assert np.array_equal(back.images, class_set.images) and np.array_equal(back.labels, class_set.labels)
    assert Drawings.load(path.read_bytes()).to_bytes() == path.read_bytes() == class_set.to_bytes()
    assert back.X.shape == (40, 784) and back.X.dtype == np.float32 and 0 <= back.X.min() and back.X.max() <= 1
    assert np.abs(back.X - drawn.digits(n_per_digit=4, seed=11)[0]).max() <= 0.5 / 255 + 1e-7  # 8 bits kept


def test_merging_drops_duplicates_and_keeps_order(class_set):
    first, second = Drawings(class_set.images[:25], class_set.labels[:25]), Drawings(class_set.images[15:],
                                                                                      class_set.labels[15:])
    merged, new = first.merge(second)
    assert new == 15 and len(merged) == 40 and np.array_equal(merged.images, class_set.images)
    again, new = merged.merge(class_set)
    assert new == 0 and len(again) == 40
    relabelled = Drawings(class_set.images[:1], (class_set.labels[:1] + 1) % 10)  # the same ink, another label
    assert merged.merge(relabelled)[1] == 1
    one = Drawings.empty().add(class_set.X[0].reshape(28, 28), int(class_set.labels[0]))
    assert len(one) == 1 and len(one.add(class_set.X[0].reshape(28, 28), int(class_set.labels[0]))) == 1
    assert len(merged.remove(0)) == 39 and np.array_equal(merged.remove(0).images, merged.images[1:])


def npz(**arrays):
    buf = io.BytesIO()
    write_npz(buf, arrays)
    return buf.getvalue()


def pickled():
    buf = io.BytesIO()
    np.savez(buf, images=np.array([object()], dtype=object), labels=np.zeros(1, np.uint8))
    return buf.getvalue()


def bad_files():
    ok_images, ok_labels = np.zeros((2, 28, 28), np.uint8), np.array([1, 2], np.uint8)
    yield b"", "the file is empty"
    yield b"not a zip at all", "not a webnet drawings file"
    yield npz(images=ok_images), "should hold 'images' and 'labels'"
    yield npz(images=ok_images, labels=ok_labels, extra=ok_labels), "at most 2 are allowed"
    yield npz(images=ok_images, names=ok_labels), "should hold 'images' and 'labels', not images, names"
    yield npz(images=ok_images.astype(np.float32), labels=ok_labels), "not a webnet drawings file"
    yield npz(images=ok_images, labels=np.array([1, 12], np.uint8)), "labels must be digits 0-9"
    yield npz(images=ok_images, labels=np.array([1], np.uint8)), "labels of the shape (1,)"
    yield npz(images=np.zeros((2, 32, 32), np.uint8), labels=ok_labels), "not (N, 28, 28)"
    yield npz(images=np.zeros((MAX_DRAWINGS + 1, 28, 28), np.uint8),
              labels=np.zeros(MAX_DRAWINGS + 1, np.uint8)), "allowed"
    yield pickled(), "not a webnet drawings file"
    yield npz(images=ok_images, labels=ok_labels)[:-30], "not a webnet drawings file"


@pytest.mark.parametrize("data, reason", list(bad_files()))
def test_a_bad_file_is_refused_with_a_plain_message(data, reason):
    with pytest.raises(DrawingsFileError, match=reason.replace("(", r"\(").replace(")", r"\)")) as e:
        Drawings.load(data)
    assert "\n" not in str(e.value)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("images.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': "
                   b"(100000, 28, 28), }" + b" " * 54 + b"\n" + bytes(100_000 * 784))
        z.writestr("labels.npy", b"")
    with pytest.raises(DrawingsFileError):
        Drawings.load(buf.getvalue())


def test_how_a_network_reads_them_and_a_fair_split(class_set):
    net = pretrained()
    acc = class_set.accuracy(net)
    p = class_set.predictions(net)
    assert p.shape == (40, 10) and acc == float((p.argmax(1) == class_set.labels).mean()) and acc >= 0.9
    assert Drawings.empty().accuracy(net) is None
    train, held = class_set.split(0.25, seed=3)
    assert len(train) + len(held) == 40 and len(held) == 10  # one of each digit's four
    assert sorted(held.labels.tolist()) == list(range(10))
    keys = lambda d: {img.tobytes() for img in d.images}  # noqa: E731
    assert not keys(train) & keys(held)
    assert np.array_equal(class_set.split(0.25, seed=3)[1].images, held.images)  # the same seed, the same split
    pairs = Drawings(class_set.images[[0, 1, 4]], class_set.labels[[0, 1, 4]])  # two 0s and a 1
    assert [len(part) for part in pairs.split(0.25)] == [2, 1] and pairs.split(0.25)[1].labels.tolist() == [0]


def run(*args):
    return subprocess.run([sys.executable, "-m", "webnet", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_the_cli_evaluates_a_class_file(class_set, tmp_path):
    path = tmp_path / "class.npz"
    wrong = Drawings(class_set.images, (class_set.labels + 1) % 10)  # every label off by one
    Drawings(np.concatenate([class_set.images[:10], wrong.images[:3]]),
             np.concatenate([class_set.labels[:10], wrong.labels[:3]])).save(path)
    r = run("evaluate", "--drawings", path, "--wrong", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "model: the shipped pretrained model"
    right = int(lines[1].split()[2])
    assert right <= 10 and lines[1] == f"class drawings: {right} of 13 read right ({right / 13:.4f})"
    assert lines[2].startswith("MNIST test digits: 0.9") and "(2,000 of the shipped subset)" in lines[2]
    assert lines[3].startswith("  drawing ") and ", read as " in lines[3] and len(lines) == 6
    assert lines[5] == f"  ... and {13 - right - 2} more read wrong"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK nonsense")
    for args in (("--drawings", bad), ("--drawings", tmp_path / "missing.npz"), ("--drawings", path, "--model", bad)):
        r = run("evaluate", *args)
        assert r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1, (args, r.stderr)
        assert r.stderr.startswith("webnet: error: ")
