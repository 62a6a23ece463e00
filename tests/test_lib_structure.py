"""The library's shape: imports run one way (the network knows nothing of files), small modules."""
import ast
from pathlib import Path

import pytest

import webnet as wn

PACKAGE = Path(wn.__file__).parent
ENGINE = ["layers", "conv", "im2col", "pool", "losses", "network", "gradcheck", "metrics", "accel", "augment"]
FILES = {"serialize", "npz", "architecture", "data", "preprocess", "ink", "cli", "models"}


def webnet_imports(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
    return found


@pytest.mark.parametrize("module", ENGINE)
def test_the_engine_imports_nothing_of_files(module):
    assert not webnet_imports(module) & FILES, f"{module} imports {webnet_imports(module) & FILES}"


def test_the_network_has_no_file_methods():
    assert not {"save", "load", "load_weights"} & set(dir(wn.NeuralNetwork))
    assert {"state_dict", "load_state_dict"} <= set(dir(wn.NeuralNetwork))


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 400
