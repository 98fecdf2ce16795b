"""Every check of notebook 03 accepts correct answers and rejects the plausible wrong ones.

Each answer is fed to the visible check cell and to the hidden test cell exactly as they stand
in the solution notebook; the toy inputs' written-out answers are checked against the reference.
"""
import math
import re

import numpy as np
import pytest
import torch
from transformers import ViTConfig, ViTForImageClassification

from tools.references.attention import cls_attention_maps, entropy
from coursekit import checks_attention, explainers
from coursekit.vit import expect_layer_attentions, vit_attentions
from notebook_cells import SHIPPED_ANSWER_ROWS, assert_stub_fails, run_cell, solution_namespace

ASSIGNMENT = "03_vit_attention"


@pytest.fixture()
def namespace():
    return solution_namespace(ASSIGNMENT, "obtain_attention_maps", "attention_entropies")


# ---- the toy inputs' written-out answers ------------------------------------------------------------

def test_toy_attentions_are_row_stochastic_and_their_maps_are_the_written_out_ones():
    for layer in checks_attention.TOY_ATTENTIONS:
        assert layer.shape == (1, 2, 5, 5) and torch.allclose(layer.sum(dim=-1), torch.ones(1, 2, 5))
    grid = 224 // checks_attention.TOY_PATCH_SIZE
    for written, expected in zip(checks_attention.TOY_ATTENTION_MAPS,
                                 cls_attention_maps(checks_attention.TOY_ATTENTIONS, grid)):
        np.testing.assert_allclose(written.double().numpy(), expected, atol=1e-7)


def test_toy_entropies_are_the_written_out_ones():
    expected = [entropy(m) for m in checks_attention.TOY_ENTROPY_MAPS]
    np.testing.assert_allclose(checks_attention.TOY_ENTROPIES.numpy(), expected, atol=1e-7)
    assert checks_attention.TOY_MOST_CONCENTRATED == int(np.argmin(expected))


# ---- obtain_attention_maps: correct and plausible wrong answers -----------------------------------

def grid_of(patch_size):
    return 224 // patch_size


def maps_vectorised(attentions, patch_size=16):
    grid = grid_of(patch_size)
    return list(torch.stack(tuple(attentions))[:, 0].mean(dim=1)[:, 0, 1:].reshape(-1, grid, grid))


def maps_by_einsum_float64(attentions, patch_size=16):
    grid = grid_of(patch_size)
    return [torch.einsum("hk->k", layer[0, :, 0, 1:].double()).div(layer.shape[1]).view(grid, grid)
            for layer in attentions]


def maps_with_grid_from_token_count(attentions, patch_size=16):
    maps = []
    for layer in attentions:
        side = math.isqrt(layer.shape[-1] - 1)
        maps.append(layer.mean(dim=1)[0, 0, 1:].reshape(side, side))
    return maps


CORRECT_MAPS = {
    "vectorised": maps_vectorised,
    "einsum_float64": maps_by_einsum_float64,
    "grid_from_token_count": maps_with_grid_from_token_count,
    "tuple_of_maps": lambda attentions, patch_size=16: tuple(maps_vectorised(attentions, patch_size)),
}


def per_layer(row_of):
    """An answer that takes row_of(attention) -> patch values per layer and reshapes it row-major."""
    def answer(attentions, patch_size=16):
        grid = grid_of(patch_size)
        return [row_of(layer).reshape(grid, grid) for layer in attentions]
    return answer


def each_map(change):
    """An answer that applies change(map) to every correct map."""
    return lambda attentions, patch_size=16: [change(m) for m in maps_vectorised(attentions, patch_size)]


def mean_over_layers(attentions, patch_size=16):
    mean = torch.stack(maps_vectorised(attentions, patch_size)).mean(dim=0)
    return [mean.clone() for _ in attentions]


def zeroes_cls_in_place(attentions, patch_size=16):
    for layer in attentions:
        layer[0, :, 0, 0] = 0
    return maps_vectorised(attentions, patch_size)


def calls_the_shipped_reference(attentions, patch_size=16):
    from coursekit import explainers
    return explainers.obtain_attention_maps(attentions)


