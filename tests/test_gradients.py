"""Every layer's gradients against finite differences, and the checker tested on broken layers: each
finding of the exercises issue (bugs the old sampler missed, a false alarm) is a test here."""
import numpy as np
import pytest

import webnet as wn
from webnet import gradcheck as gc
from webnet.data import load_mnist_subset

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
    # standard normal inputs: no two entries of a window tie (a tie is a kink of the max)
    "maxpool": (lambda r: wn.MaxPool2D(2), (2, 3, 6, 5)),
    "maxpool_overlapping": (lambda r: wn.MaxPool2D((3, 2), stride=(2, 1)), (2, 2, 7, 6)),
    "avgpool": (lambda r: wn.AvgPool2D((2, 3), stride=2), (2, 2, 6, 7)),
}


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_layer_gradients_are_excellent(name):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        make, shape = CASES[name]
        layer = make(rng)
        rows = gc.check_layer(layer, rng.standard_normal(shape), rng)
        assert {r.what for r in rows} == {"grad_x", *layer.param_names}
        for r in rows:
            assert r.checked == r.total  # small layers: every entry
            assert r.verdict == "excellent", gc.format_rows(rows)


@pytest.mark.parametrize("arch", ["784-32-10", "784-16-8-10", "cnn", "lenet"])
def test_network_checks_are_never_worse_than_acceptable(arch):
    """On the lab's architectures, with real digits (which sit on ReLU kinks: see gradcheck.jittered),
    over many seeds: the old checker gave the CNN a false "wrong" on seed 0."""
    X, y = load_mnist_subset(n_test=1)[:2]
    for seed in range(2 if arch == "lenet" else 8):  # lenet's whole-network rows take ~10 s a seed
        rng = np.random.default_rng(seed)
        net = wn.build_model(arch, rng=rng)  # float32: the check runs on a float64 copy
        before = [p.copy() for p in net.parameters()]
        rows = gc.check_network(net, X[4 * seed:4 * seed + 4], y[4 * seed:4 * seed + 4], rng, sample=40)
        assert all(r.ok for r in rows), gc.format_rows(rows)
        assert rows[-2].layer == "network" and rows[-1].what == "params"
        assert all(np.array_equal(a, b) for a, b in zip(before, net.parameters()))  # untouched


def test_large_tensors_mix_the_largest_and_uniform_entries():
    grad = np.zeros(10_000)
    grad[[3, 500, 9999]] = 1.0
    picked = gc._pick(grad, 10, np.random.default_rng(0))
    assert {3, 500, 9999} <= set(picked.tolist()) and len(picked) == len(set(picked.tolist())) == 10
    assert len(gc._pick(np.ones((40, 50)), 10, np.random.default_rng(0))) == 2000  # small: in full


def test_perturbed_entries_are_restored():
    rng = np.random.default_rng(0)
    layer = wn.LinearLayer(5, 3, rng=rng)
    W0, x = layer.W.copy(), rng.standard_normal((2, 5))
    gc.check_layer(layer, x, rng)
    assert np.array_equal(layer.W, W0)


# -- broken layers ------------------------------------------------------------------------------------
class OneRowZero(wn.LinearLayer):
    def grad_params(self, x, grad_out):
        (W, dW), (b, db) = super().grad_params(x, grad_out)
        dW[7] = 0.0  # the gradient of one input feature's weights wrongly zero
        return [(W, dW), (b, db)]


class HalfRowsZero(wn.LinearLayer):
    def grad_params(self, x, grad_out):
        (W, dW), (b, db) = super().grad_params(x, grad_out)
        dW[::2] = 0.0
        return [(W, dW), (b, db)]


class ReLUHalf(wn.ReLU):
    def grad_x(self, x, grad_out):
        return grad_out * (np.asarray(x) > 0.5)


class BorderlessConv(wn.Conv2D):
    def grad_x(self, x, grad_out):
        dx = super().grad_x(x, grad_out)
        dx[:, :, [0, -1], :] = 0.0
        dx[:, :, :, [0, -1]] = 0.0
        return dx


class BiasPerSample(wn.LinearLayer):
    def grad_params(self, x, grad_out):
        (W, dW), (b, db) = super().grad_params(x, grad_out)
        return [(W, dW), (b, grad_out)]  # (N, D), not summed


class BiasMean(wn.LinearLayer):
    def grad_params(self, x, grad_out):
        (W, dW), (b, db) = super().grad_params(x, grad_out)
        return [(W, dW), (b, db / len(x))]


class SignFlippedLinear(wn.LinearLayer):
    def grad_x(self, x, grad_out):
        return -super().grad_x(x, grad_out)


def verdicts(rows, what):
    return [r.verdict for r in rows if r.what == what]


def test_one_wrongly_zero_row_of_a_large_dW_is_caught_on_every_seed():
    """The old sampler missed this for 100 of 100 seeds (it checked nonzero entries first)."""
    for seed in range(100):
        rng = np.random.default_rng(seed)
        rows = gc.check_layer(OneRowZero(100, 50, rng=rng), rng.standard_normal((3, 100)), rng)
        assert verdicts(rows, "W") == ["wrong"], seed


def test_half_of_dW_wrongly_zero_is_caught_in_the_layer_and_the_network():
    rng = np.random.default_rng(0)
    net = wn.NeuralNetwork([HalfRowsZero(784, 32, rng=rng), wn.ReLU(), wn.LinearLayer(32, 10, rng=rng), wn.Softmax()])
    X, y = load_mnist_subset(n_test=1)[:2]
    rows = gc.check_network(net, X[:4], y[:4], rng, sample=40)
    assert verdicts(rows, "W")[0] == "wrong" and rows[-1].verdict == "wrong"


