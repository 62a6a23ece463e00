"""Numerics, training, determinism, divergence and the dtype policy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import webnet as wn
from webnet.conv import conv_forward

finite = st.floats(-700, 700, allow_nan=False, width=64)


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 12)), elements=finite))
def test_softmax_rows_are_distributions(z):
    p = wn.Softmax().forward(z)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
    assert np.allclose(p.sum(axis=1), 1.0)


@given(arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e4, 1e4, allow_nan=False)))
def test_sigmoid_is_finite_and_bounded(x):
    y = wn.Sigmoid().forward(x)
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    assert np.allclose(y, 0.5 * (1 + np.tanh(x / 2)))


def naive_conv(x, K, b, stride, padding):
    n, c, h, w = x.shape
    o, _, kh, kw = K.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(n):
        for f in range(o):
            for r in range(ho):
                for s in range(wo):
                    patch = xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    y[i, f, r, s] = np.sum(patch * K[f]) + b[f]
    return y


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2),
       st.integers(4, 9), st.integers(4, 9), st.integers(0, 2**32 - 1))
def test_conv_equals_naive_loop(n, c, o, k, pad, h, w, seed):
    rng = np.random.default_rng(seed)
    stride = 1 + seed % 2
    x, K, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, k, k)), rng.standard_normal(o)
    assert np.allclose(conv_forward(x, K, b, stride, pad), naive_conv(x, K, b, stride, pad), atol=1e-10, rtol=0)


def test_fused_path_matches_layerwise_gradients():
    """One fused training step equals SGD with the notebook's layer-by-layer gradients of an
    eps-free cross-entropy, and returns that cross-entropy as its loss."""
    rng = np.random.default_rng(0)
    net = wn.build_model("20-16-5", rng=1, dtype=np.float64)
    ref = wn.NeuralNetwork(net.astype(np.float64).layers, wn.CrossEntropy(eps=0.0))
    x, y = rng.standard_normal((8, 20)), rng.integers(0, 5, 8)
    assert net.fused
    probs = ref.forward(x)
    expected_loss = -np.mean(np.log(probs[np.arange(8), y]))  # computed independently of both
    grads = ref.gradients(x, wn.one_hot(y, 5))
    loss = net.train_one_step(x, y, 0.1)
    for name, p in ref.named_parameters():
        p -= 0.1 * grads[name]
    for (_, a), (_, b) in zip(net.named_parameters(), ref.named_parameters()):
        assert np.allclose(a, b, rtol=0, atol=1e-12)
    assert loss == pytest.approx(expected_loss, rel=1e-12, abs=0)
    assert abs(loss - wn.CrossEntropy()(probs, y)) < 1e-6  # the default eps moves it by about 1e-8 per row


@pytest.mark.parametrize("tail", ["relu", "sigmoid", "flatten"])
def test_fused_step_leaves_what_the_backward_reads(tail):
    """Networks whose last layer before Softmax is not Linear (its backward reads its output, or the
    output is a view of the input): the fused step equals the layer-by-layer gradients, and the
    caller's batch is not changed."""
    rng = np.random.default_rng(5)
    last = {"relu": wn.ReLU(), "sigmoid": wn.Sigmoid(), "flatten": wn.Flatten()}[tail]
    layers = [wn.LinearLayer(6, 5, rng=rng), wn.ReLU(), wn.LinearLayer(5, 4, rng=rng), last, wn.Softmax()]
    if tail == "flatten":
        layers = [wn.Flatten(), wn.Softmax()]
    net = wn.NeuralNetwork(layers, wn.CrossEntropy(eps=0.0))
    ref = net.astype(np.float64)
    x = rng.standard_normal((7, 4 if tail == "flatten" else 6))
    y = rng.integers(0, 4, 7)
    x_before = x.copy()
    grads = ref.gradients(x, wn.one_hot(y, 4))
    net.train_one_step(x, y, 0.1)
    assert np.array_equal(x, x_before)
    for name, p in ref.named_parameters():
        p -= 0.1 * grads[name]
    for (_, a), (_, b) in zip(net.named_parameters(), ref.named_parameters()):
        assert np.allclose(a, b, atol=1e-10)


def test_fused_loss_has_no_eps_bias():
    logits = np.array([[1000.0, 0.0, -1000.0]])
    loss, g = wn.softmax_cross_entropy(logits, np.array([0]))
    assert loss == 0.0 and np.allclose(g, [[0, 0, 0]])
    loss, g = wn.softmax_cross_entropy(logits, np.array([2]))
    assert loss == 2000.0 and np.allclose(g, [[1, 0, -1]])
    soft = np.array([[0.5, 0.0, 0.5]])
    loss, g = wn.softmax_cross_entropy(logits, soft)
    assert loss == 1000.0 and np.allclose(g, [[0.5, 0, -0.5]])


def test_fused_step_scales_and_overwrites_only_when_asked():
    from webnet.losses import fused_step

    rng = np.random.default_rng(3)
    logits, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    loss, g = wn.softmax_cross_entropy(logits, y)
    for targets in (y, wn.one_hot(y, 4)):
        kept = logits.copy()
        loss2, g2, correct = fused_step(kept, targets, scale=0.25)
        assert np.array_equal(kept, logits) and loss2 == pytest.approx(loss)
        assert np.allclose(g2, 0.25 * g) and correct == np.count_nonzero(logits.argmax(1) == y)
        mine = logits.copy()
        _, g3, _ = fused_step(mine, targets, scale=0.25, overwrite=True)
        assert g3 is mine and np.allclose(g3, 0.25 * g)


