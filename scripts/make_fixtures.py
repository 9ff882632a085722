#!/usr/bin/python3
"""Writes the tiny test fixtures into tests/data/ (run with /usr/bin/python3, which has numpy).

Everything is deterministic (fixed seeds, fixed zip timestamps), so rerunning the script gives the
same bytes and the files can be committed. Each file stays under 4 KiB.
"""
import io
import json
import os
import struct
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


# ---- safetensors, written the way the reference library serializes (huggingface/safetensors
# tensor.rs): tensors sorted by descending dtype alignment then name, compact JSON with
# "__metadata__" first, header padded with spaces to a multiple of 8.
ST_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
            "F64", "I64", "U64"]


def st_bytes(tensors, metadata=None, header=None, pad=True):
    """tensors: {name: (dtype, shape, raw bytes)}. `header` replaces the JSON (for malformed files)."""
    items = sorted(tensors.items(), key=lambda kv: (-(ST_ORDER + [kv[1][0]]).index(kv[1][0]), kv[0]))
    h = {}
    if metadata is not None:
        h["__metadata__"] = metadata
    offset, data = 0, b""
    for name, (dtype, shape, raw) in items:
        h[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = (json.dumps(h, separators=(",", ":"), ensure_ascii=False) if header is None else header).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


# ---- gguf (ggml docs/gguf.md): typed values, tensor infos with ne[0] innermost, aligned data.
GGUF_TYPES = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
              "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?"), "str": (8, None), "arr": (9, None),
              "u64": (10, "<Q"), "i64": (11, "<q"), "f64": (12, "<d")}
GGML = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_K": 12, "I8": 24, "I16": 25, "I32": 26, "I64": 27, "F64": 28,
        "BF16": 30}


def gguf_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, value):
    """kind: a GGUF_TYPES name, or ("arr", inner kind) with a list value."""
    if isinstance(kind, tuple):
        inner = kind[1]
        inner_id = GGUF_TYPES["arr"][0] if isinstance(inner, tuple) else GGUF_TYPES[inner][0]
        return struct.pack("<IQ", inner_id, len(value)) + b"".join(gguf_value(inner, v) for v in value)
    if kind == "str":
        return gguf_str(value)
    return struct.pack(GGUF_TYPES[kind][1], value)


def gguf_bytes(kvs, tensors, version=3, alignment=32, count_override=None):
    """kvs: [(key, kind, value)]; tensors: [(name, numpy-order shape, ggml type name, raw bytes)]."""
    n_tensors = len(tensors) if count_override is None else count_override
    out = b"GGUF" + struct.pack("<IQQ", version, n_tensors, len(kvs))
    for key, kind, value in kvs:
        type_id = GGUF_TYPES["arr"][0] if isinstance(kind, tuple) else GGUF_TYPES[kind][0]
        out += gguf_str(key) + struct.pack("<I", type_id) + gguf_value(kind, value)
    offset, data = 0, b""
    for name, shape, ggml_type, raw in tensors:
        ne = list(reversed(shape))
        out += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", GGML.get(ggml_type, ggml_type), offset)  # an int: a raw type id
        data += raw + b"\0" * ((alignment - len(raw) % alignment) % alignment)
        offset = len(data)
    out += b"\0" * ((alignment - len(out) % alignment) % alignment)
    return out + data


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

    write_safetensors_fixtures(mat)
    write_gguf_fixtures(mat)
    write_text_and_raw_fixtures(mat)
    write_zip_and_npy_limit_fixtures(known)
    write_model_fixtures()


