"""webnet inside Pyodide under Node (wasm32, where numpy's intp is int32: bugs that only show there),
with the kernel installed as the wheel carries it and without it: tests/pyodide/check_webnet.py
reports, these tests judge. Skips, saying why, without node or a Pyodide runtime (lib_pyodide.py)."""
import numpy as np
import pytest
from lib_pyodide import ROOT, assemble, in_pyodide

import webnet as wn
from webnet import data

SCRIPT = ROOT / "tests" / "pyodide" / "check_webnet.py"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    kernel = assemble(tmp_path_factory.mktemp("wasm") / "webnet_matmul.so")
    return {"kernel": in_pyodide(SCRIPT, kernel), "numpy": in_pyodide(SCRIPT)}


@pytest.mark.parametrize("setup", ["kernel", "numpy"])
def test_webnet_runs_in_pyodide(reports, setup):
    r = reports[setup]
    assert r["platform"] == "emscripten" and r["intp_bits"] == 32
    # the packaged kernel is loaded on import, and only when the package carries it
    assert r["kernel_enabled_at_import"] is (setup == "kernel")
    assert r["confusion_total"] == 2000 and abs(r["accuracy"] - 0.857) < 1e-12  # int64 labels
    assert r["exercises"] == {"linear": True, "conv2d": True, "maxpool": True} and r["bug_caught"]
    assert r["drawing"] == {"shape": [28, 28], "dtype": "float32", "max": 1.0}


@pytest.mark.parametrize("arch", ["784-128-10", "lenet"])
def test_training_gives_the_same_bits_with_and_without_the_kernel(reports, arch):
    with_kernel, without = reports["kernel"][arch], reports["numpy"][arch]
    assert with_kernel["kernel_was_enabled"] and not without["kernel_was_enabled"]
    assert with_kernel["same_weights"] and without["same_weights"]
    assert with_kernel["loss"] == without["loss"]
    # and the same network natively, up to the BLAS's rounding
    X, y = data.load_mnist_subset()[:2]
    steps, batch = (20, 64) if arch == "784-128-10" else (10, 32)
    net = wn.build_model(arch, rng=0)
    ep = net.epoch(X[:steps * batch], y[:steps * batch].astype(np.int64), batch, 0.1, rng=1)
    ep.run()
    assert ep.mean_loss == pytest.approx(with_kernel["loss"], rel=1e-4)


def test_the_shipped_model_reads_the_same_in_pyodide(reports):
    net = wn.models.pretrained()
    Xt, yt = data.load_mnist_subset()[2:]
    for r in reports.values():
        assert r["pretrained"]["arch"] == wn.models.architecture_name(net)
        assert r["pretrained"]["test_accuracy"] == pytest.approx(net.evaluate(Xt, yt)[0], abs=1e-3)
        assert r["pretrained"]["stroke"] == 1  # a vertical bar drawn on the pad
