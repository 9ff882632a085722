#!/usr/bin/python3
"""Writes a large float32 .safetensors file for the whole-file measurement (bench/wholefile.mjs).

    /usr/bin/python3 bench/make_big_safetensors.py /tmp/qplay-big.safetensors [--gib 1.0] [--seed 1]

A transformer-like list of tensors: per layer four 2048 x 2048 projection matrices and a 2048 bias,
values normal with a per-row spread, seeded, so every run measures the same bytes. The file is at
least the requested size (default 1 GiB). It is written a tensor at a time (never all in memory)
in the safetensors layout: u64 little-endian header length, the JSON header padded with spaces to
a multiple of 8, then the data in header order. Never commit the output.
"""
import argparse
import json
import struct

import numpy as np

DIM = 2048


def tensors_for(target_bytes):
    names = []
    total = 0
    layer = 0
    while total < target_bytes:
        for part in ('q', 'k', 'v', 'o'):
            names.append((f'layers.{layer}.attn.{part}.weight', (DIM, DIM)))
            total += DIM * DIM * 4
        names.append((f'layers.{layer}.attn.o.bias', (DIM,)))
        total += DIM * 4
        layer += 1
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out')
    ap.add_argument('--gib', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    specs = tensors_for(int(a.gib * (1 << 30)))
    header = {}
    offset = 0
    for name, shape in specs:
        n = int(np.prod(shape)) * 4
        header[name] = {'dtype': 'F32', 'shape': list(shape), 'data_offsets': [offset, offset + n]}
        offset += n
    header['__metadata__'] = {'generator': 'bench/make_big_safetensors.py', 'seed': str(a.seed)}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    rng = np.random.default_rng(a.seed)
    with open(a.out, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for name, shape in specs:
            x = rng.standard_normal(shape, dtype=np.float32)
            if len(shape) == 2:
                x *= rng.uniform(0.01, 0.1, size=(shape[0], 1)).astype(np.float32)
            f.write(x.astype('<f4').tobytes())
    print(f'{a.out}: {len(specs)} tensors, {8 + len(text) + offset} bytes')


if __name__ == '__main__':
    main()
