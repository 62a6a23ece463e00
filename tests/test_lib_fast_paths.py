"""Every fused training path against its slow twin (tinygrad's ``helper_test_op``).

A layer's ``forward_train`` + ``sgd_step`` must equal the notebook's path: ``forward``, then
``grad_x`` / ``grad_params`` and ``p -= lr * g``, on sizes that take each branch. The network's
fused softmax + cross-entropy step must equal the layer-by-layer gradients of an eps-free
cross-entropy. A mutation of a fast path (an update scaled by 0.98, a mask off by one) fails here.
"""
import copy
import inspect

import numpy as np
import pytest

import webnet as wn
from webnet.layers import used_columns


def sparse_batch(rng, n, d, zero_share=0.5):
    """(n, d) with ``zero_share`` of the columns 0 in every row, like MNIST's blank borders."""
    x = rng.standard_normal((n, d))
    x[:, rng.permutation(d)[:int(zero_share * d)]] = 0.0
    return x


def branch(layer, cache):
    """Which path a LinearLayer's cache says the step takes."""
    return "sparse" if cache[1] is not None else "dense"


# name: (make(rng) -> layer, make_x(rng) -> input, the LinearLayer branch it must take or None)
CASES = {
    "linear_sparse": (lambda r: wn.LinearLayer(300, 7, rng=r), lambda r: sparse_batch(r, 32, 300), "sparse"),
    "linear_sparse_batch_256": (lambda r: wn.LinearLayer(256, 3, rng=r), lambda r: sparse_batch(r, 256, 256, 0.3),
                                "sparse"),
    "linear_dense_few_zeros": (lambda r: wn.LinearLayer(300, 7, rng=r), lambda r: sparse_batch(r, 32, 300, 0.2),
                               "dense"),
    "linear_dense_big_batch": (lambda r: wn.LinearLayer(300, 7, rng=r), lambda r: sparse_batch(r, 257, 300), "dense"),
    "linear_dense_narrow": (lambda r: wn.LinearLayer(255, 4, rng=r), lambda r: sparse_batch(r, 8, 255), "dense"),
    "linear_one_example": (lambda r: wn.LinearLayer(6, 4, rng=r), lambda r: r.standard_normal(6), "dense"),
    "relu": (lambda r: wn.ReLU(), lambda r: r.standard_normal((5, 6)), None),
    "sigmoid": (lambda r: wn.Sigmoid(), lambda r: r.standard_normal((5, 6)), None),
    "tanh": (lambda r: wn.Tanh(), lambda r: r.standard_normal((5, 6)), None),
    "softmax": (lambda r: wn.Softmax(), lambda r: r.standard_normal((5, 6)), None),
    "reshape": (lambda r: wn.Reshape((1, 4, 4)), lambda r: r.standard_normal((3, 16)), None),
    "flatten": (lambda r: wn.Flatten(), lambda r: r.standard_normal((3, 2, 4, 4)), None),
    "conv2d": (lambda r: wn.Conv2D(2, 3, 3, rng=r), lambda r: r.standard_normal((2, 2, 7, 6)), None),
    "conv2d_stride_pad": (lambda r: wn.Conv2D(2, 3, (3, 2), stride=2, padding=1, rng=r),
                          lambda r: r.standard_normal((2, 2, 7, 6)), None),
    "conv2d_one_channel": (lambda r: wn.Conv2D(1, 1, 3, stride=2, padding=1, rng=r),
                           lambda r: r.standard_normal((2, 1, 7, 6)), None),
    "simpleconv": (lambda r: wn.SimpleConv(r.standard_normal((3, 2)), 0.3), lambda r: r.standard_normal((2, 6, 5)),
                   None),
    # a convolution's output feeds the next layer stored channels-last: the im2col and col2im of that layout
    "conv2d_channels_last_input": (lambda r: wn.Conv2D(3, 4, 3, rng=r), lambda r: channels_last(r, (2, 3, 7, 6)), None),
    "conv2d_channels_last_stride_pad": (lambda r: wn.Conv2D(3, 2, (3, 2), stride=2, padding=1, rng=r),
                                        lambda r: channels_last(r, (2, 3, 7, 6)), None),
    "maxpool": (lambda r: wn.MaxPool2D(2), lambda r: r.integers(0, 3, (2, 3, 6, 5)).astype(float), None),
    "maxpool_overlapping_channels_last": (lambda r: wn.MaxPool2D(3, stride=2),
                                          lambda r: channels_last(r, (2, 3, 7, 6), ties=True), None),
    "avgpool": (lambda r: wn.AvgPool2D((2, 3), stride=(1, 2)), lambda r: channels_last(r, (2, 3, 5, 7)), None),
}


