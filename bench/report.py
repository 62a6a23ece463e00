"""docs/benchmarks.md from the JSON that bench/run.py measured."""
from __future__ import annotations

SEED = "seed notebook (float64)"
API = "webnet, notebook API (float64)"
FAST = "webnet, fast path (float32)"
TORCH = "PyTorch CPU (float32)"


def _ratio(native, a, b):
    return native["ratios"].get(f"{a} / {b}")


def _times(x, missing="n/a"):
    """A ratio as "3.25x", or what is missing."""
    return missing if x is None else f"{x:.2f}x"


def mlp_table(native, title):
    lines = [f"### {title}", "",
             f"BLAS: {native['blas']}; environment: "
             + ", ".join(f"`{k}={v}`" if v else f"`{k}` unset" for k, v in native["env"].items()), "",
             f"{native['n_train']:,} training digits, one BLAS thread, {native['rounds']} rounds in rotating order.",
             "", "| implementation | s / epoch (median) | rounds | test acc. after the rounds |", "|---|---:|---:|---:|"]
    for name, res in native["mlp"].items():
        times = " ".join(f"{t:.3f}" for t in res["seconds"])
        lines.append(f"| {name} | {res['median']:.3f} | {times} | {res['test_accuracy']:.4f} |")
    lines += ["", "| same-round ratio (median) | value | required |", "|---|---:|---:|",
              f"| seed notebook (reconstruction, see below) / webnet fast path | {_times(_ratio(native, SEED, FAST))} | >= 3x |",
              f"| PyTorch / webnet fast path | {_times(_ratio(native, TORCH, FAST), 'PyTorch not installed')} | >= 1.5x |",
              f"| seed notebook / webnet notebook API | {_times(_ratio(native, SEED, API))} | >= 1.5x |", "",
              "The seed notebook is not in the repository: bench/seed_notebook.py is a reconstruction written from "
              "the notebook's API (float64, backward passes recomputing what they need, a per-sample softmax "
              "Jacobian), kept unoptimised as the baseline.", ""]
    g = native["gemm"]
    lines += [f"GEMM lower bound: an epoch's products are {g['epoch_gflop']:.1f} GFLOP; peak single-thread sgemm "
              f"{g['peak_gflops']:.0f} GFLOP/s (1024x1024) gives {g['bound_seconds_at_peak']:.3f} s, and "
              f"{g['gflops_at_epoch_shapes']:.0f} GFLOP/s at the epoch's own 64x784x128 shapes gives "
              f"{g['bound_seconds_at_epoch_shapes']:.3f} s. webnet's fast path takes "
              f"{native['mlp'][FAST]['median']:.3f} s: "
              f"{native['mlp'][FAST]['median'] / g['bound_seconds_at_epoch_shapes']:.2f}x the bound at the epoch's "
              f"shapes, {native['mlp'][FAST]['median'] / g['bound_seconds_at_peak']:.2f}x the bound at peak.", ""]
    return lines


