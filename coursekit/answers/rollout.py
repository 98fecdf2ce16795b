"""Notebook 04's answer: attention rollout."""
import torch

from coursekit.answers.attention import cls_patch_map

__all__ = ["compute_attention_rollout"]

_HEAD_FUSIONS = {"mean": lambda a: a.mean(dim=0), "max": lambda a: a.amax(dim=0), "min": lambda a: a.amin(dim=0)}


def compute_attention_rollout(attentions, discard_ratio=0.0, head_fusion="mean"):
    """Attention rollout (Abnar & Zuidema 2020) of one image as a (14, 14) map (notebook 04).

    Per layer: fuse the heads, zero the lowest `discard_ratio` of the fused entries
    (never the CLS-to-CLS entry), add the identity for the residual, normalise each
    ROW to sum 1, and accumulate R_l = A_hat_l @ R_(l-1). The map is R's CLS row over
    the patches, not rescaled. The inputs are not modified.
    """
    if head_fusion not in _HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {sorted(_HEAD_FUSIONS)}, got {head_fusion!r}")
    tokens = attentions[0].shape[-1]
    identity = torch.eye(tokens, dtype=attentions[0].dtype, device=attentions[0].device)
    rollout = identity
    for layer in attentions:
        fused = _HEAD_FUSIONS[head_fusion](layer[0].detach())  # a new tensor: the input stays intact
        n_discard = int(fused.numel() * discard_ratio)
        if n_discard:
            flat = fused.view(-1)
            lowest = flat.topk(n_discard, largest=False).indices
            flat[lowest[lowest != 0]] = 0
        a_hat = fused + identity
        a_hat = a_hat / a_hat.sum(dim=-1, keepdim=True)
        rollout = a_hat @ rollout
    return cls_patch_map(rollout[0, 1:])