def channels_last(rng, shape, ties=False):
    """An (N, C, H, W) batch stored as (N, H, W, C), as a convolution's output is."""
    x = rng.integers(0, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def assert_close(fast, slow, what):
    scale = max(1.0, float(np.abs(slow).max(initial=0.0)))
    err = float(np.abs(np.asarray(fast) - np.asarray(slow)).max(initial=0.0))
    assert err <= 1e-12 * scale, f"{what}: fused and reference differ by {err:.3g}"


def check_step(layer, x, rng, lr=0.1, need_grad_x=True):
    """The helper: the fused step on one copy of ``layer``, the reference on another; returns the
    fused path's cache. Float64, so the two agree to rounding (1e-12)."""
    fast, slow = copy.deepcopy(layer), copy.deepcopy(layer)
    y, cache = fast.forward_train(x)
    assert_close(y, slow.forward(x), "forward")
    G = rng.standard_normal(np.shape(y))
    gx = fast.sgd_step(cache, G.copy(), lr, need_grad_x=need_grad_x)  # the step may overwrite its grad_out
    reference_gx = slow.grad_x(x, G)
    for p, g in slow.grad_params(x, G):
        p -= lr * g
    if need_grad_x:
        assert np.shape(gx) == np.shape(reference_gx)
        assert_close(gx, reference_gx, "grad_x")
    else:
        assert gx is None
    for (name, a), (_, b) in zip(fast.named_params(), slow.named_params()):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert_close(a, b, name)
    return cache


@pytest.mark.parametrize("need_grad_x", [True, False], ids=["grad_x", "no_grad_x"])
@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_fused_step_equals_reference(name, need_grad_x):
    rng = np.random.default_rng(11)
    make, make_x, expected_branch = CASES[name]
    layer = make(rng)
    cache = check_step(layer, make_x(rng), rng, need_grad_x=need_grad_x)
    if expected_branch is not None:  # the case takes the branch its name says
        assert branch(layer, cache) == expected_branch


def test_every_layer_type_has_a_case():
    rng = np.random.default_rng(0)
    tested = {type(make(rng)).__name__ for make, _, _ in CASES.values()}
    exported = {name for name, obj in vars(wn).items()
                if inspect.isclass(obj) and issubclass(obj, wn.Layer) and obj is not wn.Layer}
    assert exported <= tested, f"no fused-step case for {sorted(exported - tested)}"


def test_float32_sparse_step_matches_float64_reference():
    """The training dtype: float32 fused step against the float64 reference, to float32 rounding."""
    rng = np.random.default_rng(2)
    layer = wn.LinearLayer(784, 16, rng=rng, dtype=np.float32)
    x = sparse_batch(rng, 64, 784).astype(np.float32)
    ref = layer.astype(np.float64)
    y, cache = layer.forward_train(x)
    assert branch(layer, cache) == "sparse" and y.dtype == np.float32
    G = rng.standard_normal(y.shape).astype(np.float32)
    layer.sgd_step(cache, G.copy(), 0.5, need_grad_x=False)
    for p, g in ref.grad_params(x.astype(np.float64), G.astype(np.float64)):
        p -= 0.5 * g
    assert np.allclose(layer.W, ref.W, rtol=0, atol=2e-5) and np.allclose(layer.b, ref.b, rtol=0, atol=2e-5)
    assert not np.allclose(layer.W, ref.W * 1.001, rtol=0, atol=2e-5)  # the tolerance can fail


# -- hidden state ---------------------------------------------------------------------------------
@pytest.mark.parametrize("x_kind", ["sparse", "dense"])
def test_step_updates_the_weights_as_they_are_now(x_kind):
    """forward, change W, step: the step must apply the gradient to the changed W. The old engine
    copied W's active rows in forward and wrote them back in the step: the change was undone."""
    rng = np.random.default_rng(4)
    layer = wn.LinearLayer(300, 5, rng=rng)
    x = sparse_batch(rng, 16, 300, 0.5 if x_kind == "sparse" else 0.0)
    y, cache = layer.forward_train(x)
    assert branch(layer, cache) == x_kind
    new_W = rng.standard_normal(layer.W.shape)
    layer.W[...] = new_W  # e.g. load_state_dict between the two calls
    G = rng.standard_normal(y.shape)
    layer.sgd_step(cache, G, 0.1, need_grad_x=False)
    assert np.allclose(layer.W, new_W - 0.1 * x.T @ G, rtol=0, atol=1e-12)


def test_scratch_buffer_never_leaks_into_a_step():
    """The reused dW buffer is fully overwritten by every step: poisoning it changes nothing."""
    rng = np.random.default_rng(6)
    for zero_share in (0.5, 0.0):  # both branches write into it
        a = wn.LinearLayer(300, 4, rng=rng)
        b = copy.deepcopy(a)
        x, G = sparse_batch(rng, 8, 300, zero_share), rng.standard_normal((8, 4))
        a.sgd_step(a.forward_train(x)[1], G.copy(), 0.1)  # makes the buffer
        b.sgd_step(b.forward_train(x)[1], G.copy(), 0.1)
        a._dW[...] = np.nan
        a.sgd_step(a.forward_train(x)[1], G.copy(), 0.1)
        b.sgd_step(b.forward_train(x)[1], G.copy(), 0.1)
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)


