"""Finite-difference gradient checks, per layer and for the whole network.

Central differences in float64: n = (f(v + h) - f(v - h)) / 2h, compared with the analytic
gradient a by the relative error |a - n| / max(|a|, |n|, tiny). The analytic gradient is computed
first (the numeric one reruns ``forward``) and every perturbed entry is put back. Large tensors are
checked on a sample of coordinates that prefers nonzero analytic gradients: with ReLU and MNIST's
blank borders most entries are exactly zero, and a zero checked against a zero proves nothing.

Verdicts follow the cs231n bands: < 1e-7 excellent, < 1e-4 acceptable (near kinks),
< 1e-2 suspicious, otherwise wrong.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BANDS = ((1e-7, "excellent"), (1e-4, "acceptable"), (1e-2, "suspicious"))
OK_VERDICTS = ("excellent", "acceptable")


def verdict(rel_error):
    for bound, name in BANDS:
        if rel_error < bound:
            return name
    return "wrong"


@dataclass
class Row:
    layer: str  # "0 LinearLayer(in=784, out=128)" or "network"
    what: str  # "grad_x", "W", "b", "K", "params"
    max_rel_error: float
    max_abs_error: float
    checked: int  # coordinates checked
    total: int  # coordinates in the tensor
    verdict: str
    kinks: int = 0  # coordinates skipped because the perturbation straddled a kink

    @property
    def ok(self):
        return self.verdict in OK_VERDICTS


def _pick(grad, max_coords, rng):
    """Flat indices to check: all if few, else nonzero gradients first, then zeros."""
    flat = np.abs(grad).ravel()
    if flat.size <= max_coords:
        return np.arange(flat.size)
    nonzero = np.flatnonzero(flat)
    if nonzero.size >= max_coords:
        return rng.choice(nonzero, size=max_coords, replace=False)
    zeros = np.flatnonzero(flat == 0)
    return np.concatenate([nonzero, rng.choice(zeros, size=max_coords - nonzero.size, replace=False)])


def compare(f, v, analytic, idx, h, tiny, kink_tol=1e-3):
    """Errors of ``analytic`` against central differences of the scalar function ``f()`` in the
    entries ``idx`` of the array ``v`` (perturbed in place, always restored).

    Returns (max relative error, max absolute error, coordinates compared, kinks skipped). A
    coordinate where the one-sided differences disagree by more than ``kink_tol`` of their size
    straddles a kink (a ReLU input at exactly 0, common with MNIST's blank pixels): there the
    central difference is meaningless, so it is skipped and counted, not compared.
    """
    if not v.flags.c_contiguous:
        raise ValueError("compare needs a C-contiguous array, perturbed in place")
    flat, a_flat = v.reshape(-1), analytic.reshape(-1)  # flat is a view of v
    f0 = f()
    rel = absolute = 0.0
    compared = kinks = 0
    for i in idx:
        old = flat[i]
        try:
            flat[i] = old + h
            fp = f()
            flat[i] = old - h
            fm = f()
        finally:
            flat[i] = old
        right, left = (fp - f0) / h, (f0 - fm) / h
        if abs(right - left) > kink_tol * max(abs(right), abs(left)) and abs(right - left) > 1e-6:
            kinks += 1
            continue
        n = (fp - fm) / (2 * h)
        a = a_flat[i]
        diff = abs(a - n)
        absolute = max(absolute, diff)
        rel = max(rel, diff / max(abs(a), abs(n), tiny))
        compared += 1
    return rel, absolute, compared, kinks


def _row(layer, what, f, v, analytic, max_coords, rng, h, tiny):
    idx = _pick(analytic, max_coords, rng)
    # entries a million times smaller than the tensor's largest are at the level of the central
    # difference's rounding noise (eps * |f| / h): compare them against that scale, not zero
    floor = max(tiny, 1e-6 * float(np.abs(analytic).max(initial=0.0)))
    rel, ab, n, kinks = compare(f, v, analytic, idx, h, floor)
    return Row(layer, what, float(rel), float(ab), n, int(v.size), verdict(rel), kinks)


def check_layer(layer, x, rng=None, h=1e-5, max_coords=40, tiny=1e-12, name=None):
    """Rows for ``grad_x`` and each parameter of one layer, on input ``x``.

    The scalar checked is L = sum(forward(x) * G) for a fixed random G, whose gradient is
    ``grad_x(x, G)`` / ``grad_params(x, G)``. The layer should hold float64 parameters.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    name = name or repr(layer)
    x = np.ascontiguousarray(x, dtype=np.float64).copy()
    G = rng.standard_normal(layer.forward(x).shape)
    def f():
        return float(np.sum(layer.forward(x) * G))
    gx = layer.grad_x(x, G)  # analytic first
    grads = [np.array(g, dtype=np.float64) for _, g in layer.grad_params(x, G)]
    rows = [_row(name, "grad_x", f, x, gx, max_coords, rng, h, tiny)]
    for (pname, p), g in zip(layer.named_params(), grads):
        rows.append(_row(name, pname, f, p, g, max_coords, rng, h, tiny))
    return rows


def check_network(net, x, y, rng=None, h=1e-5, max_coords=40, tiny=1e-12):
    """Per-layer rows (each layer on its own input inside the network) and two rows for the
    whole network: the loss gradient with respect to the input and to all parameters.

    Runs on a float64 copy of ``net``; ``net`` itself is not touched.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    net = net.astype(np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64).copy()
    rows, a = [], x
    for i, layer in enumerate(net.layers):
        rows += check_layer(layer, a, rng, h, max_coords, tiny, name=f"{i} {layer!r}")
        a = layer.forward(a)

    def loss():
        return float(net.loss(net.forward(x), y))
    gx = net.grad_x(x, y)
    grads = net.gradients(x, y)
    rows.append(_row("network", "grad_x", loss, x, gx, max_coords, rng, h, tiny))
    params = dict(net.named_parameters())
    # spread the sample over all parameters, in proportion to their size (at least 1 each)
    total = sum(p.size for p in params.values())
    parts = [_row("network", "params", loss, params[name], g, max(1, round(max_coords * params[name].size / total)),
                  rng, h, tiny) for name, g in grads.items()]
    worst = max(r.max_rel_error for r in parts)
    rows.append(Row("network", "params", worst, max(r.max_abs_error for r in parts), sum(r.checked for r in parts),
                    total, verdict(worst), sum(r.kinks for r in parts)))
    return rows


def format_rows(rows):
    """A plain-text table of ``rows`` (for the command line and test failures)."""
    head = f"{'layer':<36} {'what':<7} {'max rel err':>11} {'max abs err':>11} {'checked':>12} {'kinks':>5}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.layer[:36]:<36} {r.what:<7} {r.max_rel_error:11.2e} {r.max_abs_error:11.2e} "
                     f"{f'{r.checked}/{r.total}':>12} {r.kinks:>5}  {r.verdict}")
    return "\n".join(lines)