WRONG_MAPS = {  # name: (answer, what the visible check raises, what its message must say)
    "mean_over_queries": (per_layer(lambda a: a[0].mean(dim=1)[0, 1:]), AssertionError, "query axis"),
    "mean_over_layers": (mean_over_layers, AssertionError, r"wrong values.*\(batch, heads, query, key\)"),
    "key_column_transpose": (per_layer(lambda a: a[0].mean(dim=0)[1:, 0]), AssertionError, "key column"),
    "cls_key_kept_off_by_one": (per_layer(lambda a: a[0].mean(dim=0)[0, :-1]), AssertionError, "key 0 is the CLS"),
    "whole_row_with_cls": (per_layer(lambda a: a[0].mean(dim=0)[0]), RuntimeError, r"CLS \+ 2 x 2 patches"),
    "column_major": (each_map(lambda m: m.T), AssertionError, "row-major"),
    "constant_map": (each_map(lambda m: torch.full_like(m, float(m.mean()))), AssertionError, "wrong values"),
    "single_head": (per_layer(lambda a: a[0, 0, 0, 1:]), AssertionError, "one head only"),
    "sum_over_heads": (per_layer(lambda a: a[0].sum(dim=0)[0, 1:]), AssertionError, "summed"),
    "max_over_heads": (per_layer(lambda a: a[0].amax(dim=0)[0, 1:]), AssertionError, "wrong values"),
    "renormalised": (each_map(lambda m: m / m.sum()), AssertionError, "do not renormalise"),
    "batch_dim_kept": (each_map(lambda m: m[None]), AssertionError, r"expected \(2, 2\), got \(1, 2, 2\)"),
    "stacked_tensor": (lambda a, patch_size=16: torch.stack(maps_vectorised(a, patch_size)), AssertionError,
                       "return a list"),
    "numpy_maps": (each_map(lambda m: m.numpy()), AssertionError, "torch.Tensor"),
    "last_layer_only": (lambda a, patch_size=16: maps_vectorised(a, patch_size)[-1:], AssertionError,
                        "expected 2 maps, got 1"),
    "modifies_input_in_place": (zeroes_cls_in_place, AssertionError, "in place"),
    "hard_coded_14": (per_layer(lambda a: a[0].mean(dim=0)[0, 1:].reshape(14, 14).flatten()), RuntimeError,
                      "do not hard-code"),
    "calls_the_shipped_reference": (calls_the_shipped_reference, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (explainers.obtain_attention_maps, AssertionError, "implement this exercise yourself"),
}


# ---- attention_entropies: correct and plausible wrong answers -------------------------------------

def entropies_of(maps, log=torch.log, normalise=lambda values: values / values.sum()):
    values = []
    for attention_map in maps:
        p = normalise(attention_map.flatten())
        values.append(-(p[p > 0] * log(p[p > 0])).sum())
    return torch.stack(values)


def answer_from(entropies_of_maps, layer_of=lambda entropies: int(entropies.argmin())):
    """An answer returning entropies_of_maps(maps) and layer_of(those entropies)."""
    def answer(maps):
        entropies = entropies_of_maps(maps)
        return entropies, layer_of(entropies)
    return answer


def entropies_by_entr(maps):
    entropies = torch.stack([torch.special.entr(m.double().flatten() / m.double().sum()).sum() for m in maps])
    return entropies, entropies.argmin()  # a 0-d integer tensor is an index too


def entropies_by_clamp(maps):
    stacked = torch.stack([m.flatten() / m.sum() for m in maps])
    entropies = -(stacked * stacked.clamp_min(1e-12).log()).sum(dim=1)
    return entropies, int(entropies.argmin())


def normalises_in_place(maps):
    for attention_map in maps:
        attention_map /= attention_map.sum()
    return entropies_by_clamp(maps)


def naive_plogp(maps):
    p = [m.flatten() / m.sum() for m in maps]
    entropies = torch.stack([-(q * q.log()).sum() for q in p])
    return entropies, int(entropies.argmin())


CORRECT_ENTROPIES = {"entr_0d_tensor_index": entropies_by_entr, "clamp_int": entropies_by_clamp,
                     "masked_numpy_index": answer_from(entropies_of, lambda entropies: np.int64(entropies.argmin()))}

WRONG_ENTROPIES = {  # name: (answer, what the visible check raises, what its message must say)
    "not_divided_by_sum": (answer_from(lambda maps: entropies_of(maps, normalise=lambda v: v)), AssertionError,
                           "divide each map by its sum"),
    "log2": (answer_from(lambda maps: entropies_of(maps, log=torch.log2)), AssertionError, "natural log"),
    "softmax_not_sum": (answer_from(lambda maps: entropies_of(maps, normalise=lambda v: v.softmax(0))),
                        AssertionError, "do not apply softmax"),
    "nan_from_zero_log_zero": (naive_plogp, AssertionError, r"NaN.*0 x log 0"),
    "argmax": (answer_from(entropies_of, lambda entropies: int(entropies.argmax())), AssertionError, "SMALLEST"),
    "one_based_layer": (answer_from(entropies_of, lambda entropies: int(entropies.argmin()) + 1), AssertionError,
                        "count from 0"),
    "layer_as_float": (answer_from(entropies_of, lambda entropies: float(entropies.argmin())), AssertionError,
                       "integer index"),
    "list_of_floats": (answer_from(lambda maps: [float(e) for e in entropies_of(maps)], lambda entropies: 0),
                       AssertionError, "torch.Tensor"),
    "entropies_only": (entropies_of, AssertionError, "return two values"),
    "normalises_input_in_place": (normalises_in_place, AssertionError, "in place"),
    "constant_entropies": (lambda maps: (torch.full((len(maps),), math.log(4)), 0), AssertionError, "wrong values"),
}


# ---- both exercises: correct answers pass, wrong ones fail with a helpful message -----------------

CORRECT_ANSWERS = {**{("obtain_attention_maps", name): answer for name, answer in CORRECT_MAPS.items()},
                   **{("attention_entropies", name): answer for name, answer in CORRECT_ENTROPIES.items()}}
WRONG_ANSWERS = {**{("obtain_attention_maps", name): wrong for name, wrong in WRONG_MAPS.items()},
                 **{("attention_entropies", name): wrong for name, wrong in WRONG_ENTROPIES.items()}}
GRADING_FAILURES = (AssertionError, RuntimeError, TypeError, ValueError)  # nbgrader scores any of them 0


@pytest.mark.parametrize("exercise, variant", CORRECT_ANSWERS)
def test_visible_and_hidden_checks_accept_correct_answers(namespace, exercise, variant, capsys):
    namespace[exercise] = CORRECT_ANSWERS[exercise, variant]
    run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)
    assert f"{exercise}: 모든 확인을 통과했습니다 (all checks passed)" in capsys.readouterr().out