def test_a_relu_cut_at_half_fails_its_own_row():
    rng = np.random.default_rng(1)
    net = wn.NeuralNetwork([wn.LinearLayer(20, 16, rng=rng), ReLUHalf(), wn.LinearLayer(16, 3, rng=rng), wn.Softmax()])
    rows = gc.check_network(net, rng.random((4, 20)), rng.integers(0, 3, 4), rng)
    relu_row = next(r for r in rows if r.layer.startswith("1 "))
    assert relu_row.verdict == "wrong"


def test_a_conv_grad_x_zero_on_the_border_is_caught():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rows = gc.check_layer(BorderlessConv(2, 3, 3, rng=rng), rng.standard_normal((2, 2, 8, 8)), rng)
        assert verdicts(rows, "grad_x") == ["wrong"]


def test_a_bias_gradient_of_the_wrong_shape_is_a_verdict_not_a_crash():
    rng = np.random.default_rng(0)
    rows = gc.check_layer(BiasPerSample(6, 10, rng=rng), rng.standard_normal((4, 6)), rng)
    assert [r.verdict for r in rows] == ["error"]
    assert rows[0].message == "grad_params returned b with shape (4, 10); the parameter b has shape (10,)"


def test_a_bias_gradient_divided_by_the_batch_is_caught_inside_a_network():
    """With a batch of one it is invisible; the per-layer checks use batches of two."""
    rng = np.random.default_rng(2)
    net = wn.NeuralNetwork([BiasMean(8, 5, rng=rng), wn.Tanh(), wn.LinearLayer(5, 3, rng=rng), wn.Softmax()])
    rows = gc.check_network(net, rng.standard_normal((1, 8)), rng.integers(0, 3, 1), rng)
    assert verdicts(rows, "b")[0] == "wrong"


def test_the_checker_catches_a_sign_flip_and_only_there():
    rng = np.random.default_rng(2)
    rows = gc.check_layer(SignFlippedLinear(4, 4, rng=rng), rng.standard_normal((3, 4)), rng)
    assert verdicts(rows, "grad_x") == ["wrong"] and all(r.ok for r in rows if r.what != "grad_x")


def test_the_checker_is_not_fooled_by_a_coarse_step():
    """A step so large that the central difference is wrong for a curved function must not read
    excellent: the checker is only as good as its differences."""
    rng = np.random.default_rng(0)
    rows = gc.check_layer(wn.Tanh(), rng.standard_normal((3, 5)), rng, h=0.5)
    assert rows[0].verdict in ("suspicious", "wrong")


def test_kinks_are_skipped_and_counted():
    x = np.array([[0.0, 1.0, -1.0], [2.0, 0.0, -3.0]])  # two inputs exactly on the kink
    rows = gc.check_layer(wn.ReLU(), x)
    assert rows[0].kinks == 2 and rows[0].checked == 4 and rows[0].ok


class MaxPoolEveryEntry(wn.MaxPool2D):
    def grad_x(self, x, grad_out):  # each window's gradient to all its entries, not to its maximum
        return np.repeat(np.repeat(np.asarray(grad_out), 2, axis=2), 2, axis=3)


class MaxPoolLastOnTies(wn.MaxPool2D):
    def grad_x(self, x, grad_out):  # the last maximum on a tie: the same subgradient class, a kink
        return super().grad_x(np.asarray(x)[:, :, ::-1, ::-1], np.asarray(grad_out)[:, :, ::-1, ::-1])[:, :, ::-1, ::-1]


def test_a_max_pool_spreading_its_gradient_is_caught_and_tie_rules_are_kinks():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((2, 2, 4, 6))
        assert verdicts(gc.check_layer(MaxPoolEveryEntry(2), x, rng), "grad_x") == ["wrong"]
        assert verdicts(gc.check_layer(MaxPoolLastOnTies(2), x, rng), "grad_x") == ["excellent"]  # no ties here
    tied = np.zeros((2, 1, 2, 2))  # every window a tie: its entries sit on kinks, none is compared
    row = gc.check_layer(wn.MaxPool2D(2), tied)[0]
    assert row.kinks == row.total == 8 and row.verdict == "suspicious"


def test_verdict_bands():
    assert [gc.verdict(e) for e in (1e-9, 1e-6, 1e-3, 0.5)] == ["excellent", "acceptable", "suspicious", "wrong"]


def test_a_sure_network_is_checked_on_the_digits_it_is_least_sure_of():
    """The shipped LeNet is all but certain of most test digits: there its loss is flat, the finite
    differences are rounding noise and its correct gradients read as "suspicious". On the digits it
    is least sure of (what the lab checks), the same gradients pass, also with few tensors in full."""
    from webnet.models import pretrained

    net = pretrained()
    x, y = load_mnist_subset(n_train=1, n_test=100, dtype=np.float64)[2:4]
    p = net.predict_proba(x)[np.arange(len(y)), y]
    sure = np.argsort(-p)[:4]
    rows = gc.check_network(net, x[sure], y[sure], np.random.default_rng(0), sample=20, full_limit=64)
    assert not all(r.ok for r in rows[-2:])  # the false alarm least_sure avoids
    xs, ys = gc.least_sure(net, x, y, 4)
    assert sorted(net.predict_proba(xs)[np.arange(4), ys]) == sorted(np.sort(p)[:4])
    rows = gc.check_network(net, xs, ys, np.random.default_rng(0), sample=20, full_limit=64)
    assert len(rows) == 18 and all(r.ok for r in rows)
    assert rows[-1].checked < rows[-1].total and rows[-1].directions > 0  # sampled, not in full
