"""webnet itself inside Pyodide (wasm32: numpy's intp is int32 there), run by tests/pyodide/pyodide_run.js.

    node tests/pyodide/pyodide_run.js PYODIDE_DIR webnet_matmul.so|- tests/pyodide/check_webnet.py

Prints one JSON object, checked by tests/test_pyodide.py: metrics on int64 labels, training steps of
the MLP and of lenet with the kernel and without it (the weights compared bit for bit), the
exercises' grading, a drawing through the preprocessing, the shipped model, augmentation.
"""
import hashlib
import json
import sys

import numpy as np

import webnet as wn
from webnet import accel, data, metrics
from webnet.preprocess import preprocess

report = {"platform": sys.platform, "intp_bits": np.dtype(np.intp).itemsize * 8, "kernel_given": bool(sys.argv[1]),
          "kernel_enabled_at_import": accel.enabled()}

X, y, Xt, yt = data.load_mnist_subset()
labels64 = yt.astype(np.int64)

# metrics: int64 labels (np.bincount refused them here when intp is int32)
pred = (labels64 + (np.arange(len(labels64)) % 7 == 0)) % 10
report["confusion_total"] = int(metrics.confusion_matrix(labels64, pred, 10).sum())
report["accuracy"] = metrics.accuracy(labels64, pred)


def digest(net):
    h = hashlib.sha256()
    for _, p in net.named_parameters():
        h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()


def train(arch, steps, batch):
    net = wn.build_model(arch, rng=0)
    ep = net.epoch(X[:steps * batch], y[:steps * batch].astype(np.int64), batch, 0.1, rng=1)
    ep.run()
    return net, ep.mean_loss


# training: the same steps with and without the kernel give the same bits
for arch, steps, batch in (("784-128-10", 20, 64), ("lenet", 10, 32)):
    runs = {}
    for use in ("kernel", "numpy"):
        if use == "numpy":
            accel.disable()
        runs[use] = train(arch, steps, batch)
        runs[use + "_enabled"] = accel.enabled()
    if report["kernel_enabled_at_import"]:
        accel.load_packaged()
    report[arch] = {"same_weights": digest(runs["kernel"][0]) == digest(runs["numpy"][0]),
                    "loss": runs["numpy"][1], "kernel_was_enabled": runs["kernel_enabled"],
                    "test_accuracy": runs["kernel"][0].evaluate(Xt[:500], yt[:500])[0]}

# the exercises: a solution passes, a bug is caught
from webnet import exercises  # noqa: E402

report["exercises"] = {name: exercises.grade_source(exercises.EXERCISES[name].solution)[0].passed
                       for name in ("linear", "conv2d", "maxpool")}
report["bug_caught"] = not exercises.grade_source(exercises.BUGS["maxpool_every_entry"].source)[0].passed

# a drawing, as the page's pad gives it (RGBA, ink in alpha), through the preprocessing
canvas = np.zeros((280, 280, 4), np.uint8)
canvas[40:240, 128:152, 3] = 255
image = preprocess(canvas).image
report["drawing"] = {"shape": list(image.shape), "dtype": str(image.dtype), "max": float(image.max())}

# the shipped model
net = wn.models.pretrained()
report["pretrained"] = {"arch": wn.models.architecture_name(net),
                        "test_accuracy": net.evaluate(Xt, yt)[0],
                        "predictions_sha256": hashlib.sha256(net.predict(Xt).astype(np.int64).tobytes()).hexdigest(),
                        "stroke": int(net.predict(image.reshape(1, 784))[0])}
print(json.dumps(report))
