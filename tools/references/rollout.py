"""Attention rollout written from its definition (Abnar & Zuidema 2020), in NumPy float64, for the tests.

Independent of coursekit and of the notebook: one loop over layers, one over the rows
of each matrix. Per layer l, with the heads' attention A_l^(h) (rows summing to 1):

    F_l        = fusion over h of A_l^(h)            (mean: the paper; max, min: vit-explain)
    F_l        : the k = int(ratio * N * N) smallest entries set to 0, the [0, 0] entry kept
    A_hat_l[i] = (F_l + I)[i] / sum_j (F_l + I)[i, j]  (each ROW sums to 1)
    R_l        = A_hat_l @ R_(l-1),  R_0 = I            (the newest layer on the left)

The keyword switches turn one step into a plausible mistake, so the tests can build the
wrong answers the checks must reject: columns instead of rows, the reversed product,
no identity, the CLS entry zeroed or skipped over when discarding.
"""
import numpy as np

FUSIONS = {"mean": np.mean, "max": np.max, "min": np.min}


def as_numpy_heads(layer):
    """(1, H, N, N) torch tensor or array -> (H, N, N) float64 array."""
    array = layer.detach().cpu().numpy() if hasattr(layer, "detach") else np.asarray(layer)
    return np.asarray(array[0], dtype=np.float64)


def discard_lowest(fused, ratio, cls_entry="kept"):
    """Zero the k = int(ratio * N * N) smallest entries of a copy of `fused`.

    cls_entry: "kept" (the [0, 0] entry keeps its value even when it is among them),
    "zeroed" (mistake: it is zeroed like the others) or "skipped" (mistake: the k
    smallest of the other entries are zeroed).
    """
    flat = fused.flatten()
    count = int(flat.size * ratio)
    order = np.argsort(flat, kind="stable")
    if cls_entry == "skipped":
        order = order[order != 0]
    lowest = order[:count]
    if cls_entry == "kept":
        lowest = lowest[lowest != 0]
    flat[lowest] = 0.0
    return flat.reshape(fused.shape)


def residual_step(fused, normalise="rows", identity=True):
    """A_hat = (F + I) with each row divided by its own sum (or, as mistakes, columns / no identity)."""
    size = fused.shape[0]
    mixed = fused + np.eye(size) if identity else fused.copy()
    totals = mixed.sum(axis=1)
    normalised = np.empty_like(mixed)
    for i in range(size):
        # the widely copied mistake divides entry [i, j] by row j's total (a column scaling)
        normalised[i] = mixed[i] / totals[i] if normalise == "rows" else mixed[i] / totals
    return normalised


def rollout_matrix(attentions, fusion="mean", discard_ratio=0.0, order="newest_left",
                   normalise="rows", identity=True, cls_entry="kept"):
    """The full rollout R (N, N) of one image's attentions (a sequence of (1, H, N, N))."""
    size = as_numpy_heads(attentions[0]).shape[-1]
    rollout = np.eye(size)
    for layer in attentions:
        fused = FUSIONS[fusion](as_numpy_heads(layer), axis=0)
        if discard_ratio:
            fused = discard_lowest(fused, discard_ratio, cls_entry)
        a_hat = residual_step(fused, normalise, identity)
        rollout = a_hat @ rollout if order == "newest_left" else rollout @ a_hat
    return rollout


def cls_patch_map(rollout):
    """R[0, 1:] as a square map, row-major: (N - 1) patches -> (side, side)."""
    side = int(round(np.sqrt(rollout.shape[0] - 1)))
    return rollout[0, 1:].reshape(side, side)


def rollout_map(attentions, fusion="mean", discard_ratio=0.0, **mistakes):
    """The map the exercise returns: the CLS row of R over the patches, not rescaled."""
    return cls_patch_map(rollout_matrix(attentions, fusion, discard_ratio, **mistakes))
