"""``python -m webnet``: each command, and bad input as one line on stderr with exit status 2."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import webnet as wn


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "webnet", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_train_save_and_predict(tmp_path):
    model = tmp_path / "m.npz"
    r = run("train", "784-32-10", "--epochs", "2", "--subset", "3000", "--lr", "0.1", "--save", model)
    assert r.returncode == 0, r.stderr
    accs = [float(line.rsplit("test acc ", 1)[1].split()[0]) for line in r.stdout.splitlines() if "test acc" in line]
    assert len(accs) == 2 and accs[-1] > 0.85
    assert "epoch 2/2" in r.stderr and "loss=" in r.stderr and "acc=" in r.stderr  # tqdm bar
    assert wn.load(model).num_params() == 784 * 32 + 32 + 32 * 10 + 10

    canvas = np.full((280, 280), 255, np.uint8)
    canvas[40:240, 130:150] = 0  # a vertical stroke: a one
    Image.fromarray(canvas).save(tmp_path / "one.png")
    Image.fromarray(np.full((50, 50), 255, np.uint8)).save(tmp_path / "blank.png")
    r = run("predict", tmp_path / "one.png", tmp_path / "blank.png")
    assert r.returncode == 0, r.stderr
    one, blank = r.stdout.splitlines()
    assert one.split(": ", 1)[1].startswith("1 ") and "blank" in blank
    r = run("predict", "--model", model, "--top", "2", tmp_path / "one.png")
    assert r.returncode == 0 and r.stdout.count(": 0.") == 2


def test_gradcheck_table():
    r = run("gradcheck", "784-16-10", "--coords", "10")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("excellent") + r.stdout.count("acceptable") == 10  # 8 layer rows + 2 network rows
    assert "wrong" not in r.stdout and "suspicious" not in r.stdout


def test_info():
    r = run("info")
    assert r.returncode == 0 and "numpy" in r.stdout and "BLAS" in r.stdout and "data cache" in r.stdout


def bad_png(tmp_path):
    p = tmp_path / "bad.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return p


def corrupt_model(tmp_path):
    p = tmp_path / "m.npz"
    p.write_bytes(b"PK\x03\x04 truncated")
    return p


@pytest.mark.parametrize("args, message", [
    (lambda t: ["train", "784-abc-10"], "bad architecture"),
    (lambda t: ["train", "--lr", "-0.1"], "must be a positive number"),
    (lambda t: ["train", "--epochs", "0"], "must be at least 1"),
    (lambda t: ["train", "--subset", "20000"], "between 1 and 10000"),
    (lambda t: ["train", "--epochs", "1", "--save", "/nonexistent/dir/m.npz", "--subset", "100"], "cannot write"),
    (lambda t: ["predict", t / "missing.png"], "no such file"),
    (lambda t: ["predict", bad_png(t)], "not a readable image"),
    (lambda t: ["predict", "--model", corrupt_model(t), bad_png(t)], "truncated or corrupted"),
    (lambda t: ["predict", "--model", t / "none.npz", "x.png"], "no such file"),
    (lambda t: ["frobnicate"], "invalid choice"),
    (lambda t: ["train", "lenet", "--schedule", "linear"], "invalid choice: 'linear'"),
    (lambda t: ["train", "lenet", "--augment", "--batch-size", "0"], "must be at least 1"),
    (lambda t: ["train", "lenent"], "or one of cnn, lenet"),
])
def test_bad_input_one_line_exit_2(tmp_path, args, message):
    r = run(*args(tmp_path))
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(("webnet: error:", "usage:", "python -m webnet"))


def test_train_lenet_augmented_writes_how_it_was_made(tmp_path):
    model = tmp_path / "lenet.npz"
    r = run("train", "lenet", "--subset", "600", "--epochs", "2", "--augment", "--quiet", "--save", model)
    assert r.returncode == 0, r.stderr
    assert "(augmented)" in r.stdout and "batch 32, learning rate 0.15 (cosine)" in r.stdout
    card = wn.read_card(model)
    assert card["architecture"] == "lenet" and card["augment"].startswith("Augment(rotation=10.0")
    assert card["command"] == (f"python -m webnet train lenet --epochs 2 --batch-size 32 --lr 0.15 --schedule cosine "
                               f"--seed 0 --dtype float32 --subset 600 --augment --save {model}")
    again = tmp_path / "again.npz"
    r = run(*card["command"].split()[3:-1], again, "--quiet")  # the card's command makes the same model
    assert r.returncode == 0, r.stderr
    assert all(np.array_equal(a, b) for a, b in zip(wn.load(model).parameters(), wn.load(again).parameters()))


def test_diverging_run_is_explained(tmp_path):
    r = run("train", "784-32-10", "--epochs", "1", "--subset", "500", "--lr", "1e6")
    assert r.returncode == 2 and "diverged" in r.stderr and "smaller learning rate" in r.stderr
    assert "Traceback" not in r.stderr


# -- check: the exercises outside the browser ------------------------------------------------------
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_passes_every_reference_solution(tmp_path):
    from webnet.exercises import EXERCISES

    for name, exercise in EXERCISES.items():
        r = run("check", write(tmp_path, f"{name}.py", exercise.solution))
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"All checks pass: {exercise.class_name} is ready to train with." in r.stdout


def test_check_fails_every_gallery_bug(tmp_path):
    from webnet.exercises import BUGS, GALLERY

    for name in GALLERY:
        r = run("check", write(tmp_path, f"{name}.py", BUGS[name].source))
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert r.stdout.rstrip().endswith("does not pass yet.") and not r.stderr


def test_check_in_russian_by_exercise_name(tmp_path):
    from webnet.exercises import EXERCISES

    source = EXERCISES["tanh"].solution.replace("class Tanh", "class MyTanh")
    r = run("check", write(tmp_path, "t.py", source), "--exercise", "tanh", "--lang", "ru")
    assert r.returncode == 0 and "Все проверки пройдены: с Tanh можно обучать сеть." in r.stdout
    assert "отлично" in r.stdout and "excellent" not in r.stdout


@pytest.mark.parametrize("source, message", [
    ("class ReLU:\n    def forward(self, x)\n        return x\n", "syntax error on line 2: expected ':'"),
    ("x = 1\n", "no class to check"),
    ("import numpy\nraise SystemError('at import')\n", "raised SystemError: at import while it was loading (line 2"),
])
def test_check_bad_files_one_line_exit_2(tmp_path, source, message):
    path = write(tmp_path, "bad.py", source)
    r = run("check", path)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"webnet: error: {path}: " + r.stderr.split(": ", 3)[-1].strip()]
    assert message in r.stderr and "Traceback" not in r.stderr


def test_check_missing_file(tmp_path):
    r = run("check", tmp_path / "nope.py")
    assert r.returncode == 2 and r.stderr.strip() == f"webnet: error: {tmp_path / 'nope.py'}: no such file"
