"""``python -m webnet``: train, gradcheck, check, predict, evaluate, info.

Bad input (a missing file, an unreadable image, a bad architecture, an impossible setting, a
corrupt model) prints one line on stderr and exits with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np

from . import __version__, data, gradcheck, serialize
from .drawings import Drawings, DrawingsFileError
from .models import LENET, build_model, check_digit_classifier, parse_architecture, pretrained
from .network import TrainingDiverged
from .preprocess import BlankImage, ImageError, preprocess, read_image
from .serialize import ModelFileError


class UsageError(Exception):
    """A problem with what the user asked for: one line on stderr, exit status 2."""


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v > 0 and np.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def architecture(text):
    try:
        parse_architecture(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def parser():
    p = argparse.ArgumentParser(prog="python -m webnet", description="webnet: a small NumPy neural-network lab.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a network on MNIST")
    t.add_argument("arch", nargs="?", default="784-128-10", type=architecture,
                   help="layer sizes like 784-128-10 or 784-256-64-10, or 'cnn' or 'lenet' (default 784-128-10)")
    t.add_argument("--epochs", type=positive_int, default=5)
    t.add_argument("--batch-size", type=positive_int, help="default 64 (32 for lenet)")
    t.add_argument("--lr", type=positive_float, help="learning rate (default 0.05; 0.1 for lenet)")
    t.add_argument("--schedule", choices=("cosine", "constant"),
                   help="the learning rate over the run: --lr throughout (default), or from --lr down to 0 along "
                        "a half cosine, batch by batch (lenet's default)")
    t.add_argument("--augment", action="store_true",
                   help="distort every training batch afresh (webnet.augment.Augment's defaults: rotation, slant, "
                        "scale, shift, pen thickness)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--full", action="store_true", help="the full 60,000 / 10,000 MNIST (downloaded once)")
    t.add_argument("--subset", type=positive_int, metavar="N",
                   help="train on the first N of the shipped 10,000-digit subset")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    t.add_argument("--save", metavar="PATH", help="write the trained model (.npz)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    g = sub.add_parser("gradcheck", help="per-layer finite-difference gradient check")
    g.add_argument("arch", nargs="?", default="784-128-10", type=architecture)
    g.add_argument("--batch", type=positive_int, default=4)
    g.add_argument("--coords", type=positive_int, default=40, help="coordinates checked per tensor")
    g.add_argument("--seed", type=int, default=0)

    c = sub.add_parser("check", help="grade the layers you wrote (the exercises) against finite differences")
    c.add_argument("file", metavar="FILE.py", help="a file defining LinearLayer, ReLU, ... (the exercises' classes)")
    c.add_argument("--exercise", metavar="NAME", help="grade this exercise (its class, or the file's only class)")
    c.add_argument("--lang", choices=("en", "ru"), default="en", help="the report's language")
    c.add_argument("--seed", type=int, default=0)

    r = sub.add_parser("predict", help="classify PNG images of digits")
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--model", help="a model saved by train --save (default: the shipped pretrained one)")
    r.add_argument("--top", type=positive_int, default=3)

    e = sub.add_parser("evaluate", help="how a model reads a class's own drawings (the lab's Draw tab exports "
                                        "them), beside MNIST's test digits")
    e.add_argument("--drawings", required=True, metavar="FILE.npz", help="labelled drawings, as the lab exports them")
    e.add_argument("--model", help="a model saved by train --save or the lab (default: the shipped pretrained one)")
    e.add_argument("--wrong", type=int, default=20, metavar="N", help="list at most N drawings read wrong (default 20)")

    sub.add_parser("info", help="versions, BLAS, data cache")
    return p


def load_data(args):
    if args.full:
        return data.load_mnist(dtype=np.dtype(args.dtype).type, progress=lambda line: print(line, file=sys.stderr))
    return data.load_mnist_subset(n_train=args.subset, dtype=np.dtype(args.dtype).type)


#: (learning rate, batch size, schedule) when not given: lenet learns best with smaller batches, larger
#: steps and a decay (3 full epochs, two seeds: lr 0.15 and cosine 0.9869-0.9870; 0.1 and cosine
#: 0.9855-0.9857; 0.1 constant 0.9834-0.9856; 0.05, batch 64 and cosine 0.9748-0.9771)
DEFAULTS = {LENET: (0.15, 32, "cosine")}
PLAIN = (0.05, 64, "constant")


def cmd_train(args, out):
    if args.full and args.subset:
        raise UsageError("--full and --subset exclude each other")
    try:
        X, y, Xt, yt = load_data(args)
    except ValueError as e:  # a subset size the shipped data does not have
        raise UsageError(f"--subset: {e}".replace("n_train must be", "must be")) from None
    name = parse_architecture(args.arch)
    lr, batch, schedule = DEFAULTS[name] if isinstance(name, str) and name in DEFAULTS else PLAIN
    args.lr, args.batch_size, args.schedule = args.lr or lr, args.batch_size or batch, args.schedule or schedule
    net = build_model(args.arch, rng=args.seed, dtype=np.dtype(args.dtype).type)
    rng = np.random.default_rng(args.seed + 1)
    augment = None
    if args.augment:
        from .augment import Augment

        augment = Augment()
    print(f"training {args.arch} ({net.num_params():,} parameters, {args.dtype}) on {len(X):,} digits"
          f"{' (augmented)' if augment else ''}, testing on {len(Xt):,}; batch {args.batch_size}, "
          f"learning rate {args.lr:g} ({args.schedule})", file=out)
    from tqdm import tqdm

    steps = args.epochs * -(-len(X) // args.batch_size)
    for epoch in range(1, args.epochs + 1):
        ep = net.epoch(X, y, args.batch_size, args.lr, rng=rng, augment=augment)
        bar = tqdm(total=ep.n_batches, desc=f"epoch {epoch}/{args.epochs}", unit="batch", file=sys.stderr,
                   disable=args.quiet, leave=True, dynamic_ncols=True)
        start = time.perf_counter()
        while not ep.done:
            if args.schedule == "cosine":  # the step about to be taken, out of all the run's
                done = (epoch - 1) * ep.n_batches + ep.batch
                ep.learning_rate = args.lr * 0.5 * (1 + math.cos(math.pi * done / steps))
            n = ep.run(1 if args.schedule == "cosine" else 20)
            bar.update(n)
            if ep.batch % 20 == 0 or ep.done:
                bar.set_postfix(loss=f"{ep.mean_loss:.4f}", acc=f"{ep.accuracy:.4f}", refresh=False)
        bar.close()
        secs = time.perf_counter() - start
        acc, loss = net.evaluate(Xt, yt)
        print(f"epoch {epoch}: train loss {ep.mean_loss:.4f}, train acc {ep.accuracy:.4f}, "
              f"test loss {loss:.4f}, test acc {acc:.4f} ({secs:.2f} s)", file=out)
    if args.save:
        card = {"architecture": args.arch, "data": "MNIST (full)" if args.full else f"MNIST subset ({len(X):,} digits)",
                "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr,
                "schedule": args.schedule, "augment": repr(augment) if augment else None, "seed": args.seed,
                "dtype": args.dtype, "test_accuracy": round(acc, 4), "date": time.strftime("%Y-%m-%d"),
                "made_by": f"python -m webnet train (webnet {__version__})", "command": command_line(args)}
        try:
            serialize.save(net, args.save, card=card)
        except OSError as e:
            raise UsageError(f"cannot write {args.save}: {e.strerror}") from None
        print(f"saved to {args.save}", file=out)


def command_line(args):
    """The ``train`` command that makes the same model (every setting spelled out)."""
    parts = ["python -m webnet train", args.arch, f"--epochs {args.epochs}", f"--batch-size {args.batch_size}",
             f"--lr {args.lr:g}", f"--schedule {args.schedule}", f"--seed {args.seed}", f"--dtype {args.dtype}"]
    parts += ["--full"] if args.full else [f"--subset {args.subset}"] if args.subset else []
    return " ".join(parts + (["--augment"] if args.augment else []) + [f"--save {args.save}"])


def cmd_gradcheck(args, out):
    rng = np.random.default_rng(args.seed)
    net = build_model(args.arch, rng=rng)
    x, y = data.load_mnist_subset(n_train=args.batch, n_test=1, dtype=np.float64)[:2]
    rows = gradcheck.check_network(net, x, y, rng, sample=args.coords)
    print(gradcheck.format_rows(rows), file=out)
    return 0 if all(r.ok for r in rows) else 1


def cmd_check(args, out):
    """Exit 0 when every quantity of every graded class passes, 1 when one fails, 2 when the file
    cannot be read or run (one line naming the file)."""
    from . import exercises
    from .exercises.explain import problem_text, report_text

    try:
        with open(args.file, encoding="utf-8") as f:
            source = f.read()
    except FileNotFoundError:
        raise UsageError(f"{args.file}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{args.file}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    try:
        reports = exercises.grade_source(source, args.exercise, filename=os.path.abspath(args.file),
                                         rng=np.random.default_rng(args.seed))
    except exercises.CodeProblem as e:
        raise UsageError(f"{args.file}: {problem_text(e, args.lang)}") from None
    print(report_text(reports, args.lang), file=out)
    return 0 if all(r.passed for r in reports) else 1


def predict_model(path):
    """The model ``predict`` uses: the file at ``path`` if given (it must classify digits), else
    the shipped one."""
    if not path:
        return pretrained()
    net = serialize.load(path)
    try:
        check_digit_classifier(net)
    except ValueError as e:
        raise UsageError(f"{path}: {e}") from None
    return net


def cmd_predict(args, out):
    net = predict_model(args.model)
    for path in args.images:
        try:
            x = preprocess(read_image(path)).x
        except BlankImage:
            print(f"{path}: blank image, no digit to classify", file=out)
            continue
        except ImageError as e:
            raise UsageError(str(e)) from None
        p = net.predict_proba(x)[0]
        top = np.argsort(-p)[:args.top]
        probs = ", ".join(f"{k}: {p[k]:.3f}" for k in top)
        print(f"{path}: {top[0]}   ({probs})", file=out)


def cmd_evaluate(args, out):
    net = predict_model(args.model)
    try:
        drawings = Drawings.load(args.drawings)
    except DrawingsFileError as e:
        raise UsageError(f"{args.drawings}: {e}") from None
    if not len(drawings):
        raise UsageError(f"{args.drawings}: it holds no drawings")
    p = drawings.predictions(net)
    read = p.argmax(1)
    wrong = np.flatnonzero(read != drawings.labels)
    _, _, X_test, y_test = data.load_mnist_subset()
    mnist = float((net.predict(X_test) == y_test).mean())
    n = len(drawings)
    print(f"model: {args.model or 'the shipped pretrained model'}", file=out)
    print(f"class drawings: {n - len(wrong):,} of {n:,} read right ({(n - len(wrong)) / n:.4f})", file=out)
    print(f"MNIST test digits: {mnist:.4f} ({len(y_test):,} of the shipped subset)", file=out)
    for i in wrong[:max(args.wrong, 0)]:
        print(f"  drawing {i + 1}: labelled {drawings.labels[i]}, read as {read[i]} ({p[i, read[i]]:.2f})", file=out)
    if len(wrong) > max(args.wrong, 0):
        print(f"  ... and {len(wrong) - max(args.wrong, 0):,} more read wrong", file=out)


def cmd_info(args, out):
    print(f"webnet {__version__}, numpy {np.__version__}, Python {platform.python_version()} "
          f"({platform.platform()})", file=out)
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            print(f"BLAS: {lib.get('internal_api')} {lib.get('version')}, kernel {lib.get('architecture')}, "
                  f"{lib.get('num_threads')} threads", file=out)
    except ImportError:
        print("BLAS: install threadpoolctl to see which one", file=out)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var):
            print(f"{var}={os.environ[var]}", file=out)
    print(f"data cache: {data.cache_dir()} (set {data.CACHE_ENV} to move it)", file=out)


COMMANDS = {"train": cmd_train, "gradcheck": cmd_gradcheck, "check": cmd_check, "predict": cmd_predict,
            "evaluate": cmd_evaluate, "info": cmd_info}


def main(argv=None, out=None):
    out = out or sys.stdout
    args = parser().parse_args(argv)  # argparse itself exits 2 with one line for bad options
    try:
        return COMMANDS[args.command](args, out) or 0
    except (UsageError, ModelFileError, data.DataError) as e:
        print(f"webnet: error: {e}", file=sys.stderr)
    except TrainingDiverged as e:
        print(f"webnet: error: {e}", file=sys.stderr)
    except ImportError as e:
        print(f"webnet: error: {e.name} is needed for this command: pip install 'webnet[cli]'", file=sys.stderr)
    except KeyboardInterrupt:
        print("webnet: interrupted", file=sys.stderr)
        return 130
    return 2
