"""Notebook 03_vit_attention's answers, as solutions/03_vit_attention/03_vit_attention.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
__all__ = ["obtain_attention_maps"]


def obtain_attention_maps(attentions, patch_size=16):
    """Return one CLS-to-patch attention map per layer, the heads averaged.

    Args:
        attentions: the model's `outputs.attentions`, one tensor per layer of shape
            (batch=1, heads, tokens, tokens) with tokens = 1 (CLS) + number of patches.
        patch_size: the side of a square patch in pixels; the model sees 224 x 224 images.

    Returns:
        list with one torch.Tensor (num_grid, num_grid) per layer, num_grid = 224 // patch_size:
        the heads' mean attention from the CLS query to each patch key, patches in row-major order.
    """
    num_grid = 224 // patch_size          # patches per side: 14 for ViT-B/16
    attention_maps = []
    for attention in attentions:          # (batch, heads, query, key)
        fused = attention[0].mean(dim=0)                 # (query, key)
        cls_to_patches = fused[0, 1:]                    # (patches,)
        attention_map = cls_to_patches.reshape(num_grid, num_grid)
        attention_maps.append(attention_map)
    return attention_maps
