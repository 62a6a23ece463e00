"""webnet.augment: shapes, dtypes, determinism per seed, the intensity range, the identity when
every range is zero, the sampler and the pen against hand-made cases, and training with it."""
import numpy as np
import pytest

import webnet as wn
from webnet.augment import Augment, pen, sample
from webnet.data import load_mnist_subset

X, Y = load_mnist_subset(n_train=64, n_test=1)[:2]


@pytest.mark.parametrize("shape", [(64, 784), (64, 28, 28)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_are_kept(shape, dtype):
    x = X.reshape(shape).astype(dtype)
    out = Augment(elastic=2.0)(x, np.random.default_rng(0))
    assert out.shape == shape and out.dtype == dtype and not np.array_equal(out, x)


def test_the_same_seed_gives_the_same_images_and_another_seed_others():
    aug = Augment(elastic=1.5)
    a, b = aug(X, np.random.default_rng(5)), aug(X, np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, aug(X, np.random.default_rng(6)))
    rng = np.random.default_rng(5)
    assert not np.array_equal(aug(X, rng), aug(X, rng))  # each call draws afresh


def test_intensities_stay_in_the_inputs_range():
    for seed in range(5):
        out = Augment(rotation=30, slant=30, scale=(0.5, 1.5), shift=4, thickness=1.0, elastic=3.0)(
            X, np.random.default_rng(seed))
        assert out.min() >= 0.0 and out.max() <= 1.0 and np.isfinite(out).all()
        assert out.sum(axis=1).min() > 0  # no digit moved out of the picture entirely


def test_all_ranges_zero_is_the_identity():
    for x in (X, X.astype(np.float64)):
        assert np.array_equal(Augment.none()(x, np.random.default_rng(0)), x)


def test_every_distortion_changes_something():
    base = dict(rotation=0.0, slant=0.0, scale=(1.0, 1.0), shift=0.0, thickness=0.0, elastic=0.0)
    for change in [{"rotation": 10.0}, {"slant": 15.0}, {"scale": (0.8, 0.8)}, {"shift": 2.0}, {"thickness": 1.0},
                   {"elastic": 2.0}]:
        out = Augment(**{**base, **change})(X, np.random.default_rng(1))
        assert np.abs(out - X).max() > 0.1, change


def test_sample_moves_by_whole_pixels_exactly_and_blends_half_pixels():
    img = np.random.default_rng(0).random((2, 28, 28), dtype=np.float32)
    yy, xx = np.indices((28, 28), dtype=np.float32)
    shifted = sample(img, np.broadcast_to(yy - 2, img.shape), np.broadcast_to(xx + 3, img.shape))
    expected = np.zeros_like(img)
    expected[:, 2:, :25] = img[:, :26, 3:]  # read 2 rows up, 3 columns right; blank where outside
    assert np.array_equal(shifted, expected)
    half = sample(img, np.broadcast_to(yy, img.shape), np.broadcast_to(xx + 0.5, img.shape))
    assert np.allclose(half[:, :, :27], (img[:, :, :27] + img[:, :, 1:]) / 2, atol=1e-6)
    far = sample(img, np.broadcast_to(yy + 100, img.shape), np.broadcast_to(xx - 1e6, img.shape))
    assert not far.any()


def test_pen_dilates_and_erodes_by_the_cross():
    img = np.zeros((2, 7, 7), np.float32)
    img[:, 3, 3] = 1.0
    thick = pen(img, np.array([1.0, 0.5], np.float32))
    cross = np.zeros((7, 7), np.float32)
    cross[3, 2:5] = cross[2:5, 3] = 1.0
    assert np.array_equal(thick[0], cross) and np.array_equal(thick[1], np.maximum(img[1], cross / 2))
    block = np.zeros((1, 7, 7), np.float32)
    block[0, 1:6, 1:6] = 1.0
    thin = pen(block, np.array([-1.0], np.float32))
    assert thin[0].sum() == 9 and thin[0, 2:5, 2:5].all()  # a 5x5 square loses its edge


@pytest.mark.parametrize("bad", [dict(scale=(0.0, 1.0)), dict(scale=(1.2, 1.1)), dict(rotation=-1.0),
                                 dict(slant=90.0), dict(thickness=1.5), dict(elastic=-2.0)])
def test_impossible_ranges_are_refused(bad):
    with pytest.raises(ValueError, match="augmentation ranges|slant must be"):
        Augment(**bad)


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match=r"expected digits of shape \(N, 784\) or \(N, 28, 28\), got \(3, 785\)"):
        Augment()(np.zeros((3, 785)), np.random.default_rng(0))


# -- in training ----------------------------------------------------------------------------------
def weights_after(augment, seed=3):
    net = wn.build_model("784-16-10", rng=0)
    net.fit_one_epoch(X, Y, 16, 0.1, rng=seed, augment=augment)
    return [p.copy() for p in net.parameters()]


def test_training_with_augmentation_is_reproducible_and_distorts_each_batch():
    a, b = weights_after(Augment()), weights_after(Augment())
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    plain = weights_after(None)
    assert not all(np.allclose(p, q) for p, q in zip(a, plain))
    # the identity distortion trains exactly as no augmentation (it draws from the rng after the order)
    assert all(np.array_equal(p, q) for p, q in zip(weights_after(Augment.none()), plain))


def test_the_batch_given_to_augment_is_the_batch_trained_on():
    seen = []

    def spy(batch, rng):
        seen.append(batch.copy())
        return np.zeros_like(batch)  # a blank batch: the first layer's weights get no gradient

    net = wn.build_model("784-16-10", rng=0)
    W0 = net.layers[0].W.copy()
    ep = net.epoch(X, Y, 16, 0.1, rng=1, augment=spy)
    ep.run()
    assert len(seen) == 4 and sorted(np.concatenate(seen).sum(axis=1).tolist()) == sorted(X.sum(axis=1).tolist())
    assert np.array_equal(net.layers[0].W, W0)