@pytest.mark.parametrize("exercise, wrong", WRONG_ANSWERS)
def test_visible_check_rejects_wrong_answer_with_a_helpful_message(namespace, exercise, wrong):
    answer, error, message = WRONG_ANSWERS[exercise, wrong]
    namespace[exercise] = answer
    with pytest.raises(error) as failure:
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    text = "\n".join([str(failure.value), *getattr(failure.value, "__notes__", [])])
    assert re.search(message, text, re.DOTALL), text
    assert re.search("[가-힣]", text), "the message must also be in Korean"


@pytest.mark.parametrize("exercise, wrong", [c for c in WRONG_ANSWERS if c[1] not in SHIPPED_ANSWER_ROWS])
def test_hidden_tests_reject_wrong_answer(namespace, exercise, wrong):
    namespace[exercise] = WRONG_ANSWERS[exercise, wrong][0]
    with pytest.raises(GRADING_FAILURES):
        run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)


def memorised_maps():
    """An answer that returns the visible checks' maps, recognising their inputs by the number of layers."""
    visible = {len(attentions): maps_vectorised(attentions, patch_size)
               for attentions, patch_size in ((checks_attention.TOY_ATTENTIONS, checks_attention.TOY_PATCH_SIZE),
                                              (vit_attentions(checks_attention.CHECK_IMAGE), 16))}
    return lambda attentions, patch_size=16: [m.clone() for m in visible[len(attentions)]]


def memorised_entropies():
    """An answer that returns the visible checks' entropies, recognising their inputs by the number of maps."""
    vit_maps = explainers.obtain_attention_maps(vit_attentions(checks_attention.CHECK_IMAGE))
    visible = {len(maps): entropies_by_clamp(maps) for maps in (checks_attention.TOY_ENTROPY_MAPS, vit_maps)}
    return lambda maps: visible[len(maps)]


