"""Notebook 04's solution and the shared coursekit.explainers.compute_attention_rollout agree with the
paper's definition (tools/references/rollout.py) for mean, max and min fusion, on the stand-in ViT and on
random attentions of other sizes; the reference itself agrees with a sum over attention-graph paths."""
import itertools

import numpy as np
import pytest
import torch

from coursekit import checks_rollout, explainers
from coursekit.vit import vit_attentions
from notebook_cells import solution_namespace
from tools.references.rollout import FUSIONS, as_numpy_heads, residual_step, rollout_map, rollout_matrix

RATIOS = (0.0, 0.3, 0.9)


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("04_attention_rollout", "add_identity_and_normalise", "compute_attention_rollout")


@pytest.fixture(scope="module")
def image_attentions():
    """The stand-in ViT's attentions for an image that neither the visible nor the hidden checks use."""
    return vit_attentions("rocket.jpg")


def random_attentions(seed, layers, heads, tokens, sharpness=2.0):
    """Softmax attention of random logits: (1, heads, tokens, tokens) per layer, rows summing to 1."""
    logits = sharpness * torch.randn(layers, 1, heads, tokens, tokens, generator=torch.Generator().manual_seed(seed))
    return tuple(layer.softmax(dim=-1) for layer in logits)


RANDOM_CASES = {"1_layer_2_tokens": (0, 1, 4, 2), "2_layers_5_tokens": (1, 2, 3, 5),
                "6_layers_10_tokens_1_head": (2, 6, 1, 10), "4_layers_17_tokens": (3, 4, 12, 17)}


def implementations(solution):
    return {"solution": solution["compute_attention_rollout"], "shared": explainers.compute_attention_rollout}


def expect_matches_reference(rollout, attentions, fusion, ratio):
    reference = rollout_map(attentions, fusion, ratio)
    assert isinstance(rollout, torch.Tensor) and rollout.shape == reference.shape
    np.testing.assert_allclose(rollout.double().numpy(), reference, rtol=0, atol=1e-5 * reference.max())


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("fusion", FUSIONS)
def test_rollout_of_the_vit_matches_the_reference(solution, image_attentions, fusion, ratio):
    for function in implementations(solution).values():
        expect_matches_reference(function(image_attentions, ratio, fusion), image_attentions, fusion, ratio)


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("case", RANDOM_CASES)
def test_rollout_of_random_attentions_matches_the_reference(solution, case, fusion, ratio):
    attentions = random_attentions(*RANDOM_CASES[case])
    for function in implementations(solution).values():
        expect_matches_reference(function(attentions, discard_ratio=ratio, head_fusion=fusion), attentions, fusion, ratio)


@pytest.mark.parametrize("which", ["solution", "shared"])
def test_rollout_leaves_its_inputs_unchanged(solution, which):
    attentions = random_attentions(4, 3, 2, 10)
    copies = [layer.clone() for layer in attentions]
    for fusion, ratio in itertools.product(FUSIONS, RATIOS):
        implementations(solution)[which](attentions, ratio, fusion)
    assert all(torch.equal(layer, copy) for layer, copy in zip(attentions, copies))


@pytest.mark.parametrize("which", ["solution", "shared"])
@pytest.mark.parametrize("unknown", ["median", "Mean", ""])
def test_unknown_head_fusion_raises_value_error_naming_the_allowed_values(solution, which, unknown):
    with pytest.raises(ValueError) as failure:
        implementations(solution)[which](random_attentions(5, 1, 2, 5), head_fusion=unknown)
    assert all(name in str(failure.value) for name in FUSIONS) and repr(unknown) in str(failure.value)


def test_add_identity_and_normalise_matches_the_reference_step(solution):
    generator = torch.Generator().manual_seed(6)
    for size in (1, 3, 8, 197):
        fused = 5 * torch.rand(size, size, generator=generator) * (torch.rand(size, size, generator=generator) > 0.5)
        given = fused.clone()
        a_hat = solution["add_identity_and_normalise"](given)
        assert torch.equal(given, fused)
        np.testing.assert_allclose(a_hat.double().numpy(), residual_step(fused.double().numpy()), atol=1e-6)


def test_reference_rollout_is_the_sum_over_attention_graph_paths():
    """R_L[i, j] = sum over token paths j -> k_1 -> ... -> i of the product of the A_hat edge weights."""
    attentions = random_attentions(7, 3, 2, 4)
    a_hats = [residual_step(as_numpy_heads(layer).mean(axis=0)) for layer in attentions]
    tokens = len(a_hats[0])
    paths = np.zeros((tokens, tokens))
    for route in itertools.product(range(tokens), repeat=len(a_hats) + 1):  # token at layer 0, 1, ..., L
        weight = np.prod([a_hat[route[step + 1], route[step]] for step, a_hat in enumerate(a_hats)])
        paths[route[-1], route[0]] += weight
    np.testing.assert_allclose(rollout_matrix(attentions), paths, atol=1e-12)
    assert not np.allclose(rollout_matrix(attentions, order="newest_right"), paths, atol=1e-3)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_rollout_rows_sum_to_one_and_the_map_to_one_minus_the_cls_share(solution, fusion):
    attentions = random_attentions(8, 5, 3, 17)
    rollout = rollout_matrix(attentions, fusion, 0.3)
    np.testing.assert_allclose(rollout.sum(axis=1), 1, atol=1e-12)
    patch_share = float(solution["compute_attention_rollout"](attentions, 0.3, fusion).double().sum())
    assert patch_share == pytest.approx(1 - rollout[0, 0], abs=1e-6)


def test_mean_fusion_is_half_attention_half_identity_as_in_the_paper():
    fused = as_numpy_heads(random_attentions(9, 1, 4, 6)[0]).mean(axis=0)
    np.testing.assert_allclose(residual_step(fused), 0.5 * fused + 0.5 * np.eye(6), atol=1e-12)


def test_the_cls_share_of_a_mean_fusion_rollout_is_at_least_two_to_the_minus_layers():
    """The bound the visible check uses on the ViT: the path that stays on CLS has weight >= 2^-L."""
    for seed, sharpness in itertools.product(range(5), (0.5, 4.0, 20.0)):
        attentions = random_attentions(seed, 12, 3, 10, sharpness)
        assert rollout_matrix(attentions)[0, 0] >= 2.0 ** -12


@pytest.mark.parametrize("fusion", FUSIONS)
def test_the_visible_checks_single_layer_map_is_the_rollout_of_that_layer(fusion):
    layer = random_attentions(10, 1, 12, 17)[0]
    np.testing.assert_allclose(checks_rollout._single_layer_map(layer, fusion).numpy(),
                               rollout_map([layer], fusion), atol=1e-7)
