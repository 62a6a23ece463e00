"""state_dict / load_state_dict, save / load / load_weights and model cards; the large corpus of
hostile files is in test_lib_model_files.py."""
import io

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


def test_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder, not a model file"):
        wn.load(tmp_path)


def test_missing_file():
    with pytest.raises(ModelFileError, match="no such file"):
        wn.load("/nonexistent/model.npz")


# -- good files, model cards, and what save refuses ----------------------------------------------
def every_layer_net():
    rng = np.random.default_rng(0)
    return wn.NeuralNetwork([wn.Reshape((1, 28, 28)), wn.Conv2D(1, 2, 3, stride=2, padding=1, rng=rng), wn.Tanh(),
                             wn.Flatten(), wn.Reshape((14, 28)), wn.SimpleConv(rng.standard_normal((3, 3)), 0.5),
                             wn.Sigmoid(), wn.Flatten(), wn.LinearLayer(12 * 26, 10, rng=rng), wn.ReLU(),
                             wn.Softmax()], wn.CrossEntropy(eps=0.0, reduction="sum"))


@pytest.mark.parametrize("make", [every_layer_net, lambda: wn.build_model("784-8-10", rng=1, dtype=np.float64)],
                         ids=["every_layer", "float64"])
def test_round_trip_every_layer_and_dtype(make):
    net = make()
    buf = io.BytesIO()
    wn.save(net, buf)
    loaded = wn.load(buf.getvalue())
    assert repr(loaded) == repr(net) and loaded.dtype == net.dtype
    x = np.random.default_rng(2).random((3, 784))
    assert np.array_equal(loaded.predict_proba(x), net.predict_proba(x))


def test_model_card_round_trip():
    card = {"architecture": "784-16-10", "data": "MNIST subset (10,000 digits)", "epochs": 3,
            "settings": {"learning_rate": 0.1, "batch_size": 32}, "test_accuracy": 0.9312, "date": "2026-11-29"}
    blob = good_bytes_with(card)
    assert wn.read_card(blob) == card
    assert wn.read_card(good_bytes()) is None  # no card: None
    arch, arrays, read_card = wn.serialize.read(blob)
    assert read_card == card and arch["card"] == card and set(arrays) == {"0.W", "0.b", "2.W", "2.b"}


def good_bytes_with(card):
    buf = io.BytesIO()
    wn.save(wn.build_model("784-16-10", rng=5), buf, card=card)
    return buf.getvalue()


@pytest.mark.parametrize("card, message", [
    ([1, 2], "must be a dict"), ({1: "a"}, "string keys"), ({"x": float("nan")}, "only JSON values"),
    ({"x": object()}, "only JSON values"), ({"notes": "x" * 20_000}, "at most 16,384"),
])
def test_save_refuses_a_bad_card(card, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        wn.save(wn.build_model("4-3", rng=0), tmp_path / "m.npz", card=card)
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("net, message", [
    (wn.NeuralNetwork([wn.LinearLayer(4, 3)]), "last layer must be a Softmax"),
    (wn.NeuralNetwork([wn.ReLU(), wn.LinearLayer(4, 3), wn.Softmax()]), "cannot come first"),
    (wn.NeuralNetwork([wn.LinearLayer(4, 3).astype(np.float16), wn.Softmax()]), "float32 or float64"),
])
def test_save_refuses_what_load_would_refuse(net, message):
    with pytest.raises(ValueError, match=message):
        wn.save(net, io.BytesIO())


def test_fortran_ordered_arrays_from_another_writer_load():
    net = wn.build_model("784-16-10", rng=3)
    buf = io.BytesIO()
    arrays = {"__webnet__": np.frombuffer(__import__("json").dumps(wn.architecture.describe(net)).encode(), np.uint8)}
    arrays |= {k: np.asfortranarray(v) for k, v in net.state_dict().items()}
    np.savez(buf, **arrays)
    loaded = wn.load(buf.getvalue())
    assert all(np.array_equal(a, b) and a.flags.c_contiguous for a, b in zip(loaded.parameters(), net.parameters()))


def test_the_shipped_model_loads_through_the_strict_reader():
    from webnet.models import pretrained

    net = pretrained()
    wn.check_digit_classifier(net)
    assert net.num_params() == 5_994  # lenet


@pytest.mark.parametrize("make, message", [
    (lambda: wn.build_model("20-5-10"), "takes 20 inputs, not 784"),
    (lambda: wn.build_model("784-5-3"), "has 3 outputs, not 10"),
    (lambda: wn.NeuralNetwork([wn.Reshape((4, 196)), wn.Flatten(), wn.LinearLayer(784, 10), wn.Softmax()]),
     r"reshapes the 784 pixels into \(4, 196\)"),
    (lambda: wn.NeuralNetwork([wn.LinearLayer(784, 10)]), "last layer must be a Softmax"),
])
def test_check_digit_classifier_refuses(make, message):
    with pytest.raises(ValueError, match=message):
        wn.check_digit_classifier(make())


@pytest.mark.parametrize("arch", ["784-16-10", "784-32-16-10", "cnn"])
def test_check_digit_classifier_accepts(arch):
    wn.check_digit_classifier(wn.build_model(arch, rng=0))


def test_cli_predict_refuses_a_model_that_is_not_for_digits(tmp_path, capsys):
    from webnet import cli

    wn.save(wn.build_model("20-5-3", rng=0), tmp_path / "small.npz")
    assert cli.main(["predict", "--model", str(tmp_path / "small.npz"), "x.png"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"webnet: error: {tmp_path / 'small.npz'}: this model takes 20 inputs, not 784 (28x28 pixels)"