def write_model_fixtures():
    # A tiny model for whole-file mode: weight matrices in F32/F16/BF16 (quantized by default), a
    # norm vector (kept: 1-D) and integer position ids (kept), in .safetensors, .gguf and .npz.
    rng = np.random.default_rng(6)
    embed = rng.standard_normal((16, 8)).astype("<f2")
    q_proj = (rng.standard_normal((8, 8)).astype(np.float32).view(np.uint32) >> 16).astype("<u2")
    up = rng.standard_normal((12, 8)).astype("<f4")
    norm = (1 + 0.1 * rng.standard_normal(8)).astype("<f4")
    head = rng.standard_normal((16, 8)).astype("<f4")
    ids = np.arange(4, dtype="<i8")
    write("model_tiny.safetensors", st_bytes({
        "model.embed_tokens.weight": ("F16", [16, 8], embed.tobytes()),
        "model.layers.0.self_attn.q_proj.weight": ("BF16", [8, 8], q_proj.tobytes()),
        "model.layers.0.mlp.up_proj.weight": ("F32", [12, 8], up.tobytes()),
        "model.layers.0.input_layernorm.weight": ("F32", [8], norm.tobytes()),
        "lm_head.weight": ("F32", [16, 8], head.tobytes()),
        "position_ids": ("I64", [4], ids.tobytes()),
    }, {"format": "pt"}))
    write("model_tiny.gguf", gguf_bytes([("general.architecture", "str", "llama")], [
        ("token_embd.weight", [16, 8], "F16", embed.tobytes()),
        ("blk.0.ffn_up.weight", [12, 8], "F32", up.tobytes()),
        ("blk.0.attn_norm.weight", [8], "F32", norm.tobytes()),
        ("output.weight", [16, 8], "F32", head.tobytes()),
    ]))
    write("model_tiny.npz", npz_bytes({"embed": embed, "up": up, "norm": norm, "head": head, "ids": ids}))
    # Rows of whole ggml blocks (32 and 256), for --all --format ... -o X.gguf.
    write("model_ggml.safetensors", st_bytes({
        "blk.0.ffn_up.weight": ("F16", [2, 256], rng.standard_normal((2, 256)).astype("<f2").tobytes()),
        "blk.1.attn_q.weight": ("F16", [2, 64], rng.standard_normal((2, 64)).astype("<f2").tobytes()),
        "output_norm.weight": ("F32", [64], (1 + 0.1 * rng.standard_normal(64)).astype("<f4").tobytes()),
    }))


