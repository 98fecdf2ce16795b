"""Notebook 03's answer: the CLS attention map of each layer."""
__all__ = ["obtain_attention_maps"]


def cls_patch_map(row):
    """A CLS row over the patch tokens (N - 1,) as a square map, row-major."""
    side = int(round((row.numel()) ** 0.5))
    return row.reshape(side, side)


def obtain_attention_maps(attentions):
    """One (14, 14) map per layer: the heads' mean attention from the CLS query to each patch (notebook 03).

    `attentions` is the model's tuple of (1, heads, N, N) tensors, N = 1 + patches.
    """
    return [cls_patch_map(layer[0].mean(dim=0)[0, 1:]) for layer in attentions]
