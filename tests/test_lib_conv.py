"""The convolution's fast paths against slow twins: the exercises' reference Conv2D (a loop over
output positions, written independently of webnet/conv.py) and a loop for padding; im2col in both
memory layouts; a convolution fed by a convolution (channels-last input, the lenet case)."""
import numpy as np
import pytest

import webnet as wn
from webnet.exercises import EXERCISES, load
from webnet.im2col import channels_last, im2col, kernel_matrix

LoopConv = load(EXERCISES["conv2d"].solution)["Conv2D"]


def as_channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def twins(c, o, k, stride, rng):
    fast = wn.Conv2D(c, o, k, stride=stride, rng=rng)
    fast.b[...] = rng.standard_normal(o)
    slow = LoopConv(c, o, k, stride)
    slow.K, slow.b = fast.K.copy(), fast.b.copy()
    return fast, slow


# (C, O, k, stride, H, W): one channel in, many; stride 1 and 2; sizes that leave rows over
SHAPES = [(1, 4, 5, 1, 12, 11), (3, 5, 3, 1, 7, 8), (8, 16, 5, 1, 12, 12), (3, 2, 3, 2, 9, 8), (2, 3, 2, 3, 8, 7)]


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{c}to{o}_k{k}_s{s}" for c, o, k, s, _, _ in SHAPES])
def test_conv2d_equals_the_loop(shape, layout):
    c, o, k, stride, h, w = shape
    rng = np.random.default_rng(sum(shape))
    fast, slow = twins(c, o, k, stride, rng)
    x = rng.standard_normal((3, c, h, w))
    if layout == "channels_last":
        x = as_channels_last(x)
        assert c == 1 or channels_last(x)
    y = fast.forward(x)
    assert np.allclose(y, slow.forward(x), rtol=0, atol=1e-12)
    g = rng.standard_normal(y.shape)
    assert np.allclose(fast.grad_x(x, g), slow.grad_x(x, g), rtol=0, atol=1e-12)
    for (_, mine), (_, ref) in zip(fast.grad_params(x, g), slow.grad_params(x, g)):
        assert np.allclose(mine, ref, rtol=0, atol=1e-12)
    # the training step: cached columns, one product per tap for dx, the update in place
    y_fast, cache = fast.forward_train(x)
    assert np.allclose(y_fast, y, rtol=0, atol=1e-12)
    dx = fast.sgd_step(cache, g.copy(), 0.1)
    assert np.allclose(dx, slow.grad_x(x, g), rtol=0, atol=1e-12)
    dK, db = (d for _, d in slow.grad_params(x, g))
    assert np.allclose(fast.K, slow.K - 0.1 * dK, rtol=0, atol=1e-12) and np.allclose(fast.b, slow.b - 0.1 * db)


def test_outputs_are_stored_channels_last_and_read_in_that_layout():
    rng = np.random.default_rng(0)
    first, second = wn.Conv2D(1, 8, 5, rng=rng), wn.Conv2D(8, 4, 3, rng=rng)
    y = first.forward(rng.standard_normal((2, 1, 12, 12)))
    assert channels_last(y)
    y2, cache = second.forward_train(y)
    assert cache.channels_last and cache.cols.flags.c_contiguous  # read in runs of kw * C
    assert np.allclose(y2, second.forward(np.ascontiguousarray(y)), rtol=0, atol=1e-12)
    dx = second.sgd_step(cache, np.ones(y2.shape), 0.0)
    assert channels_last(dx) and np.allclose(dx, second.grad_x(np.ascontiguousarray(y), np.ones(y2.shape)))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_im2col_layouts_hold_the_same_windows(stride, padding):
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((2, 3, 9, 8))
    first, last = im2col(x, (3, 2), stride, padding), im2col(as_channels_last(x), (3, 2), stride, padding)
    assert not first.channels_last and last.channels_last and first.out == last.out
    K = rng.standard_normal((4, 3, 3, 2))
    assert np.allclose(first.cols @ kernel_matrix(K, False).T, last.cols @ kernel_matrix(K, True).T, rtol=0, atol=1e-12)
    assert sorted(first.cols[5]) == sorted(last.cols[5])  # the same window, its entries in another order


def naive_conv_grads(x, K, g, stride, padding):
    """dL/dx and dL/dK of a padded convolution by a loop over output positions."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dK = np.zeros_like(xp), np.zeros_like(K)
    kh, kw = K.shape[2:]
    for p in range(g.shape[2]):
        for q in range(g.shape[3]):
            patch = xp[:, :, p * stride:p * stride + kh, q * stride:q * stride + kw]
            dK += np.einsum("no,nchw->ochw", g[:, :, p, q], patch)
            dxp[:, :, p * stride:p * stride + kh, q * stride:q * stride + kw] += np.einsum(
                "no,ochw->nchw", g[:, :, p, q], K)
    return dxp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]], dK


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
def test_padding_in_both_layouts(layout):
    rng = np.random.default_rng(5)
    layer = wn.Conv2D(3, 4, (3, 2), stride=2, padding=2, rng=rng)
    x = rng.standard_normal((2, 3, 7, 6))
    x = as_channels_last(x) if layout == "channels_last" else x
    y, cache = layer.forward_train(x)
    g = rng.standard_normal(y.shape)
    dx_ref, dK_ref = naive_conv_grads(np.ascontiguousarray(x), layer.K, g, 2, 2)
    assert np.allclose(layer.grad_x(x, g), dx_ref, rtol=0, atol=1e-12)
    K_before = layer.K.copy()
    assert np.allclose(layer.sgd_step(cache, g.copy(), 1.0), dx_ref, rtol=0, atol=1e-12)
    assert np.allclose(layer.K, K_before - dK_ref, rtol=0, atol=1e-12)