def render(r):
    m, n = r["machine"], r["native"]
    out = ["# Benchmarks", "",
           f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, numpy {m['numpy']}, "
           f"{m['platform']}." + (" **Quick mode (CI smoke run): small data, not for quoting.**" if r["quick"] else ""),
           "", "Reproduce: `python3 build.py bench` (a few minutes; `--quick` for the smoke run CI does). "
           "Every ratio is the median of ratios of pairs measured in the same round, because this machine is "
           "shared and absolute times drift.", "",
           "## Native training: 784-128-10 MLP, batch 64, lr 0.05", ""]
    out += mlp_table(n, "With the environment as it is")
    unset = r.get("native_blas_vars_unset", {})
    if "mlp" in unset:
        out += mlp_table(unset, "With OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (child process)")
    else:
        out += [f"Second column: {unset.get('note', 'not run')}.", ""]
    c = n["conv"]
    out += ["## Convolution: 64 images 28x28, 3x3 kernel, forward + grad_x + grad_params", "",
            "| implementation | ms |", "|---|---:|",
            f"| notebook's loops | {c['notebook_loops_ms']:.1f} |", f"| webnet (im2col, vectorised) | {c['vectorised_ms']:.3f} |",
            f"| speed-up | {c['speedup']:.0f}x (required >= 300x) |", "",
            "## Gradient check of 784-128-10 (batch 4, 40 coordinates per tensor, all rows)", "",
            f"Native: {n['gradcheck_native']['seconds']:.3f} s."]
    out += cnn_sections(n, r.get("pyodide"), r["quick"])
    lan = r.get("lan")
    if lan:
        out += ["", f"## A classroom on one laptop: {lan['clients']} clients at once, `build.py serve --lan`", "",
                f"Each client loads all {lan['files']} files of the built site from {lan['host']} (this machine's LAN "
                "address), asking for brotli or gzip, on one connection; then visits again, revalidating every file "
                "by its ETag.", "", "| visit | all done in | slowest request | median request | bytes | statuses |",
                "|---|---:|---:|---:|---:|---|"]
        for visit in ("first", "repeat"):
            v = lan[visit]
            out.append(f"| {visit} | {v['seconds']:.2f} s | {v['slowest_request']:.3f} s (required <= 1 s) | "
                       f"{v['median_request']:.3f} s | {v['bytes'] / 1e6:.1f} MB | {', '.join(map(str, v['statuses']))} |")
    rb = r.get("robust")
    if rb:
        out += ["", "## Big input (#17)", "", "| input | time | peak memory | required |", "|---|---:|---:|---|"]
        for name, v in rb["images"].items():
            out.append(f"| 10000 x 10000 {name} | {v['seconds']:.2f} s | {v['peak_mb']:.0f} MB | < 1 s, < 300 MB |")
        s100 = rb["server_100"]
        out += ["", f"`build.py serve`'s server, {s100['clients']} clients at once each loading all {s100['files']} "
                f"files: all done in {s100['first']['seconds']:.1f} s, slowest request "
                f"{s100['first']['slowest_request']:.3f} s (required <= 1 s), statuses "
                f"{', '.join(map(str, s100['first']['statuses']))}. Peak memory is measured by tracemalloc for the "
                "arrays and as the child process's peak RSS above its start for the CLI."]
    b = r.get("browser")
    if b:
        out += ["", "## In the browser: headless Chromium on the built site, served by `build.py serve`", ""]
        out += [f"Chromium {b.get('chromium', '?')}, Pyodide {b.get('pyodide', '?')}.", "",
                "| what | measured | required |", "|---|---:|---:|"]
        for row in b.get("rows", []):
            out.append(f"| {row['what']} | {row['value']} | {row.get('required', '')} |")
        for note in b.get("notes", []):
            out += ["", note]
    return "\n".join(out) + "\n"


LENET, LENET_TORCH, AUGMENTED = "webnet lenet (float32)", "PyTorch CPU lenet (float32)", "webnet lenet, augmented"


def _rounds_table(section, required=None):
    lines = ["| implementation | s / epoch (median) | rounds | test acc. after the rounds |", "|---|---:|---:|---:|"]
    for name, res in section["results"].items():
        lines.append(f"| {name} | {res['median']:.3f} | {' '.join(f'{t:.2f}' for t in res['seconds'])} | "
                     f"{res['test_accuracy']:.4f} |")
    return lines