@pytest.mark.parametrize("exercise, memorised", [("obtain_attention_maps", memorised_maps),
                                                 ("attention_entropies", memorised_entropies)])
def test_answers_memorised_for_the_visible_checks_fail_grading(namespace, exercise, memorised):
    namespace[exercise] = memorised()
    run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    with pytest.raises(AssertionError):
        run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)


# ---- answers that edit what they are given cannot change what later checks see ----------------------

def zeroes_large_maps_in_place(maps):
    """Right answer for the toy maps; zeroes every larger map it is given (the ViT's) in place."""
    result = entropies_by_clamp(maps)
    for attention_map in maps:
        if attention_map.numel() > 4:
            attention_map.zero_()
    return result


def zeroes_large_attentions_in_place(attentions, patch_size=16):
    """Right answer for the toy attentions; zeroes every larger attention tensor it is given in place."""
    maps = maps_vectorised(attentions, patch_size)
    for layer in attentions:
        if layer.shape[-1] > 5:
            layer.zero_()
    return [m.clone() for m in maps]


@pytest.mark.parametrize("exercise, vandal", [("attention_entropies", zeroes_large_maps_in_place),
                                              ("obtain_attention_maps", zeroes_large_attentions_in_place)])
def test_an_answer_editing_its_input_in_place_cannot_corrupt_later_checks(namespace, exercise, vandal, capsys):
    """The checks hand student code copies: the attentions every later check reads stay as computed."""
    before = [layer.clone() for layer in vit_attentions(checks_attention.CHECK_IMAGE)]
    namespace[exercise] = vandal
    try:
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
        message = ""
    except AssertionError as error:
        message = str(error)
    after = vit_attentions(checks_attention.CHECK_IMAGE)
    assert all(torch.equal(b, a) for b, a in zip(before, after)), "a student's in-place edit reached the cache"
    assert "in place" in message, message
    namespace[exercise] = CORRECT_ANSWERS[exercise, "vectorised" if exercise == "obtain_attention_maps" else "clamp_int"]
    run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    assert "all checks passed" in capsys.readouterr().out


# ---- untouched stubs -----------------------------------------------------------------------------

def test_untouched_stubs_fail_every_check(namespace):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for name in ("obtain_attention_maps", "attention_entropies"):
        namespace[name] = stub
        for cell in (f"{name}_visible", f"{name}_hidden"):
            assert_stub_fails(ASSIGNMENT, cell, namespace)


# ---- the notebook's guard against missing attentions ---------------------------------------------

def tiny_vit(attn_implementation):
    """A 2-layer ViT on 32 x 32 images (4 patches of 16 px), randomly initialised."""
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=16, num_labels=3, attn_implementation=attn_implementation)
    torch.manual_seed(0)
    return ViTForImageClassification(config).eval()


def attentions_of(model):
    with torch.no_grad():
        return model(torch.zeros(1, 3, 32, 32), output_attentions=True).attentions


def test_guard_accepts_an_eager_models_attentions():
    model = tiny_vit("eager")
    expect_layer_attentions(attentions_of(model), model.config)


def test_guard_stops_an_sdpa_model_that_returns_no_attentions():
    model = tiny_vit("sdpa")
    attentions = attentions_of(model)
    if len(attentions or ()) == model.config.num_hidden_layers:
        pytest.skip("this transformers version returns attention weights with SDPA too")
    with pytest.raises(AssertionError, match=r"(?s)0개.*eager.*expected 2 attention tensors.*got 0"):
        expect_layer_attentions(attentions, model.config)


@pytest.mark.parametrize("attentions, message", [
    ((), "got 0"),
    (None, "got 0"),
    ((torch.full((1, 2, 5, 5), 0.2),), "expected 2 attention tensors.*got 1"),
    ((torch.full((1, 2, 5, 5), 0.2), torch.full((1, 2, 5, 5), 0.5)), r"rows of attentions\[1\] do not sum to 1"),
    ((torch.full((1, 2, 5, 5), 0.2), torch.full((1, 3, 5, 5), 0.2)), r"expected \(1, 2, 5, 5\), got \(1, 3, 5, 5\)"),
])
def test_guard_says_what_is_wrong(attentions, message):
    config = tiny_vit("eager").config
    with pytest.raises(AssertionError, match=f"(?s)[가-힣].*{message}"):
        expect_layer_attentions(attentions, config)
