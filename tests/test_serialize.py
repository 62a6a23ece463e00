"""state_dict / load_state_dict, save / load / load_weights and model cards; the large corpus of
hostile files is in test_lib_model_files.py."""
import io
import pickle
import zipfile

import numpy as np
import pytest

import webnet as wn
from webnet.serialize import ModelFileError


@pytest.fixture(params=["784-16-10", "784-8-6-10", "cnn"])
def net(request):
    return wn.build_model(request.param, rng=0)


def test_round_trip_path_and_bytes(net, tmp_path):
    path = tmp_path / "model.npz"
    wn.save(net, path)
    x = np.random.default_rng(1).random((5, 784))
    for loaded in (wn.load(path), wn.load(path.read_bytes()), wn.load(io.BytesIO(path.read_bytes()))):
        assert repr(loaded) == repr(net)
        assert np.array_equal(loaded.predict_proba(x), net.predict_proba(x))
        assert loaded.dtype == net.dtype


def test_save_to_path_without_suffix_keeps_the_name(tmp_path):
    net = wn.build_model("4-3", rng=0)
    wn.save(net, tmp_path / "weights")
    assert (tmp_path / "weights").exists() and wn.load(tmp_path / "weights").num_params() == 15


def test_load_weights_into_existing_model(tmp_path):
    a, b = wn.build_model("784-16-10", rng=0), wn.build_model("784-16-10", rng=1)
    wn.save(a, tmp_path / "a.npz")
    wn.load_weights(b, tmp_path / "a.npz")
    assert all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_load_state_dict_keeps_aliases():
    net = wn.build_model("6-4-3", rng=0)
    W = net.layers[0].W
    state = wn.build_model("6-4-3", rng=1).state_dict()
    net.load_state_dict(state)
    assert net.layers[0].W is W and np.array_equal(W, state["0.W"])


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("2.b"), "missing key '2.b'"),
    (lambda s: s.update({"9.W": np.zeros(3, np.float32)}), "unexpected key '9.W'"),
    (lambda s: s.update({"0.W": np.zeros((4, 6), np.float32)}), "shape mismatch for '0.W'"),
    (lambda s: s.update({"0.b": np.zeros(4, np.float64)}), "dtype mismatch for '0.b'"),
    (lambda s: s.update({"0.b": np.full(4, np.nan, np.float32)}), "'0.b' contains NaN"),
])
def test_strict_load_state_dict(change, message):
    net = wn.build_model("6-4-3", rng=0)
    before = net.state_dict()
    state = wn.build_model("6-4-3", rng=1).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def good_bytes():
    buf = io.BytesIO()
    wn.save(wn.build_model("784-16-10", rng=5), buf)
    return buf.getvalue()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def corrupt_middle(data):
    data = bytearray(data)
    data[len(data) // 2:len(data) // 2 + 64] = b"\xff" * 64
    return bytes(data)


def meta(obj):
    import json
    return np.frombuffer(json.dumps(obj).encode(), np.uint8)


BAD_FILES = {
    "empty": lambda: b"",
    "random_bytes": lambda: np.random.default_rng(0).bytes(5000),
    "truncated": lambda: good_bytes()[:len(good_bytes()) // 2],
    "corrupted": lambda: corrupt_middle(good_bytes()),
    "pickle": lambda: pickle.dumps({"0.W": np.zeros((784, 16))}),
    "npz_with_object_array": lambda: npz_bytes(__webnet__=np.array([{"a": 1}], dtype=object)),
    "npy_not_npz": lambda: (lambda b: (np.save(b, np.zeros(3)), b.getvalue())[1])(io.BytesIO()),
    "foreign_npz": lambda: npz_bytes(weights=np.zeros((784, 16))),
    "bad_json": lambda: npz_bytes(__webnet__=np.frombuffer(b"{not json", np.uint8)),
    "foreign_json": lambda: npz_bytes(__webnet__=meta({"format": "keras"})),
    "future_version": lambda: npz_bytes(__webnet__=meta({"format": "webnet-model", "version": 99})),
    "unknown_layer": lambda: npz_bytes(__webnet__=meta({"format": "webnet-model", "version": 1, "dtype": "float32",
                                                        "layers": [{"type": "Evil"}], "loss": {"type": "CrossEntropy"}})),
    "wrong_shapes": lambda: npz_bytes(__webnet__=meta(wn.architecture.describe(wn.build_model("784-16-10"))),
                                      **{"0.W": np.zeros((784, 17), np.float32), "0.b": np.zeros(16, np.float32),
                                         "2.W": np.zeros((16, 10), np.float32), "2.b": np.zeros(10, np.float32)}),
    "zip_not_npz": lambda: (lambda b: (zipfile.ZipFile(b, "w").close(), b.getvalue())[1])(io.BytesIO()),
}


@pytest.mark.parametrize("name", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_raise_clear_error_and_change_nothing(name, tmp_path):
    data = BAD_FILES[name]()
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    net = wn.build_model("784-16-10", rng=0)
    before = net.state_dict()
    for source in (path, data):
        with pytest.raises(ModelFileError) as info:
            wn.load_weights(net, source)
        assert str(info.value) and "Traceback" not in str(info.value)
        with pytest.raises(ModelFileError):
            wn.load(source)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


@pytest.mark.parametrize("name, message", [
    ("pickle", "contains pickled data"), ("npy_not_npz", "single .npy array"), ("random_bytes", "not an .npz archive"),
    ("empty", "it is empty"), ("truncated", "truncated or corrupted"), ("foreign_npz", "not a webnet model"),
    ("npz_with_object_array", "pickled data"),
])
def test_bad_files_are_named_for_what_they_are(name, message):
    with pytest.raises(ModelFileError, match=message):
        wn.load(BAD_FILES[name]())


def test_missing_file():
    with pytest.raises(ModelFileError, match="no such file"):
        wn.load("/nonexistent/model.npz")
