"""Independent references for notebook 03, written as NumPy loops over heads, patches and values.

They share no code with the solution, the checks or coursekit.explainers: every map entry is
indexed by hand (token 1 + r * grid + c at row r, column c) and every entropy term is summed one by one.
"""
import math

import numpy as np


def cls_attention_maps(attentions, grid):
    """Per layer, M[r, c] = mean over heads h of attention[0, h, 0, 1 + r * grid + c], as float64 arrays."""
    maps = []
    for layer in attentions:
        weights = np.asarray(layer.detach().cpu(), dtype=np.float64)[0]   # (heads, tokens, tokens)
        heads = weights.shape[0]
        attention_map = np.zeros((grid, grid))
        for row in range(grid):
            for col in range(grid):
                attention_map[row, col] = sum(weights[h, 0, 1 + row * grid + col] for h in range(heads)) / heads
        maps.append(attention_map)
    return maps


def entropy(attention_map):
    """-sum p ln p of the map divided by its total, skipping zero entries (0 ln 0 = 0)."""
    values = np.asarray(attention_map.detach().cpu(), dtype=np.float64).ravel()
    total = float(values.sum())
    return -sum(v / total * math.log(v / total) for v in values if v > 0)
