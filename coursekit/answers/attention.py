"""Notebook 03_vit_attention's answers, as solutions/03_vit_attention/03_vit_attention.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
from coursekit.messages import bilingual

__all__ = ["obtain_attention_maps"]


def obtain_attention_maps(attentions, patch_size=16, image_size=224):
    """Return one CLS-to-patch attention map per layer, the heads averaged.

    Args:
        attentions: the model's `outputs.attentions`, one tensor per layer of shape
            (batch=1, heads, tokens, tokens) with tokens = 1 (CLS) + number of patches.
        patch_size: the side of a square patch in pixels.
        image_size: the side of the square input image in pixels (224 for ViT-B/16).

    Returns:
        list with one torch.Tensor (num_grid, num_grid) per layer, num_grid = image_size // patch_size:
        the heads' mean attention from the CLS query to each patch key, patches in row-major order.
    """
    num_grid = image_size // patch_size   # patches per side: 224 // 16 = 14 for ViT-B/16
    tokens = attentions[0].shape[-1]
    if tokens != 1 + num_grid * num_grid:
        raise ValueError(bilingual(
            f"토큰 수가 {tokens}개인데, image_size={image_size}, patch_size={patch_size}이면 "
            f"[CLS] 1개 + {num_grid}×{num_grid} 패치 = {1 + num_grid * num_grid}개여야 합니다",
            f"{tokens} tokens, but image_size={image_size} and patch_size={patch_size} give "
            f"1 CLS token + {num_grid}x{num_grid} patches = {1 + num_grid * num_grid}"))
    attention_maps = []
    for attention in attentions:          # (batch, heads, query, key)
        fused = attention[0].mean(dim=0)                 # (query, key)
        cls_to_patches = fused[0, 1:]                    # (patches,)
        attention_map = cls_to_patches.reshape(num_grid, num_grid)
        attention_maps.append(attention_map)
    return attention_maps
