#!/usr/bin/python3
# The whole-file memory measurement of docs/PERFORMANCE.md: writes a synthetic ~620 MB .safetensors
# (usage: make_big_safetensors.py OUT). Not a test fixture: generated on demand, never committed.
import json, struct, sys, numpy as np
rng = np.random.default_rng(1)
tensors = []
tensors.append(("model.embed_tokens.weight", "BF16", [8192, 2048], (rng.standard_normal((8192, 2048), dtype=np.float32).view(np.uint32) >> 16).astype("<u2")))
for i in range(20):
    tensors.append((f"model.layers.{i}.mlp.up_proj.weight", "F32", [4096, 1792], rng.standard_normal((4096, 1792), dtype=np.float32)))
    tensors.append((f"model.layers.{i}.input_layernorm.weight", "F32", [1792], np.ones(1792, np.float32)))
header, offset = {}, 0
for name, dt, shape, arr in tensors:
    n = arr.nbytes
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [offset, offset + n]}
    offset += n
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for _, _, _, arr in tensors:
        f.write(arr.tobytes())
