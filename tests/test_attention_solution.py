"""Notebook 03's solution (and the shared explainer notebook 04 imports) agree with NumPy-loop references."""
import math

import numpy as np
import pytest
import torch
from transformers import ViTConfig, ViTForImageClassification

from tools.references.attention import cls_attention_maps, entropy
from coursekit import explainers
from coursekit.vit import vit_attentions
from notebook_cells import solution_namespace

IMAGES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "grace_hopper.jpg"]


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("03_vit_attention", "obtain_attention_maps", "attention_entropies")


@pytest.fixture(scope="module")
def image_attentions():
    """{image name: the stand-in ViT's attentions}, one forward pass per image."""
    return {name: vit_attentions(name) for name in IMAGES}


def random_attentions(layers, heads, grid, seed):
    """Peaked row-stochastic attentions (1, heads, 1 + grid^2, 1 + grid^2) for `layers` layers."""
    generator = torch.Generator().manual_seed(seed)
    tokens = 1 + grid * grid
    logits = 3 * torch.randn(layers, 1, heads, tokens, tokens, generator=generator)
    return tuple(layer.softmax(dim=-1) for layer in logits)


def assert_maps_match_reference(maps, attentions, grid):
    assert isinstance(maps, list) and len(maps) == len(attentions)
    for attention_map, expected in zip(maps, cls_attention_maps(attentions, grid)):
        assert isinstance(attention_map, torch.Tensor) and attention_map.shape == (grid, grid)
        np.testing.assert_allclose(attention_map.double().numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("image_name", IMAGES)
def test_obtain_attention_maps_matches_the_reference_on_every_layer(solution, image_attentions, image_name):
    attentions = image_attentions[image_name]
    before = [layer.clone() for layer in attentions]
    assert_maps_match_reference(solution["obtain_attention_maps"](attentions), attentions, 14)
    assert all(torch.equal(layer, copy) for layer, copy in zip(attentions, before))


@pytest.mark.parametrize("layers, heads, patch_size", [(1, 1, 112), (3, 5, 32), (12, 12, 16), (2, 4, 56)])
def test_obtain_attention_maps_follows_patch_size_and_head_count(solution, layers, heads, patch_size):
    grid = 224 // patch_size
    attentions = random_attentions(layers, heads, grid, seed=layers * 100 + heads)
    assert_maps_match_reference(solution["obtain_attention_maps"](attentions, patch_size=patch_size), attentions, grid)


@pytest.mark.parametrize("image_size, patch_size", [(64, 8), (32, 16), (96, 32), (224, 56)])
def test_obtain_attention_maps_follows_image_size(solution, image_size, patch_size):
    grid = image_size // patch_size
    attentions = random_attentions(2, 3, grid, seed=image_size + patch_size)
    maps = solution["obtain_attention_maps"](attentions, patch_size=patch_size, image_size=image_size)
    assert_maps_match_reference(maps, attentions, grid)


def small_vit_attentions():
    """The attentions of a randomly initialised 2-layer ViT on 64 x 64 images in 8 x 8 patches (notebook 05's size)."""
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                       image_size=64, patch_size=8, num_labels=3, attn_implementation="eager")
    torch.manual_seed(0)
    model = ViTForImageClassification(config).eval()
    with torch.no_grad():
        return model(torch.randn(1, 3, 64, 64), output_attentions=True).attentions


@pytest.mark.parametrize("source", ["solution", "shared"])
def test_obtain_attention_maps_of_a_small_vit(solution, source):
    obtain = solution["obtain_attention_maps"] if source == "solution" else explainers.obtain_attention_maps
    attentions = small_vit_attentions()
    assert attentions[0].shape == (1, 4, 65, 65)
    assert_maps_match_reference(obtain(attentions, patch_size=8, image_size=64), attentions, 8)


@pytest.mark.parametrize("source", ["solution", "shared"])
def test_obtain_attention_maps_says_when_the_tokens_do_not_fit_the_grid(solution, source):
    obtain = solution["obtain_attention_maps"] if source == "solution" else explainers.obtain_attention_maps
    attentions = small_vit_attentions()
    message = (r"(?s)토큰 수가 65개인데, image_size=224, patch_size=8이면 \[CLS\] 1개 \+ 28×28 패치 = 785개여야 합니다"
               r".*65 tokens, but image_size=224 and patch_size=8 give 1 CLS token \+ 28x28 patches = 785")
    with pytest.raises(ValueError, match=message):
        obtain(attentions, patch_size=8)


@pytest.mark.parametrize("image_name", IMAGES)
def test_shared_explainer_for_notebook_04_matches_the_reference(image_attentions, image_name):
    attentions = image_attentions[image_name]
    assert_maps_match_reference(explainers.obtain_attention_maps(attentions), attentions, 14)


def test_maps_sum_to_the_cls_rows_patch_share(solution, image_attentions):
    """The identity the visible check relies on: sum of a layer's map = 1 - heads' mean CLS-to-CLS attention."""
    attentions = image_attentions["coffee.png"]
    for layer, attention_map in zip(attentions, solution["obtain_attention_maps"](attentions)):
        assert float(attention_map.sum()) == pytest.approx(1 - float(layer[0, :, 0, 0].mean()), abs=1e-5)


@pytest.mark.parametrize("image_name", IMAGES)
def test_attention_entropies_match_the_reference(solution, image_attentions, image_name):
    maps = [torch.from_numpy(m) for m in cls_attention_maps(image_attentions[image_name], 14)]
    entropies, most_concentrated = solution["attention_entropies"](maps)
    expected = [entropy(m) for m in maps]
    np.testing.assert_allclose(entropies.double().numpy(), expected, atol=1e-6)
    assert type(most_concentrated) is int and most_concentrated == int(np.argmin(expected))
    assert all(0 <= value <= math.log(196) for value in expected)


def test_attention_entropies_handle_zeros_and_any_map_size(solution):
    generator = torch.Generator().manual_seed(7)
    maps = [torch.rand(5, 5, generator=generator) ** 2 * (torch.rand(5, 5, generator=generator) > 0.5)
            for _ in range(8)]
    one_patch = torch.zeros(5, 5)
    one_patch[2, 3] = 0.4
    maps.append(one_patch)
    before = [m.clone() for m in maps]
    entropies, most_concentrated = solution["attention_entropies"](maps)
    np.testing.assert_allclose(entropies.double().numpy(), [entropy(m) for m in maps], atol=1e-6)
    assert most_concentrated == len(maps) - 1 and float(entropies[-1]) == 0.0
    assert all(torch.equal(m, copy) for m, copy in zip(maps, before))