def test_layers_keep_nothing_but_parameters_settings_and_scratch():
    rng = np.random.default_rng(7)
    net = wn.build_model("784-16-10", rng=0, dtype=np.float64)
    x, y = sparse_batch(rng, 32, 784), rng.integers(0, 10, 32)
    before = [set(vars(layer)) for layer in net.layers]
    net.forward(x)
    net.train_one_step(x, y, 0.1)
    for layer, keys in zip(net.layers, before):
        assert set(vars(layer)) - keys <= {"_dW"}, f"{layer!r} kept {set(vars(layer)) - keys}"


@pytest.mark.parametrize("x", [np.array([[0.0, -0.0, 1.0, np.nan], [0.0, 0.0, 0.0, 0.0]]),
                               np.array([[0.0, 2.0], [3.0, 0.0]], np.float32),
                               np.asfortranarray(np.array([[0.0, 2.0, 0.0], [0.0, 1.0, 0.0]])),
                               np.array([[0, 1], [0, 0]], np.int64)],
                         ids=["float64_signed_zero_nan", "float32", "fortran_order", "int"])
def test_used_columns_equals_any_except_for_signed_zero(x):
    used = used_columns(x).astype(bool)
    expected = x.any(axis=0)
    if x.dtype.kind == "f" and x.flags.c_contiguous:
        expected |= np.signbit(x).any(axis=0)  # -0.0 has a bit set: counted as used (harmless)
    assert np.array_equal(used, expected)


# -- the network's fused softmax + cross-entropy step -------------------------------------------
def mixed_net(rng, tail):
    last = {"linear": [], "relu": [wn.ReLU()], "sigmoid": [wn.Sigmoid()], "tanh": [wn.Tanh()]}[tail]
    return wn.NeuralNetwork([wn.LinearLayer(300, 12, rng=rng), wn.Tanh(), wn.LinearLayer(12, 4, rng=rng), *last,
                             wn.Softmax()], wn.CrossEntropy())