def toy_data(n=512, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20)).astype(dtype)
    y = (X[:, :5].sum(1) > 0).astype(int) + 2 * (X[:, 5] > 0.5)
    return X, y


def test_same_seed_bit_identical():
    X, y = toy_data()
    runs = []
    for _ in range(2):
        net = wn.build_model("20-32-4", rng=123)
        net.fit_one_epoch(X, y, 16, 0.1, rng=7)
        runs.append(net.state_dict())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    other = wn.build_model("20-32-4", rng=124)
    assert not np.array_equal(other.state_dict()["0.W"], runs[0]["0.W"])


def test_epoch_in_pieces_equals_whole_epoch():
    X, y = toy_data()
    a, b = wn.build_model("20-32-4", rng=1), wn.build_model("20-32-4", rng=1)
    mean_a = a.fit_one_epoch(X, y, 32, 0.1, rng=3)
    ep = b.epoch(X, y, 32, 0.1, rng=3)
    seen = []
    while not ep.done:
        ep.run(3, callback=lambda e: seen.append(e.batch))
    assert seen == list(range(1, 17)) and ep.n_batches == 16 and ep.seen == 512
    assert ep.mean_loss == mean_a
    assert all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_dtype_policy():
    assert wn.LinearLayer(3, 2).W.dtype == np.float64  # notebook classes stay float64
    net = wn.build_model("20-8-4")  # webnet's entry points default to float32
    assert net.dtype == np.float32
    X, y = toy_data(dtype=np.float64)
    net.fit_one_epoch(X, y, 32, 0.1, rng=0)
    assert all(p.dtype == np.float32 for p in net.parameters())  # layers keep their dtype
    assert net.predict_proba(X).dtype == np.float32
    assert net.astype(np.float64).dtype == np.float64 and net.dtype == np.float32


def test_evaluate_predict():
    X, y = toy_data(n=700)
    net = wn.build_model("20-32-4", rng=0)
    for _ in range(15):
        net.fit_one_epoch(X, y, 32, 0.1, rng=0)
    acc, loss = net.evaluate(X, y, batch_size=256)
    assert acc == np.mean(net.predict(X) == y) and acc > 0.9
    assert np.isclose(loss, net.loss(net.predict_proba(X), y), rtol=1e-5)
    assert np.allclose(net.predict_proba(X).sum(1), 1, atol=1e-5)


def test_divergence_stops_and_restores_finite_parameters():
    X, y = toy_data()
    X = X * 1e3
    net = wn.build_model("20-32-4", rng=0)
    with pytest.raises(wn.TrainingDiverged) as info:
        for _ in range(5):
            net.fit_one_epoch(X, y, 16, 1e4, rng=0)
    err = info.value
    assert "step" in str(err) and "learning rate 10000" in str(err) and "smaller learning rate" in str(err)
    assert err.learning_rate == 1e4 and not err.loss < 1e6
    assert err.restored_step is not None and err.restored_step <= err.step
    assert all(np.isfinite(p).all() for p in net.parameters())
    assert np.isfinite(net.evaluate(X[:10], y[:10])[1])


def test_nan_parameters_are_caught_and_restored():
    X, y = toy_data()
    net = wn.build_model("20-32-4", rng=0)
    net.fit_one_epoch(X, y, 16, 0.1, rng=0)
    good = net.state_dict()
    net.layers[0].W[3, 3] = np.nan  # e.g. an overflow inside an update
    with pytest.raises(wn.TrainingDiverged, match="loss is nan"):
        net.fit_one_epoch(X, y, 16, 0.1, rng=0)
    assert all(np.array_equal(good[k], v) for k, v in net.state_dict().items())


@pytest.mark.parametrize("bad", [dict(batch_size=0), dict(learning_rate=-0.1), dict(learning_rate=float("nan"))])
def test_impossible_settings_are_refused(bad):
    X, y = toy_data(64)
    net = wn.build_model("20-4", rng=0)
    before = net.state_dict()
    args = dict(batch_size=8, learning_rate=0.1) | bad
    with pytest.raises(ValueError):
        net.fit_one_epoch(X, y, **args)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_tiny_cnn_trains():
    rng = np.random.default_rng(0)
    # two classes of 28x28 images: a vertical or a horizontal bar
    X = np.zeros((256, 28, 28), np.float32)
    y = rng.integers(0, 2, 256)
    for i, c in enumerate(y):
        pos = rng.integers(6, 22)
        if c:
            X[i, 4:24, pos - 1:pos + 2] = 1
        else:
            X[i, pos - 1:pos + 2, 4:24] = 1
    net = wn.build_model("cnn", rng=0)
    for _ in range(3):
        net.fit_one_epoch(X.reshape(256, -1), y, 16, 0.05, rng=rng)
    assert net.evaluate(X.reshape(256, -1), y)[0] > 0.95


def test_reprs():
    net = wn.build_model("784-128-10", rng=0)
    assert "LinearLayer(in=784, out=128)" in repr(net) and "Softmax()" in repr(net)
    assert [n for n, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert net.num_params() == 784 * 128 + 128 + 128 * 10 + 10


@pytest.mark.parametrize("arch", ["", "784", "784-x-10", "784-0-10", "784--10", "-5-10", "cnnx"])
def test_bad_architecture_strings(arch):
    with pytest.raises(ValueError, match="architecture"):
        wn.parse_architecture(arch)
