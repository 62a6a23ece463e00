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