NETWORKS = {
    "mlp_sparse_input": lambda r: (wn.build_model("784-16-10", rng=r, dtype=np.float64), sparse_batch(r, 24, 784), 10),
    "mlp_two_hidden": lambda r: (wn.build_model("300-8-6-4", rng=r, dtype=np.float64), sparse_batch(r, 9, 300), 4),
    "cnn": lambda r: (wn.build_model("cnn", rng=r, dtype=np.float64), np.abs(sparse_batch(r, 5, 784)), 10),
    "lenet": lambda r: (wn.build_model("lenet", rng=r, dtype=np.float64), np.abs(sparse_batch(r, 5, 784)), 10),
    "relu_tail": lambda r: (mixed_net(r, "relu"), sparse_batch(r, 7, 300), 4),
    "sigmoid_tail": lambda r: (mixed_net(r, "sigmoid"), sparse_batch(r, 7, 300), 4),
    "tanh_tail": lambda r: (mixed_net(r, "tanh"), sparse_batch(r, 7, 300), 4),
}


def reference_step(net, x, targets, lr, reduction):
    """The slow twin: an eps-free cross-entropy on probabilities, layer-by-layer gradients, then
    ``p -= lr * g``; returns (network after the step, loss before it, correct predictions before it)."""
    ref = wn.NeuralNetwork([copy.deepcopy(layer) for layer in net.layers], wn.CrossEntropy(0.0, reduction))
    probs = ref.forward(x)
    loss = ref.loss(probs, targets)
    correct = int(np.sum(probs.argmax(axis=1) == (targets if targets.ndim == 1 else targets.argmax(axis=1))))
    grads = ref.gradients(x, targets)
    for name, p in ref.named_parameters():
        p -= lr * grads[name]
    return ref, loss, correct


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("targets", ["labels", "one_hot"])
@pytest.mark.parametrize("name", NETWORKS, ids=list(NETWORKS))
def test_fused_network_step_equals_reference(name, targets, reduction):
    rng = np.random.default_rng(3)
    net, x, classes = NETWORKS[name](rng)
    net.loss = wn.CrossEntropy(reduction=reduction)
    assert net.fused
    y = rng.integers(0, classes, len(x))
    if targets == "one_hot":
        y = wn.one_hot(y, classes)
    ref, expected_loss, expected_correct = reference_step(net, x, y, 0.05, reduction)
    x_before = x.copy()
    loss = net.train_one_step(x, y, 0.05)
    assert np.array_equal(x, x_before)  # the caller's batch is never a temporary
    assert abs(loss - expected_loss) <= 1e-12 * max(1.0, abs(expected_loss))
    assert net.last_correct == expected_correct
    for (key, a), (_, b) in zip(net.named_parameters(), ref.named_parameters()):
        assert_close(a, b, key)


def test_ties_for_the_largest_logit_are_broken_like_predict():
    """A row whose largest logit is shared (a dead ReLU tail gives all zeros) is correct only if
    argmax, the prediction, is the label: the fused count used to call every tied label correct."""
    from webnet.losses import fused_step

    logits = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [2.0, 0.0, 1.0]])
    labels = np.array([2, 0, 0])
    _, _, correct = fused_step(logits, labels)
    assert correct == int(np.sum(logits.argmax(axis=1) == labels)) == 2


def test_fused_step_shifts_each_row_by_its_own_maximum():
    """Logits of +-1000 wherever the maximum is: exp must never overflow."""
    from webnet.losses import fused_step

    logits = np.array([[-1000.0, 1000.0, 0.0], [0.0, -1000.0, 1000.0], [1000.0, 999.0, -5.0]])
    labels = np.array([1, 1, 1])
    loss, g, correct = fused_step(logits.copy(), labels)
    expected = np.mean([0.0, 2000.0, np.log1p(np.exp(1.0))])  # logsumexp(z) - z[label], by hand
    assert np.isfinite(g).all() and loss == pytest.approx(expected, rel=1e-12) and correct == 1
