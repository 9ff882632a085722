#!/usr/bin/env python3
"""Reference values for tests/lut_test.cpp, computed the way bitsandbytes' default (torch) backend
computes them (bitsandbytes@95f9af30 backends/default/ops.py quantize_4bit / quantize_blockwise,
functional.py create_dynamic_map / quantize_4bit(compress_statistics=True)), restated here with
plain torch ops so that bitsandbytes itself need not be installed. Needs torch (Debian
python3-torch); not part of the test run. Prints FNV-1a digests that the C++ test pins.

Usage: /usr/bin/python3 scripts/reference/bnb_vectors.py
"""
import struct

import torch


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    data = []
    non_sign_bits = total_bits - 1
    for i in range(max_exponent_bits):
        items = 2 ** (i + non_sign_bits - max_exponent_bits) + 1
        b = torch.linspace(0.1, 1, items, dtype=torch.float32)
        means = (b[:-1] + b[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                    0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                    0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])
FP4 = torch.tensor([0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0,
                    -0.0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0])
FP4 = FP4 / FP4.abs().max()


def blocks(A_flat, blocksize):
    n = A_flat.numel()
    rem = n % blocksize
    full = n - rem
    A_com = A_flat[:full].reshape(full // blocksize, blocksize)
    absmax = A_com.abs().max(dim=-1)[0]
    scaled = torch.clamp(A_com * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        am = A_flat[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, am.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(A_flat[full:] / am, -1, 1)])
    return scaled, absmax


def quantize_4bit(A, blocksize, code):
    order = torch.argsort(code)
    bounds = (code[order[:-1]] + code[order[1:]]) / 2
    scaled, absmax = blocks(A.reshape(-1).float(), blocksize)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1))
    q = order[torch.bucketize(scaled, bounds, out_int32=True).long()]  # torch 1.13 indexes with int64 only
    q8 = q.to(torch.uint8)
    return q8, ((q8[::2] << 4) | q8[1::2]), absmax


def quantize_blockwise(A, code, blocksize):
    scaled, absmax = blocks(A.reshape(-1).float(), blocksize)
    bounds = (code[:-1] + code[1:]) / 2
    return torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8), absmax


def fnv(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "0x%016xull" % h


def f32bytes(t):
    return b"".join(struct.pack("<f", v) for v in t.tolist())


def test_input():
    # Mirrors make_input() in tests/lut_test.cpp.
    n = 64 * 300 + 37
    i = torch.arange(n, dtype=torch.int64)
    x = (((i * 7919) % 2001) - 1000).to(torch.float32) / torch.tensor(997.0, dtype=torch.float32)
    x[320:384] = 0.0  # an all-zero block
    mids = (NF4[:-1] + NF4[1:]) / 2
    x[448] = 1.0  # block 7: absmax 1, then every NF4 midpoint exactly (ties) and its negation
    x[449:464] = mids
    x[464:479] = -mids
    return x


dyn = create_dynamic_map()
print("dynamic map digest", fnv(f32bytes(dyn)))
x = test_input()
for name, code in (("nf4", NF4), ("fp4", FP4)):
    q, packed, absmax = quantize_4bit(x, 64, code)
    print(name, "codes", fnv(bytes(q[: x.numel()].tolist())), "packed", fnv(bytes(packed.tolist())),
          "absmax", fnv(f32bytes(absmax)))
    offset = absmax.mean()
    q2, absmax2 = quantize_blockwise(absmax - offset, dyn, 256)
    used = dyn[q2.long()] * absmax2.repeat_interleave(256)[: absmax.numel()] + offset
    print(name, "offset", float(offset).hex(), "codes2", fnv(bytes(q2.tolist())),
          "absmax2", fnv(f32bytes(absmax2)), "used", fnv(f32bytes(used)))
print("nf4 ties block 7", quantize_4bit(x, 64, NF4)[0][448:479].tolist())
