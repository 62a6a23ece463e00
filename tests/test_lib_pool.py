"""Pooling against its slow twin (a loop over every window, ``np.argmax`` on the flattened window),
on inputs full of ties, in both memory layouts, with windows side by side, overlapping and with
rows and columns left over; the lenet preset that uses it."""
import io

import numpy as np
import pytest

import webnet as wn
from webnet import architecture
from webnet.models import architecture_name, build_model, parse_architecture


def loop_pool(x, kernel, stride, kind):
    """(y, dL/dx for a given grad_out) by visiting every window: the reference."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    y = np.zeros((n, c, ho, wo))
    where = {}
    for a in range(n):
        for b in range(c):
            for p in range(ho):
                for q in range(wo):
                    window = x[a, b, p * sh:p * sh + kh, q * sw:q * sw + kw]
                    if kind == "max":
                        first = int(np.argmax(window))  # the first maximum in reading order
                        y[a, b, p, q] = window.flat[first]
                        where[a, b, p, q] = [(p * sh + first // kw, q * sw + first % kw, 1.0)]
                    else:
                        y[a, b, p, q] = window.mean()
                        where[a, b, p, q] = [(p * sh + i, q * sw + j, 1 / (kh * kw))
                                             for i in range(kh) for j in range(kw)]

    def grad(g):
        dx = np.zeros(x.shape)
        for (a, b, p, q), taps in where.items():
            for i, j, share in taps:
                dx[a, b, i, j] += share * g[a, b, p, q]
        return dx
    return y, grad


def channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


# (kernel, stride, input shape): side by side; overlapping; left-over rows and columns; gaps; 1 x 1
SETTINGS = {
    "2x2": ((2, 2), None, (2, 3, 8, 6)),
    "3x3_stride_2": ((3, 3), (2, 2), (2, 3, 7, 6)),
    "2x2_leftover": ((2, 2), None, (2, 2, 7, 5)),
    "3x2_stride_1x2": ((3, 2), (1, 2), (2, 2, 5, 7)),
    "2x2_stride_3": ((2, 2), (3, 3), (1, 2, 8, 8)),
    "1x1": ((1, 1), None, (2, 2, 3, 3)),
    "whole_image": ((4, 5), None, (3, 2, 4, 5)),
}


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("setting", SETTINGS, ids=list(SETTINGS))
def test_pool_equals_the_loop_over_windows(setting, kind, layout):
    kernel, stride, shape = SETTINGS[setting]
    rng = np.random.default_rng(3)
    for values in ("ties", "normal"):
        x = rng.integers(0, 3, shape).astype(float) if values == "ties" else rng.standard_normal(shape)
        x = channels_last(x) if layout == "channels_last" else x
        layer = (wn.MaxPool2D if kind == "max" else wn.AvgPool2D)(kernel, stride)
        y_ref, grad_ref = loop_pool(x, layer.kernel_size, layer.stride, kind)
        y = layer.forward(x)
        assert y.shape == y_ref.shape and np.allclose(y, y_ref, rtol=0, atol=1e-12)
        g = rng.standard_normal(y.shape)
        assert np.allclose(layer.grad_x(x, g), grad_ref(g), rtol=0, atol=1e-12)
        y_fast, cache = layer.forward_train(x)  # the fast path: the first maximum cached
        assert np.array_equal(y_fast, y)
        assert np.allclose(layer.sgd_step(cache, g.copy(), 0.1), grad_ref(g), rtol=0, atol=1e-12)
        assert layer.sgd_step(cache, g.copy(), 0.1, need_grad_x=False) is None


def test_a_tie_gives_the_whole_gradient_to_the_first_maximum():
    x = np.array([[[[1.0, 5.0, 5.0, 0.0], [5.0, 5.0, 0.0, 0.0]]]])  # windows: all 5 but one; one 5 at the end
    dx = wn.MaxPool2D(2).grad_x(x, np.array([[[[1.0, 2.0]]]]))
    assert dx.tolist() == [[[[0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]


def test_the_layout_follows_the_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6))
    for layer in (wn.MaxPool2D(2), wn.AvgPool2D(2)):
        assert layer.forward(x).flags.c_contiguous and layer.grad_x(x, np.ones((2, 3, 3, 3))).flags.c_contiguous
        xl = channels_last(x)
        y, dx = layer.forward(xl), layer.grad_x(xl, np.ones((2, 3, 3, 3)))
        assert y.transpose(0, 2, 3, 1).flags.c_contiguous and dx.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 4)).astype(dtype)
    for layer in (wn.MaxPool2D(2), wn.AvgPool2D(2)):
        y, cache = layer.forward_train(x)
        assert y.dtype == dtype and layer.sgd_step(cache, np.ones_like(y), 1.0).dtype == dtype


def test_bad_inputs_and_settings_are_refused_with_the_values():
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\) with H >= 3 and W >= 3, got \(2, 1, 2, 5\)"):
        wn.MaxPool2D(3).forward(np.zeros((2, 1, 2, 5)))
    with pytest.raises(ValueError, match=r"got \(4, 4\)"):
        wn.AvgPool2D(2).forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"impossible MaxPool2D settings: kernel \(0, 0\)"):
        wn.MaxPool2D(0)
    with pytest.raises(ValueError, match=r"stride \(2, 0\)"):
        wn.AvgPool2D(2, (2, 0))


def test_repr_spec_and_output_shape():
    layer = wn.MaxPool2D((3, 2), 2)
    assert repr(layer) == "MaxPool2D(kernel=(3, 2), stride=(2, 2))"
    assert layer.spec() == {"type": "MaxPool2D", "kernel_size": [3, 2], "stride": [2, 2]}
    assert layer.output_shape(8, 7, 6) == (8, 3, 3) == wn.MaxPool2D((3, 2), 2).forward(np.zeros((1, 8, 7, 6))).shape[1:]
    assert repr(wn.AvgPool2D(2)) == "AvgPool2D(kernel=(2, 2), stride=(2, 2))" and not wn.AvgPool2D(2).param_names


# -- the architecture: specs, limits, shapes -------------------------------------------------------
def arch(*layers):
    return {"format": "webnet-model", "version": 1, "dtype": "float32", "layers": list(layers),
            "loss": {"type": "CrossEntropy", "eps": 1e-8, "reduction": "mean"}}


def pool(kind="MaxPool2D", kernel=(2, 2), stride=(2, 2)):
    return {"type": kind, "kernel_size": list(kernel), "stride": list(stride)}


RESHAPE = {"type": "Reshape", "shape": [1, 28, 28]}
TAIL = [{"type": "Flatten"}, {"type": "LinearLayer", "in_features": 196, "out_features": 10}, {"type": "Softmax"}]


@pytest.mark.parametrize("kind", ["MaxPool2D", "AvgPool2D"])
def test_architecture_checks_and_builds_pooling(kind):
    plan = architecture.check(arch(RESHAPE, pool(kind), *TAIL))
    assert plan.shapes[1] == (1, 14, 14) and plan.num_params == 1970
    net = architecture.build(arch(RESHAPE, pool(kind, (3, 2), (2, 2)), {"type": "Flatten"},
                                  {"type": "LinearLayer", "in_features": 13 * 14, "out_features": 10},
                                  {"type": "Softmax"}))
    assert type(net.layers[1]).__name__ == kind and net.layers[1].kernel_size == (3, 2)
    assert net.forward(np.zeros((2, 784), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("layers, message", [
    ((RESHAPE, pool(kernel=(29, 2)), *TAIL), r"layer 1 \(MaxPool2D\) with kernel \(29, 2\) takes \(C, H, W\)"),
    ((RESHAPE, pool(stride=(0, 2)), *TAIL), "stride must be a whole number from 1 to 64, got 0"),
    ((RESHAPE, pool(kernel=(65, 65)), *TAIL), "kernel_size must be a whole number from 1 to 64, got 65"),
    ((RESHAPE, {"type": "MaxPool2D", "kernel_size": [2, 2], "stride": 2}, *TAIL), "stride must be a list of 2"),
    ((RESHAPE, {"type": "AvgPool2D", "kernel_size": [2, 2]}, *TAIL), "lacks the key 'stride'"),
    ((RESHAPE, {**pool(), "padding": 1}, *TAIL), "unknown key 'padding'"),
    (({"type": "LinearLayer", "in_features": 784, "out_features": 196}, pool(), *TAIL[1:]), r"takes \(C, H, W\)"),
    ((pool(), *TAIL), "cannot come first"),
    ((RESHAPE, pool(), {"type": "LinearLayer", "in_features": 196, "out_features": 10}, {"type": "Softmax"}),
     r"takes 196 features but gets shape \(1, 14, 14\)"),
])
def test_architecture_refuses_bad_pooling(layers, message):
    with pytest.raises(architecture.ArchitectureError, match=message):
        architecture.check(arch(*layers))


# -- lenet ----------------------------------------------------------------------------------------
def test_lenet_is_a_named_architecture():
    net = build_model("lenet", rng=0)
    assert parse_architecture(" LeNet ") == "lenet" and architecture_name(net) == "lenet"
    assert [type(layer).__name__ for layer in net.layers] == [
        "Reshape", "Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "LinearLayer", "Softmax"]
    assert architecture.check(architecture.describe(net)).shapes[6] == (16, 4, 4) and net.num_params() == 5994
    other = build_model("lenet", rng=0)
    other.layers[3] = wn.AvgPool2D(2)  # the same shapes, another network: not lenet, still a CNN
    assert architecture_name(other) == "cnn" and architecture_name(build_model("cnn")) == "cnn"


def test_lenet_round_trips_through_a_file_and_predicts_the_same():
    net = build_model("lenet", rng=1)
    buf = io.BytesIO()
    wn.save(net, buf)
    loaded = wn.load(buf.getvalue())
    assert architecture_name(loaded) == "lenet" and repr(loaded) == repr(net)
    x = np.random.default_rng(2).random((5, 784), dtype=np.float32)
    assert np.array_equal(loaded.predict_proba(x), net.predict_proba(x))


def test_lenet_learns_on_the_shipped_digits():
    from webnet.data import load_mnist_subset

    X, y, Xt, yt = load_mnist_subset(n_train=2000, n_test=500)
    net = build_model("lenet", rng=0)
    net.fit_one_epoch(X, y, 32, 0.1, rng=1)
    assert net.evaluate(Xt, yt)[0] >= 0.8
