"""Hostile and faulty model files: each one gives one plain ``ModelFileError`` (from ``load``,
``load_weights`` and the CLI's ``--model``), changes nothing in a loaded network, and is refused
within a memory ceiling; the large ones are measured in a child process."""
import io
import json
import pickle
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from lib_forge import (GOOD_ARCH, GOOD_STATE, RELU, SOFTMAX, arch_with, assert_plain, entry, good_bytes, linear,
                       meta_bytes, mlp, model_file, npy, npy_header, raw_zip, set_in, whitespace_meta)

import webnet as wn
from webnet import cli

W_HEADER = npy_header("<f4", (784, 16))


def zipfile_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    """An archive written by zipfile itself (duplicates allowed, its warning silenced)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def good_entries():
    return [("__webnet__.npy", npy(meta_bytes(GOOD_ARCH)))] + [(f"{k}.npy", npy(v)) for k, v in GOOD_STATE.items()]


def with_state(**changes):
    state = dict(GOOD_STATE)
    for key, value in changes.items():
        if value is None:
            state.pop(key.replace("_", "."))
        else:
            state[key.replace("_", ".")] = value
    return model_file(state=state)


def raw_json(text):
    return model_file(arch=text)


def wrong_crc(key):
    """The good file with entry ``key``'s CRC wrong in its headers."""
    entries = [entry("__webnet__.npy", npy(meta_bytes(GOOD_ARCH)))]
    entries += [entry(f"{k}.npy", npy(v), **({"crc": 12345} if k == key else {})) for k, v in GOOD_STATE.items()]
    return raw_zip(entries)


