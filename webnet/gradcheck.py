"""Finite-difference gradient checks, per layer, per loss and for the whole network.

Central differences in float64: n = (f(v + h) - f(v - h)) / 2h, compared with the analytic
gradient a by the relative error |a - n| / max(|a|, |n|, floor), where the floor (a ten-thousandth
of the tensor's largest analytic entry) keeps tiny entries from dominating. A difference within
the rounding noise of the finite difference itself (float64's epsilon times the values subtracted,
over 2h) counts as none. For a layer, the outputs are subtracted entry by entry before they are
weighted and summed, so outputs the perturbation did not touch add no noise.
The analytic gradient is computed first (the numeric one reruns ``forward``) and every perturbed
entry is put back.

What is compared: every entry of a tensor with at most ``FULL_LIMIT`` entries (so a student's
small layer is always checked in full); for a larger tensor, a sample that mixes uniform entries
with the largest analytic ones, plus one directional derivative per row (first axis) along a
random direction, which finds a numeric gradient that is large where the analytic one is zero
even in entries the sample missed. Per-layer checks run on random, non-degenerate inputs
(standard normal, batch of at least 2 distinct samples), not on MNIST's blank borders.

A kink (a ReLU input within h of 0, where the derivative jumps) makes the central difference
meaningless: a coordinate whose one-sided differences disagree is skipped and counted.

Verdicts follow the cs231n bands: < 1e-7 excellent, < 1e-4 acceptable (near kinks), < 1e-2
suspicious, otherwise wrong; "error" when the layer cannot be checked at all (an exception, a
gradient of the wrong shape, a missing parameter, NaN, an input changed in place), with a
plain message saying what happened (``problems.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problems import LayerProblem, as_gradient, call, grads_by_name

BANDS = ((1e-7, "excellent"), (1e-4, "acceptable"), (1e-2, "suspicious"))
OK_VERDICTS = ("excellent", "acceptable")
VERDICTS = ("excellent", "acceptable", "suspicious", "wrong", "error")
FULL_LIMIT = 4096  # tensors with at most this many entries are compared entry by entry
SAMPLE = 200  # a larger tensor: this many entries, half uniform and half the largest analytic ones
WORST = 5  # entries reported per row
H = 1e-5  # the step of the central differences
FLOOR = 1e-4  # entries this much smaller than the tensor's largest are compared against that scale:
# their finite differences are mostly rounding noise (a bug shows in the larger entries too)
KINK_TOL = 1e-4  # one-sided differences disagreeing by more than this fraction: a kink (a kink
# that slips under it errs by at most half of it: "acceptable"; a smooth function's one-sided differences
# differ by about h * |f'' / f'|, far less)


def verdict(rel_error):
    for bound, name in BANDS:
        if rel_error < bound:
            return name
    return "wrong"


@dataclass
class Row:
    """The check of one quantity: a layer's grad_x or one of its parameters, or the network's."""

    layer: str  # "0 LinearLayer(in=784, out=128)" or "network"
    what: str  # "grad_x", "W", "b", "K", "params"
    max_rel_error: float
    max_abs_error: float
    checked: int  # entries compared one by one
    total: int  # entries in the tensor
    verdict: str
    kinks: int = 0  # entries skipped because the perturbation straddled a kink
    directions: int = 0  # directional derivatives compared (rows of a large tensor)
    problem: LayerProblem | None = None  # why the verdict is "error"
    worst: list = field(default_factory=list)  # [(index tuple, analytic, numeric)], worst first
    differs: np.ndarray | None = None  # for a tensor checked in full: where it is wrong (bool)

    @property
    def ok(self):
        return self.verdict in OK_VERDICTS

    @property
    def message(self):
        return self.problem.message if self.problem else ""


def error_row(layer, problem):
    return Row(layer, problem.what, float("inf"), float("inf"), 0, problem.total, "error", problem=problem)


# -- comparing ---------------------------------------------------------------------------------
def _pick(analytic, sample, rng, full_limit=FULL_LIMIT):
    """Flat indices to compare: all of a small tensor (at most ``full_limit`` entries); else half
    uniform, half the largest |analytic|."""
    flat = np.abs(analytic).ravel()
    if flat.size <= max(sample, full_limit):
        return np.arange(flat.size)
    top = np.argpartition(-flat, sample // 2)[:sample // 2]
    rest = np.setdiff1d(np.arange(flat.size), top, assume_unique=True)
    return np.concatenate([top, rng.choice(rest, size=sample - len(top), replace=False)])


def _central(f, flat, i, step, h):
    """f at v + h * step and v - h * step in the entries ``i`` of ``flat`` (restored after)."""
    old = flat[i].copy()
    try:
        flat[i] = old + h * step
        fp = f()
        flat[i] = old - h * step
        fm = f()
    finally:
        flat[i] = old
    return fp, fm


EPS = np.finfo(np.float64).eps
NOISE = 4  # differences within this many times the rounding noise of the finite difference agree


def _differences(f, weights):
    """(f() at the point, diff(a, b), noise(a, b)): for a layer, f returns its output and the
    scalar is sum(output * weights); the outputs are subtracted entry by entry before the sum, so
    outputs the perturbation did not touch cancel exactly instead of adding their rounding noise.
    ``noise`` bounds the rounding error of ``diff`` (float64)."""
    if weights is None:
        return f(), (lambda a, b: a - b), (lambda a, b: EPS * (abs(a) + abs(b)))

    def diff(a, b):
        return float(np.sum((a - b) * weights))

    def noise(a, b):
        touched = a != b
        return EPS * float(np.sum(np.abs(weights[touched]) * (np.abs(a[touched]) + np.abs(b[touched]))))
    return f(), diff, noise


def compare(f, v, analytic, idx, h=H, floor=1e-12, kink_tol=KINK_TOL, weights=None):
    """Errors of ``analytic`` against central differences of the scalar ``f()`` (or of
    sum(f() * weights)) in the flat entries ``idx`` of the array ``v`` (perturbed in place, always
    restored). A difference within the finite difference's own rounding noise counts as none.

    Returns (max relative error, max absolute error, compared, kinks, per-entry relative errors
    (NaN where skipped), numeric values)."""
    if not v.flags.c_contiguous:
        raise ValueError("compare needs a C-contiguous array, perturbed in place")
    flat, a_flat = v.reshape(-1), analytic.reshape(-1)
    f0, diff, noise = _differences(f, weights)
    rel = np.full(len(idx), np.nan)
    numeric = np.full(len(idx), np.nan)
    kinks = 0
    for k, i in enumerate(idx):
        fp, fm = _central(f, flat, i, 1.0, h)
        right, left = diff(fp, f0) / h, diff(f0, fm) / h
        if abs(right - left) > kink_tol * max(abs(right), abs(left), floor):
            kinks += 1
            continue
        n = diff(fp, fm) / (2 * h)
        numeric[k] = n
        error = max(0.0, abs(a_flat[i] - n) - NOISE * noise(fp, fm) / (2 * h))
        rel[k] = error / max(abs(a_flat[i]), abs(n), floor)
    done = ~np.isnan(rel)
    absolute = np.abs(a_flat[idx] - numeric)[done]
    return (float(rel[done].max(initial=0.0)), float(absolute.max(initial=0.0)), int(done.sum()), kinks, rel,
            numeric)


def directional(f, v, analytic, rng, h=H, kink_tol=KINK_TOL, weights=None):
    """One directional derivative per row (first axis) of ``v``, along a random direction: returns
    (max error relative to |row of analytic| * |direction|, rows compared, kinks)."""
    rows = v.reshape(v.shape[0], -1)
    a_rows = analytic.reshape(v.shape[0], -1)
    f0, diff, noise = _differences(f, weights)
    worst, compared, kinks = 0.0, 0, 0
    scale = max(float(np.linalg.norm(a_rows, axis=1).max(initial=0.0)), 1e-300)
    for r in range(rows.shape[0]):
        d = rng.standard_normal(rows.shape[1])
        fp, fm = _central(f, rows[r], slice(None), d, h)
        right, left = diff(fp, f0) / h, diff(f0, fm) / h
        if abs(right - left) > kink_tol * max(abs(right), abs(left), 1e-12 * scale):
            kinks += 1
            continue
        n, a = diff(fp, fm) / (2 * h), float(a_rows[r] @ d)
        norm = max(float(np.linalg.norm(a_rows[r])) * float(np.linalg.norm(d)), 1e-6 * scale * np.sqrt(d.size))
        worst = max(worst, max(0.0, abs(a - n) - NOISE * noise(fp, fm) / (2 * h)) / norm)
        compared += 1
    return worst, compared, kinks


def check_quantity(layer_name, what, f, v, analytic, rng, sample=SAMPLE, h=H, weights=None, full_limit=FULL_LIMIT):
    """The Row for one tensor ``v`` whose gradient of ``f()`` (or of sum(f() * weights)) is
    claimed to be ``analytic``."""
    idx = _pick(analytic, sample, rng, full_limit)
    floor = max(1e-12, FLOOR * float(np.abs(analytic).max(initial=0.0)))
    rel, ab, n, kinks, errs, numeric = compare(f, v, analytic, idx, h, floor, weights=weights)
    directions = 0
    if len(idx) < v.size and v.ndim >= 1 and v.shape[0] > 1:
        d_err, directions, d_kinks = directional(f, v, analytic, rng, h, weights=weights)
        rel, kinks = max(rel, d_err), kinks + d_kinks
    order = np.argsort(-np.nan_to_num(errs, nan=-1.0))[:WORST]
    worst = [(np.unravel_index(idx[k], v.shape), float(analytic.reshape(-1)[idx[k]]), float(numeric[k]))
             for k in order if not np.isnan(errs[k]) and errs[k] >= BANDS[1][0]]
    differs = None
    if len(idx) == v.size:
        differs = np.zeros(v.size, bool)
        differs[idx] = np.nan_to_num(errs, nan=0.0) >= BANDS[1][0]
        differs = differs.reshape(v.shape)
    judged = verdict(rel)
    if kinks > n and judged in OK_VERDICTS:  # more entries skipped than compared: it cannot vouch
        judged = "suspicious"
    return Row(layer_name, what, rel, ab, n, int(v.size), judged, kinks, directions, worst=worst, differs=differs)


# -- layers, losses, networks ------------------------------------------------------------------
def check_layer(layer, x, rng=None, h=H, sample=SAMPLE, name=None, params=None, full_limit=FULL_LIMIT):
    """Rows for ``grad_x`` and each parameter of ``layer`` on input ``x`` (``params``: the layer's
    [(name, live array)], by default ``layer.named_params()``).

    The scalar checked is L = sum(forward(x) * G) for a fixed random G, whose gradient is
    ``grad_x(x, G)`` / ``grad_params(x, G)``. The layer should hold float64 parameters. Whatever
    the layer does wrong (raises, returns the wrong shape, changes its input) gives a row with the
    verdict "error" and a message, never an exception.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    name = name or repr(layer)
    x = np.array(x, dtype=np.float64, order="C")
    params = layer.named_params() if params is None else params
    try:
        y = call(layer.forward, "forward", ("x",), x)
        if y is None or np.asarray(y).dtype.kind != "f" or not np.isfinite(y).all():
            raise LayerProblem("forward", "problem.forward_output", x.size)
        G = rng.standard_normal(np.shape(y))
        gx = as_gradient(call(layer.grad_x, "grad_x", ("x", "grad_out"), x, G), x, "grad_x", "x")
        grads = grads_by_name(call(layer.grad_params, "grad_params", ("x", "grad_out"), x, G), params)
        for pname, p in params:
            grads[pname] = as_gradient(grads[pname], p, "grad_params", pname)
    except LayerProblem as e:
        return [error_row(name, e)]

    def f():  # a copy: the output may be a view of x (Reshape, Flatten), which the check perturbs
        return np.array(layer.forward(x), dtype=np.float64)
    try:
        rows = [check_quantity(name, "grad_x", f, x, gx, rng, sample, h, G, full_limit)]
        rows += [check_quantity(name, pname, f, p, grads[pname], rng, sample, h, G, full_limit)
                 for pname, p in params]
    except Exception as e:  # the student's forward failing on a perturbed input
        return [error_row(name, LayerProblem.from_exception(e, "forward", x.size))]
    return rows


