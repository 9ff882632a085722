#!/usr/bin/python3
"""Writes the tiny test fixtures into tests/data/ (run with /usr/bin/python3, which has numpy).

Everything is deterministic (fixed seeds, fixed zip timestamps), so rerunning the script gives the
same bytes and the files can be committed. Each file stays under 4 KiB.
"""
import io
import os
import sys
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr)  # numpy picks the version and fortran_order itself, like users' files
    else:
        np.lib.format.write_array(buf, arr, version=version)
    return buf.getvalue()


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    assert len(data) < 4096, f"{name} is {len(data)} bytes; fixtures must stay under 4 KiB"


def save(name, arr, version=None):
    write(name, npy_bytes(arr, version))


def npz_bytes(arrays, compress=False):
    """Like np.savez / np.savez_compressed (zip64 local headers forced, as numpy does), but with a
    fixed timestamp: numpy stamps the current time, which would change the bytes on every run."""
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=FIXED_TIME)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
    return buf.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240501)

    # The seed blog example: range [-4.75, 4.67] -> uint8 scale 9.42/255, zero point 129.
    save("seed_example.npy", np.array([-4.75, -3.57, 0.0, 1.2, 4.67], dtype=np.float32))

    # Random normal inputs in the common ranks.
    vec = rng.standard_normal(17).astype(np.float32)
    mat = rng.standard_normal((4, 6)).astype(np.float32)
    t4 = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    save("vec17_f32.npy", vec)
    save("mat4x6_f32.npy", mat)
    save("t2x3x4x5_f32.npy", t4)

    # Other input dtypes.
    save("mat3x4_f64.npy", rng.standard_normal((3, 4)))
    save("mat3x4_f16.npy", rng.standard_normal((3, 4)).astype(np.float16))
    save("vec9_i8.npy", np.array([-128, -100, -7, -1, 0, 1, 9, 100, 127], dtype=np.int8))

    # One fixture per supported dtype with known values (2x3: 0, 1, 2, 3, 4, 5 where they fit;
    # bool alternates). Used for byte-exact write_npy comparisons.
    base = np.arange(6).reshape(2, 3)
    for code in ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
        save(f"dtype_{code}.npy", (base - 2 if code[0] == "i" else base).astype("<" + code))
    save("dtype_b1.npy", (base % 2 == 0))

    # Byte order and memory order variants of known values.
    known = np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.5) - np.float32(2)
    save("big_endian_f4.npy", known.astype(">f4"))
    save("big_endian_i2.npy", np.array([-2, -1, 0, 1, 258, 32767], dtype=">i2"))
    save("big_endian_f8.npy", np.array([1.5, -2.25, 1e300], dtype=">f8"))
    save("fortran_f4.npy", np.asfortranarray(known))
    cube = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    save("fortran_3d_i2.npy", np.asfortranarray(cube))
    save("fortran_big_endian_f4.npy", np.asfortranarray(known.astype(">f4")))
    save("version2_f4.npy", known, version=(2, 0))
    save("version3_f4.npy", known, version=(3, 0))

    # Special values and degenerate tensors.
    save("nan_inf_f32.npy",
         np.array([0.5, np.nan, -1.0, np.inf, 2.0, -np.inf, -0.25, 1.0], dtype=np.float32))
    save("constant_f32.npy", np.full((3, 4), 2.5, dtype=np.float32))
    save("zeros_f32.npy", np.zeros(8, dtype=np.float32))
    save("scalar_0d_f32.npy", np.array(3.5, dtype=np.float32))
    save("empty_0x3_f32.npy", np.zeros((0, 3), dtype=np.float32))

    # Calibration pair for the 4x6 input.
    save("calib_a.npy", rng.standard_normal((4, 6)).astype(np.float32))
    save("calib_b.npy", (rng.standard_normal((4, 6)) * 1.5).astype(np.float32))

    # Given params for mat4x6_f32.npy: uint8 asymmetric, per channel along axis 0 (one per row).
    lo = np.minimum(mat.min(axis=1), 0).astype(np.float32)
    hi = np.maximum(mat.max(axis=1), 0).astype(np.float32)
    scale = ((hi - lo) / np.float32(255)).astype(np.float32)
    zero_point = np.clip(np.round(-lo / scale), 0, 255).astype(np.int32)
    write("params_4x6_axis0.npz", npz_bytes({"scale": scale, "zero_point": zero_point}))

    # Archives: stored with several members (and a non-array member), and deflated.
    write("multi.npz", npz_bytes({"weight": mat, "bias": vec[:6], "steps": np.array([1, 2, 3], np.int64)}))
    write("multi_deflated.npz", npz_bytes({"weight": mat, "bias": vec[:6]}, compress=True))

    # Malformed samples, each with one problem.
    good = npy_bytes(known)
    write("bad_magic.npy", b"\x93NUMPZ" + good[6:])
    write("bad_version.npy", good[:6] + b"\x07\x00" + good[8:])
    write("truncated_data.npy", good[:-5])
    write("truncated_header.npy", good[:40])
    write("bad_dtype.npy", npy_bytes(np.array([1 + 2j, 3 - 4j], dtype=np.complex64)))
    write("bad_shape.npy", good.replace(b"'shape': (3, 4)", b"'shape': (3,-4)"))
    write("bad_header.npy", good.replace(b"'fortran_order': False", b"'fortran_order': Nope!"))
    write("missing_key.npy", good.replace(b"'fortran_order': False, ", b" " * 24))
    write("not_a_tensor.txt", b"just some text, not a tensor file\n")
    stored = npz_bytes({"x": known})
    corrupt = bytearray(stored)
    corrupt[stored.index(b"\x93NUMPY") + 150] ^= 0xFF  # a data byte: the CRC no longer matches
    write("bad_crc.npz", bytes(corrupt))
    write("truncated.npz", stored[:-30])


if __name__ == "__main__":
    sys.exit(main())