def write_safetensors_fixtures(mat):
    # One tensor per dtype with known values, and __metadata__.
    f8_e4m3 = bytes([0x38, 0x7E, 0x01, 0xC0, 0x7F])        # 1, 448, 2^-9, -2, NaN
    f8_e5m2 = bytes([0x3C, 0x7B, 0x01, 0x7C, 0x7D, 0xC0])  # 1, 57344, 2^-16, inf, NaN, -2
    bf16 = np.array([1.0, -2.5, 3.140625], np.float32).view(np.uint32) >> 16
    tensors = {
        "t_bool": ("BOOL", [3], np.array([True, False, True]).tobytes()),
        "t_u8": ("U8", [3], np.array([0, 1, 255], np.uint8).tobytes()),
        "t_i8": ("I8", [3], np.array([-128, -1, 127], np.int8).tobytes()),
        "t_f8_e5m2": ("F8_E5M2", [6], f8_e5m2),
        "t_f8_e4m3": ("F8_E4M3", [5], f8_e4m3),
        "t_i16": ("I16", [2], np.array([-32768, 32767], "<i2").tobytes()),
        "t_u16": ("U16", [2], np.array([0, 65535], "<u2").tobytes()),
        "t_f16": ("F16", [3], np.array([1.0, -2.5, 65504], "<f2").tobytes()),
        "t_bf16": ("BF16", [3], bf16.astype("<u2").tobytes()),
        "t_i32": ("I32", [2], np.array([-2**31, 2**31 - 1], "<i4").tobytes()),
        "t_u32": ("U32", [2], np.array([0, 2**32 - 1], "<u4").tobytes()),
        "t_f32": ("F32", [4, 6], mat.astype("<f4").tobytes()),
        "t_f64": ("F64", [2], np.array([1.5, -1e300], "<f8").tobytes()),
        "t_i64": ("I64", [2], np.array([-2**63, 2**63 - 1], "<i8").tobytes()),
        "t_u64": ("U64", [2], np.array([0, 2**64 - 1], "<u8").tobytes()),
        "t_scalar": ("F32", [], np.array(2.5, "<f4").tobytes()),
        "t_empty": ("F32", [0, 3], b""),
    }
    write("all_dtypes.safetensors", st_bytes(tensors, {"format": "pt", "note": "caf\u00e9 \"quoted\""}))
    write("mat4x6.safetensors", st_bytes({"weight": ("F32", [4, 6], mat.astype("<f4").tobytes())}))

    # Malformed, one problem each.
    w = ("F32", [2], np.array([1, 2], "<f4").tobytes())
    write("st_header_too_large.safetensors", struct.pack("<Q", 100_000_001) + b"{}")
    write("st_truncated_header.safetensors", st_bytes({"w": w})[:20])
    write("st_bad_json.safetensors", st_bytes({}, header='{"w":{"dtype":"F32",}}') + b"\0" * 8)
    write("st_deep_json.safetensors", st_bytes({}, header='{"__metadata__":' + "[" * 70 + "]" * 70 + "}"))
    write("st_duplicate_key.safetensors", st_bytes({}, header='{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},'
                                                              '"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'))
    write("st_bad_dtype.safetensors", st_bytes({"w": ("C64", [1], b"\0" * 8)}))
    write("st_size_mismatch.safetensors",
          st_bytes({}, header='{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}') + w[2])
    write("st_outside.safetensors",
          st_bytes({}, header='{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}') + w[2])
    write("st_overlap.safetensors",
          st_bytes({}, header='{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                              '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}') + w[2])
    write("st_hole.safetensors",
          st_bytes({}, header='{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}') + w[2])
    write("st_trailing.safetensors", st_bytes({"w": w}) + b"\0" * 4)
    write("st_dims_overflow.safetensors",
          st_bytes({}, header='{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}') + w[2])
    # 2^31 float32 = 8 GiB declared: WebAssembly refuses it by size, native builds as outside the file.
    write("st_huge.safetensors",
          st_bytes({}, header='{"w":{"dtype":"F32","shape":[2147483648],"data_offsets":[0,8589934592]}}') + w[2])


def write_gguf_fixtures(mat):
    kvs = [
        ("general.architecture", "str", "llama"),
        ("general.name", "str", "tiny \"test\"\nmodel"),
        ("test.u8", "u8", 200), ("test.i8", "i8", -100), ("test.u16", "u16", 60000),
        ("test.i16", "i16", -30000), ("test.u32", "u32", 4000000000), ("test.i32", "i32", -2000000000),
        ("test.f32", "f32", 0.1), ("test.bool", "bool", True), ("test.u64", "u64", 2**64 - 1),
        ("test.i64", "i64", -2**63), ("test.f64", "f64", 0.1),
        ("test.arr_i32", ("arr", "i32"), [1, -2, 3]),
        ("test.arr_str", ("arr", "str"), ["<unk>", "<s>", "</s>", "a", "b", "c", "d", "e", "f", "g"]),
        ("test.nested", ("arr", ("arr", "u8")), [[1, 2], [3]]),
    ]
    f16 = np.array([1.0, -2.0, 0.5, 65504], "<f2")
    bf16 = (np.array([1.0, -2.5, 3.140625], np.float32).view(np.uint32) >> 16).astype("<u2")
    q4_0 = bytes(range(18))             # one block of 32: fp16 d + 16 nibble bytes
    q4_k = bytes(i * 7 % 256 for i in range(144))  # one super-block of 256
    tensors = [
        ("weight", [4, 6], "F32", mat.astype("<f4").tobytes()),
        ("half", [4], "F16", f16.tobytes()),
        ("brain", [3], "BF16", bf16.tobytes()),
        ("ints", [2, 2], "I32", np.array([[1, -2], [3, -4]], "<i4").tobytes()),
        ("blk.0.q4_0", [1, 32], "Q4_0", q4_0),
        ("blk.0.q4_k", [256], "Q4_K", q4_k),
    ]
    write("tiny.gguf", gguf_bytes(kvs, tensors))
    write("tiny_v2_align64.gguf", gguf_bytes([("general.alignment", "u32", 64)], tensors[:2], version=2, alignment=64))

    one = [("w", [2], "F32", np.array([1, 2], "<f4").tobytes())]
    good = gguf_bytes([], one)
    write("gguf_v1.gguf", gguf_bytes([], one, version=1))
    write("gguf_truncated.gguf", gguf_bytes([("general.name", "str", "cut off in the middle")], [])[:50])
    write("gguf_count_lie.gguf", gguf_bytes([], one, count_override=2**40))
    write("gguf_bad_type.gguf", gguf_bytes([], [("w", [2], 77, b"\0" * 8)]))
    deep = ("arr", "u8")
    value = [1]
    for _ in range(9):
        deep, value = ("arr", deep), [value]
    write("gguf_deep_array.gguf", gguf_bytes([("test.deep", deep, value)], one))
    write("gguf_bad_alignment.gguf", gguf_bytes([("general.alignment", "u32", 24)], one))
    write("gguf_outside.gguf", good[:-28])  # the data section ends 4 bytes into w's 8
    two = one + [("v", [2], "F32", np.array([3, 4], "<f4").tobytes())]
    overlap = gguf_bytes([], two)
    write("gguf_overlap.gguf", overlap.replace(struct.pack("<IQ", 0, 32), struct.pack("<IQ", 0, 0), 1))
    write("gguf_misaligned.gguf", overlap.replace(struct.pack("<IQ", 0, 32), struct.pack("<IQ", 0, 4), 1))
    write("gguf_dims_overflow.gguf", gguf_bytes([], [("w", [2**32, 2**32], "F32", b"")]))
    write("gguf_bad_bool.gguf", gguf_bytes([("test.bool", "u8", 2)], one).replace(
        struct.pack("<I", 0) + b"\x02", struct.pack("<I", 7) + b"\x02", 1))
    write("gguf_duplicate_key.gguf", gguf_bytes([("a.b", "u8", 1), ("a.b", "u8", 2)], one))


def write_text_and_raw_fixtures(mat):
    buf = io.StringIO()
    np.savetxt(buf, mat[:3, :4], delimiter=",", header="three rows, four columns")
    write("mat3x4.csv", buf.getvalue().encode())
    write("row4.tsv", b"1.5\t-2\t3e2\tinf\n")
    write("col5.txt", b"# one value per line\n1\n2.5\n\n-3\n4\n5e-1\n")
    write("ws2x3.txt", b"  1  2\t3  # trailing comment\r\n\r\n4 5 6\r\n")
    write("scalar.txt", b"3.25\n")
    write("ragged.csv", b"1,2,3\n4,5,6\n7,8\n")
    write("bad_number.csv", b"1,2\n3,x4\n")
    write("mat4x6_f32.bin", mat.astype("<f4").tobytes())
    write("mat4x6_f32_be_offset16.bin", b"HEADER-16-BYTES!" + mat.astype(">f4").tobytes())


def write_zip_and_npy_limit_fixtures(known):
    # A member declaring 3 GiB from 64 deflated bytes: more than deflate can produce (a bomb's lie).
    zip_bytes = bytearray(npz_bytes({"x": np.zeros(4, np.float32)}))
    central = zip_bytes.index(b"PK\x01\x02")
    local = zip_bytes.index(b"PK\x03\x04")
    for at in (local, central):
        off = 8 if at == local else 10
        zip_bytes[at + off:at + off + 2] = struct.pack("<H", 8)
    # numpy forces zip64 in local headers; the central record holds the plain 32-bit sizes.
    zip_bytes[central + 24:central + 28] = struct.pack("<I", 3 << 30)
    write("bomb_ratio.npz", bytes(zip_bytes))
    # A v2 header declaring 20000 bytes, over numpy's 10000-byte limit (refused before it is read).
    body = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
    write("npy_header_too_long.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 20000) + body)


if __name__ == "__main__":
    sys.exit(main())
