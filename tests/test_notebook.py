"""The seed notebook's own gradient tests, as the notebook ran them, against ``from webnet import``.

Central differences with eps 1e-6 and tolerance 1e-5, float64 (the notebook's default dtype).
"""
import numpy as np
import pytest

from webnet import CrossEntropy, LinearLayer, NeuralNetwork, ReLU, SimpleConv, Softmax, one_hot

EPS, TOL = 1e-6, 1e-5


def numeric_grad_x(f, x, grad_out):
    """d/dx of sum(f(x) * grad_out), by central differences."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + EPS
        fp = np.sum(f(x) * grad_out)
        x[i] = old - EPS
        fm = np.sum(f(x) * grad_out)
        x[i] = old
        g[i] = (fp - fm) / (2 * EPS)
    return g


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def test_linear_grad_x(rng):
    layer = LinearLayer(5, 8, rng=rng)
    x, go = rng.standard_normal((4, 5)), rng.standard_normal((4, 8))
    assert np.allclose(layer.grad_x(x, go), numeric_grad_x(layer.forward, x, go), atol=TOL)


def test_relu_grad_x(rng):
    x = rng.standard_normal((4, 6))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    go = rng.standard_normal((4, 6))
    assert np.allclose(ReLU().grad_x(x, go), numeric_grad_x(ReLU().forward, x, go), atol=TOL)


def test_softmax_grad_x(rng):
    x, go = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert np.allclose(Softmax().grad_x(x, go), numeric_grad_x(Softmax().forward, x, go), atol=TOL)


def test_cross_entropy_grad_x(rng):
    p = Softmax().forward(rng.standard_normal((4, 3)))
    t = one_hot(rng.integers(0, 3, 4), 3)
    loss = CrossEntropy()
    assert np.allclose(loss.grad_x(p, t), numeric_grad_x(lambda q: loss(q, t), p, 1.0), atol=TOL)


def test_network_grad_x(rng):
    net = NeuralNetwork([LinearLayer(5, 8, rng=rng), ReLU(), LinearLayer(8, 3, rng=rng), Softmax()],
                        CrossEntropy())
    x, t = rng.standard_normal((4, 5)), one_hot(rng.integers(0, 3, 4), 3)
    assert np.allclose(net.grad_x(x, t), numeric_grad_x(lambda z: net.loss(net(z), t), x, 1.0), atol=TOL)


def test_notebook_api_shapes_and_types(rng):
    layer = LinearLayer(5, 8, rng=rng)
    assert layer.W.shape == (5, 8) and layer.b.shape == (8,) and layer.W.dtype == np.float64
    assert np.all(np.abs(layer.W) <= np.sqrt(6 / 13))
    assert layer.forward(np.ones(5)).shape == (1, 8)  # a 1-D input is a batch of one
    assert layer.num_params() == 5 * 8 + 8
    (W, dW), (b, db) = layer.grad_params(rng.standard_normal((2, 5)), rng.standard_normal((2, 8)))
    assert W is layer.W and b is layer.b and dW.shape == W.shape and db.shape == b.shape
    conv = SimpleConv(np.ones((3, 3)), bias=0.5)
    assert conv.forward(np.zeros((6, 7))).shape == (4, 5)
    assert conv.forward(np.zeros((2, 6, 7))).shape == (2, 4, 5)
    assert np.allclose(conv.forward(np.ones((5, 5))), 9.5)
    assert conv.num_params() == 10


def test_notebook_training_loop_learns(rng):
    """train_one_step / fit_one_epoch with one-hot targets, as the notebook called them."""
    X = rng.standard_normal((600, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = NeuralNetwork([LinearLayer(5, 16, rng=rng), ReLU(), LinearLayer(16, 3, rng=rng), Softmax()],
                        CrossEntropy())
    first = net.train_one_step(X[:32], one_hot(y[:32], 3), 0.1)
    for _ in range(20):
        last = net.fit_one_epoch(X, one_hot(y, 3), batch_size=32, learning_rate=0.1, rng=rng)
    assert last < first / 3
    assert np.mean(net(X).argmax(1) == y) > 0.9
