"""The ViT's attention tensors, checked to be there: transformers 5 can silently return none.

Shared by notebooks 03 and 04 and their checks.
"""
from functools import lru_cache

import torch

from coursekit import checks
from coursekit.images import preprocess_image_vit
from coursekit.models import load_vit
from coursekit.paths import resource_path


def expect_layer_attentions(attentions, config):
    """The forward pass must give one (batch, heads, N, N) attention tensor per layer, rows summing to 1.

    transformers 5 returns an empty tuple for output_attentions=True unless the model runs eager
    attention, and says so only in a log message; without this check the maps would silently be missing.
    """
    layers, got = config.num_hidden_layers, len(attentions or ())
    if got < layers:
        checks.fail(f"attention 텐서가 층마다 하나씩 {layers}개 있어야 하는데 {got}개입니다. 모델을 "
                    "attn_implementation=\"eager\"로 불러오고(load_vit가 그렇게 합니다) output_attentions=True로 실행하세요.",
                    f"expected {layers} attention tensors (one per layer), got {got}: load the model with "
                    "attn_implementation=\"eager\" (load_vit does) and call it with output_attentions=True")
    tokens = (config.image_size // config.patch_size) ** 2 + 1
    for index, layer in enumerate(attentions):
        checks.expect_shape(layer, (len(layer), config.num_attention_heads, tokens, tokens), f"attentions[{index}]")
        row_error = float((layer.detach().double().sum(dim=-1) - 1).abs().max())
        if row_error > 1e-4:
            checks.fail(f"attentions[{index}]의 행 합이 1이 아닙니다 (최대 오차 {row_error:.3g}). softmax를 거친 attention 가중치가 아닙니다.",
                        f"the rows of attentions[{index}] do not sum to 1 (max error {row_error:.3g}): "
                        "these are not post-softmax attention weights")


def vit_attentions(image_name):
    """The loaded ViT's attentions for an image in resources/: a fresh copy at every call.

    The forward runs once per process; each caller gets its own tensors, so student code that edits
    what it is given in place cannot change what a later check in the same kernel sees.
    """
    return tuple(layer.clone() for layer in _computed_attentions(image_name))


@lru_cache(maxsize=4)
def _computed_attentions(image_name):
    """The loaded ViT's attentions for an image in resources/, computed once per process; never handed out."""
    model, processor = load_vit()
    with torch.no_grad():
        attentions = model(**preprocess_image_vit(resource_path(image_name), processor),
                           output_attentions=True).attentions
    expect_layer_attentions(attentions, model.config)
    return attentions
