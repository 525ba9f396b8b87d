#!/usr/bin/env python3
"""Compares two `vitlens stats` output folders (standard library only; CI has python3, not always numpy).

    python3 compare.py EXPECTED ACTUAL [--rtol 1e-6]

EXPECTED is a single run, ACTUAL the merge of its shards. Checks: the same set of .npy files; for each,
the same dtype and shape and every element within rtol relative (|a - e| <= rtol * max(|a|, |e|); NaN
equals NaN); stats.json's image count equal (and failure count, if present); ACTUAL's stats.json does
not say it is a partial shard. Prints one line per file with the largest relative difference, then a
closing "slurm compare: N checks passed, N failed" line. Exit 0 when all agree, 1 on any mismatch, 2 on a usage error.
"""
import array
import ast
import json
import math
import os
import struct
import sys

DTYPES = {"f4": "f", "f8": "d", "i4": "i", "i8": "q", "u1": "B", "i1": "b", "u4": "I", "u8": "Q", "b1": "B"}


class NpyError(Exception):
    pass


def read_npy(path):
    """A .npy file (version 1-3, C order, little-endian or byte-sized) -> (dtype, shape, flat values)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:6] != b"\x93NUMPY":
        raise NpyError(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    elif major in (2, 3):
        (length,), start = struct.unpack("<I", data[8:12]), 12
    else:
        raise NpyError(f"{path}: .npy version {major} is not supported")
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    descr, shape = header["descr"], tuple(header["shape"])
    if header.get("fortran_order"):
        raise NpyError(f"{path}: Fortran order is not supported")
    if descr[0] not in "<|" or descr[1:] not in DTYPES:
        raise NpyError(f"{path}: dtype {descr} is not supported")
    values = array.array(DTYPES[descr[1:]])
    body = data[start + length:]
    count = math.prod(shape)
    if len(body) != count * values.itemsize:
        raise NpyError(f"{path}: {len(body)} data bytes for shape {shape} of {descr}")
    values.frombytes(body)
    if sys.byteorder == "big" and values.itemsize > 1:
        values.byteswap()
    return descr, shape, values


def largest_relative_difference(expected, actual):
    """max over elements of |a - e| / max(|a|, |e|) (0 where both are 0; inf where exactly one is NaN)."""
    worst = 0.0
    for e, a in zip(expected, actual):
        if math.isnan(e) or math.isnan(a):
            if not (math.isnan(e) and math.isnan(a)):
                return math.inf
            continue
        if e == a:
            continue
        worst = max(worst, abs(a - e) / max(abs(a), abs(e)))
    return worst


def load_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise NpyError(f"{path}: {error}")


def main():
    args = sys.argv[1:]
    rtol = 1e-6
    if "--rtol" in args:
        at = args.index("--rtol")
        if at + 1 >= len(args):
            print("compare: --rtol needs a number", file=sys.stderr)
            return 2
        rtol = float(args[at + 1])
        del args[at:at + 2]
    if len(args) != 2:
        print("usage: compare.py EXPECTED ACTUAL [--rtol 1e-6]", file=sys.stderr)
        return 2
    expected_dir, actual_dir = args
    passed = failed = 0

    def report(ok, message):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(("ok    " if ok else "FAIL  ") + message)

    try:
        expected_names = sorted(n for n in os.listdir(expected_dir) if n.endswith(".npy"))
        actual_names = sorted(n for n in os.listdir(actual_dir) if n.endswith(".npy"))
    except OSError as error:
        print(f"compare: {error}", file=sys.stderr)
        return 1
    report(bool(expected_names), f"{expected_dir} holds {len(expected_names)} .npy files")
    missing = sorted(set(expected_names) - set(actual_names))
    extra = sorted(set(actual_names) - set(expected_names))
    report(not missing and not extra,
           f"the same .npy files (missing in {actual_dir}: {missing or 'none'}; extra: {extra or 'none'})")
    for name in expected_names:
        if name not in actual_names:
            continue
        try:
            e_type, e_shape, e_values = read_npy(os.path.join(expected_dir, name))
            a_type, a_shape, a_values = read_npy(os.path.join(actual_dir, name))
        except NpyError as error:
            report(False, str(error))
            continue
        if (e_type, e_shape) != (a_type, a_shape):
            report(False, f"{name}: {a_type}{list(a_shape)} but expected {e_type}{list(e_shape)}")
            continue
        worst = largest_relative_difference(e_values, a_values)
        report(worst <= rtol, f"{name}: {e_type}{list(e_shape)} largest relative difference {worst:.3g} (rtol {rtol:g})")

    try:
        expected_json = load_json(os.path.join(expected_dir, "stats.json"))
        actual_json = load_json(os.path.join(actual_dir, "stats.json"))
    except NpyError as error:
        report(False, str(error))
    else:
        e_images, a_images = expected_json.get("images"), actual_json.get("images")
        report(isinstance(e_images, int) and e_images > 0 and e_images == a_images,
               f"stats.json images: single run {e_images}, merged {a_images}")
        if "failures" in expected_json or "failures" in actual_json:
            e_fail, a_fail = expected_json.get("failures"), actual_json.get("failures")
            e_count = len(e_fail) if isinstance(e_fail, list) else e_fail
            a_count = len(a_fail) if isinstance(a_fail, list) else a_fail
            report(e_count == a_count, f"stats.json failures: single run {e_count}, merged {a_count}")
        report(actual_json.get("complete", True) is not False,
               f"merged stats.json is complete (complete: {actual_json.get('complete', 'absent')})")
    print(f"slurm compare: {passed} checks passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
