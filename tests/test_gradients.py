"""Every layer's gradients against finite differences, and the checker tested on broken layers."""
import numpy as np
import pytest

import webnet as wn
from webnet import gradcheck as gc


def away_from_kink(x, margin=1e-3):
    x = x.copy()
    x[np.abs(x) < margin] = 0.5
    return x


rng0 = np.random.default_rng(7)
CASES = {
    "linear": (lambda r: wn.LinearLayer(6, 4, rng=r), (5, 6)),
    "relu": (lambda r: wn.ReLU(), (5, 6)),
    "sigmoid": (lambda r: wn.Sigmoid(), (5, 6)),
    "tanh": (lambda r: wn.Tanh(), (5, 6)),
    "softmax": (lambda r: wn.Softmax(), (5, 6)),
    "flatten": (lambda r: wn.Flatten(), (3, 2, 4, 4)),
    "reshape": (lambda r: wn.Reshape((1, 4, 4)), (3, 16)),
    "conv2d": (lambda r: wn.Conv2D(2, 3, 3, rng=r), (2, 2, 7, 6)),
    "conv2d_stride_pad": (lambda r: wn.Conv2D(2, 3, (3, 2), stride=2, padding=1, rng=r), (2, 2, 7, 6)),
    "conv2d_one_channel": (lambda r: wn.Conv2D(1, 1, 3, stride=2, padding=1, rng=r), (2, 1, 7, 6)),
    "simpleconv": (lambda r: wn.SimpleConv(r.standard_normal((3, 2)), 0.3), (2, 6, 5)),
    "simpleconv_2d": (lambda r: wn.SimpleConv(r.standard_normal((3, 3)), -0.1), (6, 5)),
}


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_layer_gradients(name):
    rng = np.random.default_rng(1)
    make, shape = CASES[name]
    layer = make(rng)
    x = away_from_kink(rng.standard_normal(shape))
    rows = gc.check_layer(layer, x, rng, max_coords=10_000)
    assert {r.what for r in rows} == {"grad_x", *layer.param_names}
    for r in rows:
        assert r.checked == r.total  # small layers: every coordinate
        assert r.max_rel_error < 1e-6, gc.format_rows(rows)


@pytest.mark.parametrize("arch", ["784-32-10", "784-16-8-10", "cnn"])
def test_network_gradcheck_all_acceptable(arch):
    rng = np.random.default_rng(3)
    net = wn.build_model(arch, rng=rng)  # float32 model: the check runs on a float64 copy
    x, y = rng.random((4, 784)), rng.integers(0, 10, 4)
    before = [p.copy() for p in net.parameters()]
    rows = gc.check_network(net, x, y, rng)
    assert all(r.ok for r in rows), gc.format_rows(rows)
    assert rows[-2].layer == "network" and rows[-1].what == "params"
    assert all(np.array_equal(a, b) for a, b in zip(before, net.parameters()))  # untouched


def test_sampling_prefers_nonzero_gradients():
    grad = np.zeros(1000)
    grad[[3, 500, 999]] = 1.0
    picked = gc._pick(grad, 10, np.random.default_rng(0))
    assert {3, 500, 999} <= set(picked.tolist()) and len(picked) == 10 == len(set(picked.tolist()))


def test_perturbed_entries_are_restored():
    rng = np.random.default_rng(0)
    layer = wn.LinearLayer(5, 3, rng=rng)
    W0, x = layer.W.copy(), rng.standard_normal((2, 5))
    x0 = x.copy()
    gc.check_layer(layer, x, rng)
    assert np.array_equal(layer.W, W0) and np.array_equal(x, x0)


class SignFlippedLinear(wn.LinearLayer):
    def grad_x(self, x, grad_out):
        return -super().grad_x(x, grad_out)


class MissingTransposeLinear(wn.LinearLayer):
    def grad_params(self, x, grad_out):
        (W, _), (b, db) = super().grad_params(x, grad_out)
        return [(W, (grad_out.T @ x).reshape(W.shape)), (b, db)]  # dW computed without the transpose


@pytest.mark.parametrize("broken, what", [(SignFlippedLinear(4, 4, rng=rng0), "grad_x"),
                                          (MissingTransposeLinear(4, 4, rng=rng0), "W")],
                         ids=["sign_flip", "missing_transpose"])
def test_checker_catches_broken_backward(broken, what):
    rows = gc.check_layer(broken, np.random.default_rng(2).standard_normal((3, 4)))
    row = next(r for r in rows if r.what == what)
    assert row.verdict == "wrong" and not row.ok
    assert all(r.ok for r in rows if r.what != what)


def test_checker_catches_broken_layer_inside_network():
    rng = np.random.default_rng(5)
    net = wn.NeuralNetwork([SignFlippedLinear(6, 5, rng=rng), wn.Tanh(), wn.LinearLayer(5, 3, rng=rng),
                            wn.Softmax()], wn.CrossEntropy())
    rows = gc.check_network(net, rng.standard_normal((4, 6)), rng.integers(0, 3, 4), rng)
    bad = {(r.layer, r.what) for r in rows if not r.ok}
    assert ("network", "grad_x") in bad and any(w == "grad_x" and l.startswith("0 ") for l, w in bad)


def test_verdict_bands():
    assert [gc.verdict(e) for e in (1e-9, 1e-6, 1e-3, 0.5)] == ["excellent", "acceptable", "suspicious", "wrong"]