def check_loss(loss, p, y, rng=None, h=H, sample=SAMPLE, name=None):
    """The row for ``loss.grad_x(p, y)`` against differences of ``loss.forward(p, y)``."""
    rng = np.random.default_rng(0) if rng is None else rng
    name = name or repr(loss)
    p = np.array(p, dtype=np.float64, order="C")
    try:
        value = call(loss.forward, "forward", ("y_pred", "y_true"), p, y)
        if np.size(value) != 1 or not np.isfinite(np.asarray(value, dtype=float)).all():
            raise LayerProblem("forward", "problem.loss_value", 1, value=repr(value)[:60])
        g = as_gradient(call(loss.grad_x, "grad_x", ("y_pred", "y_true"), p, y), p, "grad_x", "y_pred")
    except LayerProblem as e:
        return [error_row(name, e)]
    return [check_quantity(name, "grad_x", lambda: float(loss.forward(p, y)), p, g, rng, sample, h)]


def random_input(shape, rng, batch=2):
    """Standard normal input of ``shape`` with the batch axis set to ``batch``: distinct samples,
    no exact zeros (so no input sits on a ReLU's kink)."""
    return rng.standard_normal((batch,) + tuple(shape[1:]))


def jittered(x, rng):
    """``x`` with uniform noise in [0, 0.02) added: MNIST's blank pixels are exactly 0, and with zero
    biases a convolution's output there sits exactly on the ReLU's kink, where the network has no
    derivative (the cause of a false alarm in the CNN's whole-network row)."""
    return x + rng.uniform(0.0, 0.02, size=np.shape(x))