def cnn_sections(n, pyodide, quick):
    """lenet against PyTorch, augmentation's cost, the shipped models, webnet inside Pyodide."""
    out = []
    lenet = n.get("lenet")
    if lenet:
        ratio = lenet["ratios"].get(f"{LENET} / {LENET_TORCH}")
        out += ["", f"## Native training: lenet, batch {lenet['batch']}, SGD lr {lenet['lr']}", "",
                f"{lenet['n_train']:,} training digits, one BLAS thread (PyTorch: `torch.set_num_threads(1)`), "
                f"{lenet['rounds']} rounds in rotating order. Conv2D(1, 8, 5) - ReLU - MaxPool2D(2) - Conv2D(8, 16, 5) "
                "- ReLU - MaxPool2D(2) - Flatten - Linear(256, 10), the same in both.", ""]
        out += _rounds_table(lenet)
        out += ["", "| same-round ratio (median) | value | required |", "|---|---:|---:|",
                f"| webnet / PyTorch, s per epoch | {_times(ratio, 'PyTorch not installed')} | <= 1x |", ""]
    aug = n.get("augmentation")
    if aug:
        ratio = aug["ratios"][f"{AUGMENTED} / {LENET}"]
        out += ["## Augmentation's cost: a lenet epoch with and without it", "", f"`{aug['augment']}`", ""]
        out += _rounds_table(aug)
        out += ["", f"Augmented / plain, same-round median: {_times(ratio)} (required <= 1.30x).", ""]
    models = n.get("models")
    if models and "old" in models:
        out += ["## The shipped model: before and after", "",
                f"The drawn digits: {models['drawn_set']['n']} drawings made by `webnet.drawn` (seed "
                f"{models['drawn_set']['seed']}), preprocessed as the page does. Per drawing: preprocess a 280 x 280 "
                "pad drawing and classify it, natively.", "",
                "| model | parameters | file | MNIST test (10,000) | shipped test (2,000) | drawn | ms per drawing |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for label in ("old", "shipped"):
            m = models[label]
            mnist = f"{m['mnist_test_accuracy']:.4f}" if "mnist_test_accuracy" in m else "(full mode)"
            out.append(f"| {label}: {m['arch']} | {m['params']:,} | {m['file_bytes'] / 1e3:.0f} kB | {mnist} | "
                       f"{m['subset_test_accuracy']:.4f} | {m['drawn_accuracy']:.4f} | {m['per_drawing_ms']:.1f} |")
        out.append("")
    elif models:
        out += [f"Models: {models['note']}", ""]
    if pyodide and "epoch_seconds" in pyodide:
        e, rt = pyodide["epoch_seconds"], pyodide["ratios"]
        out += ["## Inside Pyodide under Node: with the WebAssembly kernel and without it", "",
                f"Runtime: {pyodide.get('pyodide_dir', '?')}; the shipped 10,000 digits; {pyodide['rounds']} rounds "
                "in rotating order (bench/pyodide_epochs.py).", "",
                "| epoch | kernel (s) | numpy only (s) | numpy / kernel |", "|---|---:|---:|---:|",
                f"| 784-128-10, batch 64 (required <= 0.3 s) | {e['mlp kernel']:.3f} | {e['mlp numpy']:.3f} | "
                f"{rt['mlp numpy / kernel']:.2f}x |",
                f"| 784-128-10, sparse-input trick off | {e['mlp kernel, dense']:.3f} | {e['mlp numpy, dense']:.3f} | |",
                f"| lenet, batch 32 | {e['lenet kernel']:.3f} | {e['lenet numpy']:.3f} | "
                f"{rt['lenet numpy / kernel']:.2f}x |", "",
                f"Sparse-input trick, dense / sparse (same round): with the kernel {rt['mlp kernel dense / sparse']:.2f}x, "
                f"with numpy {rt['mlp numpy dense / sparse']:.2f}x.", ""]
        lenet_time = pyodide["lenet_in_seconds"]
        curve = ", ".join(f"{t} s: {a:.4f}" for t, _, a in lenet_time["curve"])
        out += [f"lenet trained for {lenet_time['seconds']:g} s with the kernel (required: >= 0.975 within 60 s in the "
                f"page): test accuracy {lenet_time['test_accuracy']:.4f} on the 2,000 test digits ({curve}).", ""]
        if "per_drawing_ms" in pyodide:
            d = pyodide["per_drawing_ms"]
            out += [f"One pad drawing preprocessed and classified by the shipped {d['model']}: median {d['median']} ms, "
                    f"at most {d['max']} ms (required <= 30 ms in the page).", ""]
    elif pyodide:
        out += ["## Inside Pyodide", "", pyodide.get("note", "not run"), ""]
    return out
