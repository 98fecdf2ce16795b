"""Notebook 04_attention_rollout's answers, as solutions/04_attention_rollout/04_attention_rollout.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
import math

import torch

__all__ = ["add_identity_and_normalise", "compute_attention_rollout"]


def add_identity_and_normalise(fused):
    """Return A_hat: fused + I with every ROW divided by its own sum.

    Args:
        fused: (N, N) fused attention of one layer (rows need not sum to 1); not modified.

    Returns:
        torch.Tensor (N, N) whose rows each sum to 1.
    """
    with_residual = fused + torch.eye(fused.shape[-1], dtype=fused.dtype, device=fused.device)
    a_hat = with_residual / with_residual.sum(dim=-1, keepdim=True)
    return a_hat


def compute_attention_rollout(attentions, discard_ratio=0.0, head_fusion="mean"):
    """Attention rollout (Abnar & Zuidema 2020) of one image.

    Args:
        attentions: sequence of (1, H, N, N) attention tensors, one per layer; not modified.
        discard_ratio: fraction of each fused matrix's N * N entries to zero (the smallest),
            always sparing the CLS-to-CLS entry [0, 0].
        head_fusion: "mean", "max" or "min" over the heads.

    Returns:
        torch.Tensor (side, side), side = sqrt(N - 1): the CLS row of R = A_hat_(L-1) ... A_hat_1 A_hat_0
        over the patch tokens, row-major, not rescaled.
    """
    fusions = {"mean": lambda heads: heads.mean(dim=0),
               "max": lambda heads: heads.amax(dim=0),
               "min": lambda heads: heads.amin(dim=0)}
    if head_fusion not in fusions:
        raise ValueError(f"head_fusion must be 'mean', 'max' or 'min', got {head_fusion!r}")
    tokens = attentions[0].shape[-1]
    rollout = torch.eye(tokens, dtype=attentions[0].dtype, device=attentions[0].device)
    for layer in attentions:
        fused = fusions[head_fusion](layer[0].detach())
        count = int(discard_ratio * tokens * tokens)
        if count:
            cls_to_cls = fused[0, 0].clone()
            lowest = fused.flatten().topk(count, largest=False).indices
            fused = fused.flatten().index_fill(0, lowest, 0.0).reshape(tokens, tokens)
            fused[0, 0] = cls_to_cls
        rollout = add_identity_and_normalise(fused) @ rollout
    side = math.isqrt(tokens - 1)
    rollout_map = rollout[0, 1:].reshape(side, side)
    return rollout_map