def check_network(net, x, y, rng=None, h=H, sample=SAMPLE, full_limit=FULL_LIMIT):
    """Per-layer rows (each layer on a random input of the shape it sees in the network) and two
    rows for the whole network on ``x`` (jittered): the loss gradient with respect to the input
    and to all parameters. Runs on a float64 copy of ``net``; ``net`` itself is not touched.
    A smaller ``full_limit`` samples more tensors (faster on a CNN; see ``_pick``)."""
    rng = np.random.default_rng(0) if rng is None else rng
    net = net.astype(np.float64)
    x = np.ascontiguousarray(jittered(np.asarray(x, dtype=np.float64), rng))
    rows, a = [], x
    for i, layer in enumerate(net.layers):
        rows += check_layer(layer, random_input(a.shape, rng), rng, sample=sample, name=f"{i} {layer!r}",
                            full_limit=full_limit)
        a = layer.forward(a)

    def loss():
        return float(net.loss(net.forward(x), y))
    rows.append(check_quantity("network", "grad_x", loss, x, net.grad_x(x, y), rng, sample, h,
                               full_limit=full_limit))
    grads, params = net.gradients(x, y), dict(net.named_parameters())
    total = sum(p.size for p in params.values())
    # the sample spread over the parameters in proportion to their size (at least 1 each)
    parts = [check_quantity("network", name, loss, params[name], g, rng,
                            max(1, round(sample * params[name].size / total)), h, full_limit=full_limit)
             for name, g in grads.items()]
    worst = max((r.max_rel_error for r in parts), default=0.0)
    rows.append(Row("network", "params", worst, max((r.max_abs_error for r in parts), default=0.0),
                    sum(r.checked for r in parts), total, verdict(worst), sum(r.kinks for r in parts),
                    sum(r.directions for r in parts)))
    return rows


def least_sure(net, x, y, k):
    """The ``k`` rows of (``x``, ``y``) on which ``net`` gives its label the lowest probability.
    Check a trained network on these: where it is sure, its loss is nearly flat and the finite
    differences are mostly rounding noise, which reads as a false "suspicious"."""
    p = net.predict_proba(x)[np.arange(len(y)), y]
    order = np.sort(np.argsort(p, kind="stable")[:k])
    return x[order], y[order]


def format_rows(rows):
    """A plain-text table of ``rows`` (for the command line and test failures)."""
    head = f"{'layer':<36} {'what':<7} {'max rel err':>11} {'checked':>13} {'kinks':>5}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        checked = f"{r.checked}/{r.total}" + (f"+{r.directions}d" if r.directions else "")
        lines.append(f"{r.layer[:36]:<36} {r.what:<7} {r.max_rel_error:11.2e} {checked:>13} {r.kinks:>5}  "
                     f"{r.verdict}" + (f": {r.message}" if r.message else ""))
    return "\n".join(lines)