GOOD_META_TEXT = json.dumps(GOOD_ARCH)
half = good_bytes()[:len(good_bytes()) // 2]

# name: (make the file's bytes, what the message must say (a regex))
BAD = {
    # -- not a zip, or plainly not a model
    "empty": (lambda: b"", "not an .npz archive .it is empty"),
    "random_bytes": (lambda: np.random.default_rng(0).bytes(5000), "not an .npz archive"),
    "pickle": (lambda: pickle.dumps({"0.W": np.zeros((784, 16))}), "contains pickled data"),
    "npy_not_npz": (lambda: npy(np.zeros(3)), "single .npy array"),
    "truncated_half": (lambda: half, "truncated or corrupted: no zip directory"),
    "truncated_to_local_header": (lambda: good_bytes()[:40], "truncated or corrupted"),
    "corrupted_middle": (lambda: (lambda b: b[:len(b) // 2] + b"\xff" * 64 + b[len(b) // 2 + 64:])(good_bytes()),
                         "is corrupted"),
    "empty_zip": (lambda: zipfile_bytes([]), r"not a webnet model \(no __webnet__ entry\)"),
    "foreign_npz": (lambda: zipfile_bytes([("weights.npy", npy(np.zeros((4, 4), np.float32)))]), "no __webnet__ entry"),
    "object_array_meta": (lambda: zipfile_bytes([("__webnet__.npy", npy_header("|O", (1,)) + b"\x80\x04N.")]),
                          "pickled data"),
    "meta_as_raw_bytes": (lambda: zipfile_bytes([("__webnet__.npy", GOOD_META_TEXT.encode())] + good_entries()[1:]),
                          r"__webnet__.npy' is not a .npy array \(bad magic\)"),
    "entry_not_npy": (lambda: zipfile_bytes(good_entries() + [("readme.txt", b"hello")]), "'readme.txt' is not a .npy"),
    "duplicate_weight": (lambda: zipfile_bytes(good_entries() + [("0.W.npy", npy(np.ones((784, 16), np.float32)))]),
                         "'0.W.npy' appears twice"),
    "duplicate_meta": (lambda: zipfile_bytes(good_entries() + good_entries()[:1]), "'__webnet__.npy' appears twice"),
    # -- zip headers that lie
    "encrypted_flag": (lambda: raw_zip([entry("__webnet__.npy", npy(meta_bytes(GOOD_ARCH)), flags=1)]), "encrypted"),
    "strong_encryption_flag": (lambda: raw_zip([entry("0.W.npy", b"x", flags=0x40)]), "encrypted"),
    "lzma_compression": (lambda: raw_zip([entry("__webnet__.npy", b"x" * 10, method=14, data=b"x" * 10)]),
                         "compression method 14"),
    "unknown_compression": (lambda: raw_zip([entry("__webnet__.npy", b"x" * 10, method=99, data=b"x" * 10)]),
                            "compression method 99"),
    "stored_size_lies": (lambda: raw_zip([entry("__webnet__.npy", b"abc", method=0, usize=10 ** 6)]),
                         "is stored but declares 1,000,000 bytes in 3"),
    "ratio_beyond_deflate": (lambda: raw_zip([entry("__webnet__.npy", b"abc", usize=3 * 10 ** 8)]),
                             "more than deflate can produce"),
    "inflates_past_declared": (lambda: raw_zip([entry("0.W.npy", npy_header("<f4", (2,)) + bytes(8 + 10 ** 6),
                                                      usize=len(npy_header("<f4", (2,))) + 8)]),
                               "is corrupted: it inflates past its declared"),
    "crc_mismatch": (lambda: wrong_crc("0.b"), "'0.b.npy' is truncated or corrupted .size or CRC mismatch"),
    "overlapping_entries": (lambda: raw_zip([entry("__webnet__.npy", npy(meta_bytes(GOOD_ARCH))),
                                             entry("0.W.npy", npy(GOOD_STATE["0.W"]), offset=0)]),
                            "overlaps another entry"),
    "entry_runs_into_next": (lambda: raw_zip([entry("0.W.npy", npy(np.zeros(3, np.float32)), csize=500),
                                              entry("0.b.npy", npy(np.zeros(3, np.float32)))]),
                             "truncated or overlaps another entry"),
    "directory_outside_file": (lambda: raw_zip([entry("a.npy", b"x")], cd_offset=10 ** 6), "lies outside the file"),
    "multi_disk": (lambda: raw_zip([entry("a.npy", b"x")], disk=1), "multi-part"),
    "too_many_entries": (lambda: zipfile_bytes([(f"{i}.W.npy", b"") for i in range(200)]), "declares 200 entries"),
    "zip64_end_record": (lambda: raw_zip([entry("a.npy", b"x")], n_entries=0xFFFF), "ZIP64"),
    "bad_utf8_name": (lambda: raw_zip([entry(b"\xff\xfe.npy", b"x", flags=0x800)]), "not valid UTF-8"),
    "bad_local_magic": (lambda: raw_zip([entry("a.npy", npy(np.zeros(2, np.float32))),
                                         entry("b.npy", npy(np.zeros(2, np.float32)), local_magic=b"XXXX")]),
                        "no local header"),
    # -- .npy headers that lie
    "npy_4_TB": (lambda: raw_zip([entry("0.W.npy", npy_header("<f4", (10 ** 6, 10 ** 6)))]),
                 r"declares shape \(1000000, 1000000\) \(4,000,000,000,000 bytes\) but holds 0 bytes"),
    "npy_8_GB_with_zip64_size": (lambda: raw_zip([entry("0.W.npy", npy_header("<f8", (2 ** 30,)),
                                                        usize=len(npy_header("<f8", (2 ** 30,))) + 8 * 2 ** 30)]),
                                 "more than deflate can produce"),
    "npy_header_too_long": (lambda: raw_zip([entry("0.W.npy", b"\x93NUMPY\x02\x00" + (60000).to_bytes(4, "little")
                                                   + b" " * 60000)]), "header of 60,000 bytes"),
    "npy_header_not_a_dict": (lambda: raw_zip([entry("0.W.npy", npy_header(text="__import__('os')"))]),
                              "unreadable .npy header"),
    "npy_header_deep_nesting": (lambda: raw_zip([entry("0.W.npy", npy_header(text="(" * 4000 + ")" * 4000))]),
                                "unreadable .npy header"),
    "npy_structured_dtype": (lambda: raw_zip([entry("0.W.npy", npy_header(text="{'descr': [('a', '<f4')], "
                                                                              "'fortran_order': False, 'shape': (2,), }")
                                                   + bytes(8))]), "has dtype"),
    "npy_float16": (lambda: with_state(**{"0_b": np.zeros(16, np.float16)}), "has dtype '<f2'"),
    "npy_float128": (lambda: with_state(**{"0_b": np.zeros(16, np.longdouble)}), "has dtype"),
    "npy_complex": (lambda: with_state(**{"0_b": np.zeros(16, np.complex64)}), "has dtype '<c8'"),
    "npy_int32": (lambda: with_state(**{"0_b": np.zeros(16, np.int32)}), "has dtype '<i4'"),
    "npy_big_endian": (lambda: with_state(**{"0_b": np.zeros(16, ">f4")}), "has dtype '>f4'"),
    "npy_version_9": (lambda: raw_zip([entry("0.W.npy", npy_header(version=9))]), "unknown .npy format version 9"),
    "npy_header_missing_key": (lambda: raw_zip([entry("0.W.npy", npy_header(text="{'descr': '<f4', 'shape': (2,)}"))]),
                               "without exactly descr"),
    "npy_negative_shape": (lambda: raw_zip([entry("0.W.npy", npy_header("<f4", (-3,)))]), r"malformed .npy header"),
    "npy_float_shape": (lambda: raw_zip([entry("0.W.npy", npy_header("<f4", (3.5,)))]), r"malformed .npy header"),
    "npy_data_shorter_than_shape": (lambda: raw_zip([entry("0.W.npy", npy_header("<f4", (784, 16)) + bytes(100))]),
                                    r"declares shape \(784, 16\) \(50,176 bytes\) but holds 100"),
    # -- the description (JSON)
    "bad_json": (lambda: raw_json("{not json"), "not valid JSON"),
    "json_not_utf8": (lambda: raw_json(b"\xff\xfe{}"), "not valid JSON"),
    "json_top_level_list": (lambda: raw_json("[1, 2]"), "must be a JSON object, got list"),
    "json_nested_200000_deep": (lambda: raw_json("[" * 200_000 + "]" * 200_000), "not a JSON text of at most 65,536"),
    "json_nested_30000_deep": (lambda: raw_json("[" * 30_000 + "]" * 30_000), "nested too deeply"),
    "json_nested_20_deep": (lambda: model_file(arch_with(set_in(["card"], json.loads('{"a":' * 20 + "1" + "}" * 20)))),
                            "nested over 16 deep"),
    "json_300_MB_whitespace": (lambda: whitespace_meta(300 * 2 ** 20), "not a JSON text of at most 65,536"),
    "json_duplicate_key": (lambda: raw_json(GOOD_META_TEXT.replace('"in_features": 784',
                                                                   '"in_features": 784, "in_features": 9', 1)),
                           "'in_features' appears twice in one object"),
    "json_nan_constant": (lambda: raw_json(GOOD_META_TEXT.replace('"eps": 1e-08', '"eps": NaN')), "NaN is not a JSON number"),
    "json_huge_integer": (lambda: raw_json(GOOD_META_TEXT.replace("784", "9" * 5000, 1)), "not valid JSON"),
    "meta_float_array": (lambda: raw_zip([entry("__webnet__.npy", npy(np.zeros(3, np.float32)))]),
                         "__webnet__ entry is not a JSON text"),
    "meta_2d": (lambda: raw_zip([entry("__webnet__.npy", npy(np.zeros((2, 2), np.uint8)))]), "not a JSON text"),
    "foreign_format": (lambda: model_file({"format": "keras", "version": 1, "dtype": "float32", "layers": [],
                                           "loss": {}}), "not a webnet model description"),
    "future_version": (lambda: model_file(arch_with(set_in(["version"], 99))), "unsupported webnet model version 99"),
    "version_as_text": (lambda: model_file(arch_with(set_in(["version"], "1"))), "unsupported webnet model version"),
    "unknown_top_key": (lambda: model_file(arch_with(set_in(["optimizer"], "adam"))), "unknown key 'optimizer'"),
    "missing_layers": (lambda: model_file(arch_with(lambda a: a.pop("layers"))), "lacks the key 'layers'"),
    "layers_not_a_list": (lambda: model_file(arch_with(set_in(["layers"], {"0": SOFTMAX}))), "1 to 64 layers"),
    "layer_not_an_object": (lambda: model_file(arch_with(set_in(["layers", 1], "ReLU"))), "layer 1 must be a JSON object"),
    "unknown_layer": (lambda: model_file(arch_with(set_in(["layers", 1, "type"], "Evil"))), "unknown layer type 'Evil'"),
    "unknown_layer_key": (lambda: model_file(arch_with(set_in(["layers", 0, "activation"], "relu"))),
                          r"layer 0 \(LinearLayer\) has an unknown key 'activation'"),
    "missing_layer_key": (lambda: model_file(arch_with(lambda a: a["layers"][0].pop("out_features"))),
                          "lacks the key 'out_features'"),
    "units_1e400": (lambda: raw_json(GOOD_META_TEXT.replace('"in_features": 784', '"in_features": 1e400', 1)),
                    "in_features must be a whole number from 1 to 65,536, got inf"),
    "units_784_point_9": (lambda: model_file(arch_with(set_in(["layers", 0, "in_features"], 784.9))),
                          "in_features must be a whole number.*got 784.9"),
    "units_as_text": (lambda: model_file(arch_with(set_in(["layers", 0, "in_features"], "784"))), "whole number"),
    "units_as_bool": (lambda: model_file(arch_with(set_in(["layers", 2, "out_features"], True))), "whole number"),
    "units_zero": (lambda: model_file(arch_with(set_in(["layers", 0, "out_features"], 0))), "from 1 to"),
    "units_1e9": (lambda: model_file(mlp(linear(784, 10 ** 9), RELU, linear(10 ** 9, 10), SOFTMAX)),
                  "out_features must be a whole number from 1 to 65,536, got 1000000000"),
    "layer_20000x20000": (lambda: model_file(mlp(linear(20000, 20000), RELU, linear(20000, 10), SOFTMAX)),
                          "400,020,000 parameters or more; at most 50,000,000"),
    "conv_kernel_100000": (lambda: model_file(mlp({"type": "Reshape", "shape": [1, 28, 28]},
                                                  {"type": "Conv2D", "in_channels": 1, "out_channels": 8,
                                                   "kernel_size": [100000, 100000], "stride": 1, "padding": 0},
                                                  SOFTMAX)), "kernel_size must be a whole number from 1 to 64"),
    "conv_65536_channels": (lambda: model_file(mlp({"type": "Reshape", "shape": [1, 28, 28]},
                                                   {"type": "Conv2D", "in_channels": 1, "out_channels": 65536,
                                                    "kernel_size": [28, 28], "stride": 1, "padding": 0},
                                                   {"type": "Flatten"}, SOFTMAX)), "51,445,760 parameters or more"),
    "simpleconv_kernel_1e9": (lambda: model_file(mlp({"type": "Reshape", "shape": [28, 28]},
                                                     {"type": "SimpleConv", "kernel_shape": [10 ** 9, 10 ** 9]},
                                                     SOFTMAX)), "kernel_shape must be a whole number"),
    "no_layers": (lambda: model_file(mlp(), state={}), "1 to 64 layers, this one has 0"),
    "300000_relus": (lambda: model_file(mlp(*[RELU] * 300_000)), "not a JSON text of at most 65,536"),
    "100_layers": (lambda: model_file(mlp(linear(784, 10), *[RELU] * 98, SOFTMAX)), "1 to 64 layers, this one has 100"),
    "no_softmax": (lambda: model_file(mlp(linear(784, 16), RELU, linear(16, 10))), "last layer must be a Softmax"),
    "softmax_in_the_middle": (lambda: model_file(mlp(linear(784, 16), SOFTMAX, linear(16, 10), SOFTMAX)),
                              r"layer 1 \(Softmax\) must be the last layer"),
    "chain_does_not_fit": (lambda: model_file(mlp(linear(784, 16), RELU, linear(17, 10), SOFTMAX)),
                           r"layer 2 \(LinearLayer\) takes 17 features but gets shape \(16,\)"),
    "activation_first": (lambda: model_file(mlp(RELU, linear(784, 10), SOFTMAX)), "cannot come first"),
    "reshape_does_not_fit": (lambda: model_file(mlp(linear(784, 100), {"type": "Reshape", "shape": [1, 10, 11]},
                                                    SOFTMAX)), r"cannot reshape \(100,\) into \(1, 10, 11\)"),
    "conv_on_flat_input": (lambda: model_file(mlp(linear(784, 100), {"type": "Conv2D", "in_channels": 1,
                                                                     "out_channels": 2, "kernel_size": [3, 3],
                                                                     "stride": 1, "padding": 0}, SOFTMAX)),
                           r"takes \(1, H, W\) but gets shape \(100,\)"),
    "conv_kernel_larger_than_input": (lambda: model_file(mlp({"type": "Reshape", "shape": [1, 4, 4]},
                                                             {"type": "Conv2D", "in_channels": 1, "out_channels": 2,
                                                              "kernel_size": [5, 5], "stride": 1, "padding": 0},
                                                             {"type": "Flatten"}, SOFTMAX)), "larger than its input"),
    "activations_too_large": (lambda: model_file(mlp({"type": "Reshape", "shape": [1, 28, 28]},
                                                     {"type": "Conv2D", "in_channels": 1, "out_channels": 4096,
                                                      "kernel_size": [1, 1], "stride": 1, "padding": 0},
                                                     {"type": "Flatten"}, SOFTMAX)), "values per example"),
    "no_parameters": (lambda: model_file(mlp({"type": "Reshape", "shape": [784]}, SOFTMAX), state={}),
                      "no layer with parameters"),
    "dtype_float16": (lambda: model_file(arch_with(set_in(["dtype"], "float16"))), "must be float32 or float64"),
    "dtype_float128": (lambda: model_file(arch_with(set_in(["dtype"], "float128"))), "must be float32 or float64"),
    "dtype_mismatch": (lambda: model_file(arch_with(set_in(["dtype"], "float64"))),
                       r"'0.W' is float32 \(784, 16\); the architecture needs float64"),
    "eps_negative": (lambda: model_file(arch_with(set_in(["loss", "eps"], -1e-8))), "eps must be a number from 0"),
    "eps_infinite": (lambda: raw_json(GOOD_META_TEXT.replace('"eps": 1e-08', '"eps": 1e400')), "eps must be a number"),
    "reduction_unknown": (lambda: model_file(arch_with(set_in(["loss", "reduction"], "max"))), "reduction must be"),
    "loss_unknown": (lambda: model_file(arch_with(set_in(["loss", "type"], "MSE"))), "unknown loss 'MSE'"),
    "loss_unknown_key": (lambda: model_file(arch_with(set_in(["loss", "weight"], 2))), "the loss has an unknown key"),
    "card_not_an_object": (lambda: model_file(arch_with(set_in(["card"], [1, 2]))), "card must be a JSON object"),
    "card_too_big": (lambda: model_file(arch_with(set_in(["card"], {"notes": "x" * 20_000}))), "card is over 16,384"),
    # -- weights that do not fit the description
    "missing_weight": (lambda: with_state(**{"2_b": None}), "the weights lack '2.b'"),
    "unexpected_weight": (lambda: with_state(**{"9_W": np.zeros(3, np.float32)}), "unexpected entry '9.W'"),
    "weight_shape": (lambda: with_state(**{"0_W": np.zeros((784, 17), np.float32)}),
                     r"'0.W' is float32 \(784, 17\); the architecture needs float32 \(784, 16\)"),
    "nan_weight": (lambda: with_state(**{"0_b": np.full(16, np.nan, np.float32)}), "'0.b' contains NaN or infinite"),
    "inf_weight": (lambda: with_state(**{"2_W": np.full((16, 10), np.inf, np.float32)}), "'2.W' contains NaN or infinite"),
}
assert len(BAD) >= 60, len(BAD)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    from PIL import Image

    path = tmp_path_factory.mktemp("img") / "one.png"
    canvas = np.full((280, 280), 255, np.uint8)
    canvas[40:240, 130:150] = 0
    Image.fromarray(canvas).save(path)
    return path


@pytest.mark.parametrize("name", BAD, ids=list(BAD))
def test_bad_model_file_is_refused_plainly(name, tmp_path):
    make, pattern = BAD[name]
    data = make()
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    net = wn.build_model("784-16-10", rng=0)
    before = net.state_dict()
    tracemalloc.start()
    try:
        for source in (lambda: data, lambda: path, lambda: io.BytesIO(data)):
            with pytest.raises(wn.ModelFileError) as info:
                wn.load(source())
            assert_plain(str(info.value), pattern)
            assert str(info.value).startswith(str(path) if source() is path else "the uploaded file")
            with pytest.raises(wn.ModelFileError, match=pattern):
                wn.load_weights(net, source())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())
    assert peak < 16 * 2 ** 20, f"refusing {name} took {peak / 2 ** 20:.1f} MB"


@pytest.mark.parametrize("name", BAD, ids=list(BAD))
def test_cli_predict_refuses_bad_model_in_one_line(name, tmp_path, digit_png, capsys):
    make, pattern = BAD[name]
    path = tmp_path / "bad.npz"
    path.write_bytes(make())
    assert cli.main(["predict", "--model", str(path), str(digit_png)]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"webnet: error: {path}") and captured.out == ""
    assert_plain(line, pattern)


@pytest.mark.parametrize("name", ["empty", "pickle", "duplicate_weight", "lzma_compression", "npy_4_TB",
                                  "json_nested_200000_deep", "units_1e400", "no_softmax"])
def test_cli_subprocess_refuses_bad_model(name, tmp_path, digit_png):
    make, pattern = BAD[name]
    path = tmp_path / "bad.npz"
    path.write_bytes(make())
    r = subprocess.run([sys.executable, "-m", "webnet", "predict", "--model", str(path), str(digit_png)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("webnet: error:")
    assert_plain(line, pattern)
