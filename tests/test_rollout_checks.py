"""Every check of notebook 04 accepts correct answers and rejects the plausible wrong ones.

Each answer is fed to the visible check cell and to the hidden test cell exactly as they
stand in the solution notebook. The toy numbers written into coursekit/checks_rollout.py are
recomputed here with the independent implementation in tools/references/rollout.py.
"""
import re

import numpy as np
import pytest
import torch

from coursekit import checks_rollout, explainers
from coursekit.vit import vit_attentions
from notebook_cells import SHIPPED_ANSWER_ROWS, assert_stub_fails, failure_text, run_cell, solution_namespace
from tools.grading.hidden.rollout import DISCARD_RATIOS  # every ratio a hidden test may choose
from tools.references.rollout import FUSIONS, residual_step, rollout_map

ASSIGNMENT = "04_attention_rollout"


@pytest.fixture()
def namespace():
    return solution_namespace(ASSIGNMENT, "add_identity_and_normalise", "compute_attention_rollout")



# ---- the toy numbers in the checks module ------------------------------------------------------

def toy_map(fusion, ratio, **mistake):
    return rollout_map(checks_rollout.TOY_ATTENTIONS, fusion, ratio, **mistake)


MISTAKE_SWITCHES = {"reversed_order": {"order": "newest_right"}, "no_identity": {"identity": False},
                    "columns": {"normalise": "columns"}, "cls_zeroed": {"cls_entry": "zeroed"},
                    "cls_skipped": {"cls_entry": "skipped"}}


def toy_mistake_map(fusion, ratio, mistake):
    if mistake == "one_head":
        return rollout_map([layer[:, :1] for layer in checks_rollout.TOY_ATTENTIONS], fusion, ratio)
    if mistake == "not_discarded":
        return toy_map(fusion, 0.0)
    return toy_map(fusion, ratio, **MISTAKE_SWITCHES[mistake])


def test_toy_attention_rows_sum_to_100_percent():
    for layer in checks_rollout.TOY_HEADS_PERCENT:
        for head in layer:
            assert all(sum(row) == 100 for row in head)


@pytest.mark.parametrize("case", checks_rollout.TOY_MAPS)
def test_toy_maps_are_the_reference_rollout(case):
    np.testing.assert_allclose(checks_rollout.TOY_MAPS[case], toy_map(*case), atol=6e-7)


@pytest.mark.parametrize("case, mistake", [(case, mistake) for case, mistakes in checks_rollout.TOY_MISTAKES.items()
                                           for mistake in mistakes])
def test_toy_mistakes_are_what_the_mistake_gives_and_far_from_the_answer(case, mistake):
    wrong = toy_mistake_map(*case, mistake)
    np.testing.assert_allclose(checks_rollout.TOY_MISTAKES[case][mistake], wrong, atol=6e-7)
    assert np.abs(wrong - toy_map(*case)).max() > 100 * 1e-5, "the check could not tell this mistake apart"


@pytest.mark.parametrize("case", [case for case in checks_rollout.TOY_MAPS if case[1]])
def test_the_cls_entry_is_among_the_discarded_entries_of_both_toy_layers(case):
    """Otherwise sparing [0, 0] would not matter and the toy could not check the rule."""
    fusion, ratio = case
    for layer in checks_rollout.TOY_ATTENTIONS:
        fused = FUSIONS[fusion](layer[0].double().numpy(), axis=0).flatten()
        count = int(ratio * fused.size)
        assert fused[0] in np.sort(fused)[:count]
        assert np.sort(fused)[count - 1] < np.sort(fused)[count], "ties at the boundary make the answer ambiguous"


def test_mean_fusion_hides_the_column_mistake_and_the_other_cases_do_not():
    for case in checks_rollout.TOY_MAPS:
        gap = np.abs(toy_map(*case, normalise="columns") - toy_map(*case)).max()
        assert (gap < 1e-6) == (case == ("mean", 0.0)), case  # float32 rows sum to 1 +- 1e-7


@pytest.mark.parametrize("name, fused, expected", checks_rollout.TOY_RESIDUAL_CASES)
def test_toy_residual_cases_are_the_reference_step(name, fused, expected):
    np.testing.assert_allclose(expected, residual_step(np.array(fused, dtype=float)), atol=1e-12)


# ---- add_identity_and_normalise ----------------------------------------------------------------

def residual_by_keepdim(fused):
    mixed = fused + torch.eye(len(fused))
    return mixed / mixed.sum(dim=1, keepdim=True)


def residual_by_row_totals_plus_one(fused):
    return (fused + torch.eye(len(fused))) / (fused.sum(dim=-1) + 1)[:, None]


def residual_in_float64_numpy(fused):
    return torch.from_numpy(residual_step(fused.numpy()))


CORRECT_RESIDUALS = {"keepdim": residual_by_keepdim, "totals_plus_one": residual_by_row_totals_plus_one,
                     "float64_numpy": residual_in_float64_numpy}


def residual_buggy(fused):
    mixed = fused + torch.eye(len(fused))
    return mixed / mixed.sum(dim=-1)


def residual_in_place(fused):
    fused += torch.eye(len(fused))
    return fused / fused.sum(dim=-1, keepdim=True)


def residual_hard_coded_197(fused):
    return residual_by_keepdim(fused + torch.eye(197))


WRONG_RESIDUALS = {  # name: (answer, what the visible check raises, what its message must say)
    "sum_without_keepdim": (residual_buggy, AssertionError, "keepdim"),
    "column_sums": (lambda f: (f + torch.eye(len(f))) / (f + torch.eye(len(f))).sum(dim=0, keepdim=True),
                    AssertionError, "row"),
    "one_total": (lambda f: (f + torch.eye(len(f))) / (f + torch.eye(len(f))).sum(), AssertionError, "row"),
    "halved": (lambda f: (f + torch.eye(len(f))) / 2, AssertionError, "row"),
    "no_identity": (lambda f: f / f.sum(dim=-1, keepdim=True).clamp_min(1e-12), AssertionError, "wrong values|row"),
    "transposed": (lambda f: residual_by_keepdim(f).T, AssertionError, "row|wrong values"),
    "in_place": (residual_in_place, AssertionError, "in place"),
    "numpy": (lambda f: residual_by_keepdim(f).numpy(), AssertionError, "torch.Tensor"),
    "hard_coded_197": (residual_hard_coded_197, RuntimeError, "do not hard-code 197"),
}


# ---- compute_attention_rollout: correct variants -------------------------------------------------

def rollout_from_reference(**mistake):
    """An answer built on the NumPy reference, optionally with one of its mistake switches."""
    def answer(attentions, discard_ratio=0.0, head_fusion="mean"):
        if head_fusion not in FUSIONS:
            raise ValueError(f"head_fusion must be one of {sorted(FUSIONS)}, got {head_fusion!r}")
        return torch.from_numpy(rollout_map(attentions, head_fusion, discard_ratio, **mistake))
    return answer


def rollout_with_kthvalue_threshold(attentions, discard_ratio=0.0, head_fusion="mean"):
    """Loops over layers with torch.max's (values, indices), discards by a threshold and puts [0, 0] back."""
    reducers = {"mean": lambda a: a.mean(dim=1)[0], "max": lambda a: torch.max(a, dim=1)[0][0],
                "min": lambda a: torch.min(a, dim=1)[0][0]}
    if head_fusion not in reducers:
        raise ValueError("head_fusion: use 'mean', 'max' or 'min'")
    size = attentions[0].size(-1)
    result = torch.eye(size, dtype=torch.float64)
    for attention in attentions:
        fused = reducers[head_fusion](attention).double()
        count = int(fused.numel() * discard_ratio)
        if count:
            threshold = fused.flatten().kthvalue(count).values
            fused = torch.where(fused <= threshold, torch.zeros_like(fused), fused)
            fused[0, 0] = reducers[head_fusion](attention)[0, 0]
        mixed = fused + torch.eye(size, dtype=torch.float64)
        result = torch.matmul(mixed / mixed.sum(-1, keepdim=True), result)
    grid = int(np.sqrt(size - 1))
    return result[0, 1:].reshape(grid, grid).float()


CORRECT_ROLLOUTS = {"numpy_reference": rollout_from_reference(), "kthvalue_threshold": rollout_with_kthvalue_threshold}


# ---- compute_attention_rollout: plausible wrong answers -----------------------------------------

reference_answer = rollout_from_reference()


def mean_over_batch_axis(attentions, discard_ratio=0.0, head_fusion="mean"):
    """layer.mean(dim=0)[0]: averaging the batch (one image) leaves the heads, and [0] keeps head 0."""
    return reference_answer([layer.mean(dim=0)[0][None, None] for layer in attentions], discard_ratio, head_fusion)


def identity_added_to_the_input(attentions, discard_ratio=0.0, head_fusion="mean"):
    """Right values for mean fusion, but `layer += I` changes the caller's tensors."""
    for layer in attentions:
        layer += torch.eye(layer.shape[-1])
    rollout = reference_answer([layer - torch.eye(layer.shape[-1]) for layer in attentions], discard_ratio, head_fusion)
    return rollout


def raises_a_string(attentions, discard_ratio=0.0, head_fusion="mean"):
    if head_fusion not in FUSIONS:
        raise "Attention head fusion type not supported"
    return reference_answer(attentions, discard_ratio, head_fusion)


def falls_back_to_mean(attentions, discard_ratio=0.0, head_fusion="mean"):
    return reference_answer(attentions, discard_ratio, head_fusion if head_fusion in FUSIONS else "mean")


def value_error_without_the_allowed_values(attentions, discard_ratio=0.0, head_fusion="mean"):
    if head_fusion not in FUSIONS:
        raise ValueError("unknown head fusion")
    return reference_answer(attentions, discard_ratio, head_fusion)


def constant_map(attentions, discard_ratio=0.0, head_fusion="mean"):
    side = int(np.sqrt(attentions[0].shape[-1] - 1))
    return torch.full((side, side), 1 / (side * side + 1))


def calls_the_shipped_reference(attentions, discard_ratio=0.0, head_fusion="mean"):
    return explainers.compute_attention_rollout(attentions, discard_ratio, head_fusion)


def min_max_rescaled(attentions, discard_ratio=0.0, head_fusion="mean"):
    rollout = reference_answer(attentions, discard_ratio, head_fusion)
    return (rollout - rollout.min()) / (rollout.max() - rollout.min())


WRONG_ROLLOUTS = {  # name: (answer, what the visible check raises, what its message must say)
    "columns_normalised": (rollout_from_reference(normalise="columns"), AssertionError, "COLUMNS.*keepdim"),
    "reversed_order": (rollout_from_reference(order="newest_right"), AssertionError, r"reversed.*A_hat_l @ R_\(l-1\)"),
    "no_identity": (rollout_from_reference(identity=False), AssertionError, "identity"),
    "mean_over_batch_axis": (mean_over_batch_axis, AssertionError, "head 0 alone.*heads axis"),
    "constant_map": (constant_map, AssertionError, "wrong values"),
    "transposed": (lambda *args, **kwargs: reference_answer(*args, **kwargs).T, AssertionError, "transposed"),
    "min_max_rescaled": (min_max_rescaled, AssertionError, "do not rescale"),
    "cls_entry_zeroed": (rollout_from_reference(cls_entry="zeroed"), AssertionError, r"\[0, 0\] was zeroed"),
    "cls_entry_skipped": (rollout_from_reference(cls_entry="skipped"), AssertionError, r"spare \[0, 0\]"),
    "discard_ignored": (lambda a, discard_ratio=0.0, head_fusion="mean": reference_answer(a, 0.0, head_fusion),
                        AssertionError, "discard_ratio was ignored"),
    "modifies_the_input": (identity_added_to_the_input, AssertionError, "in place"),
    "raises_a_string": (raises_a_string, AssertionError, "itself a TypeError"),
    "no_error_for_unknown_fusion": (falls_back_to_mean, AssertionError, "raised no error"),
    "value_error_without_allowed_values": (value_error_without_the_allowed_values, AssertionError,
                                           "name the allowed values"),
    "numpy_map": (lambda *args, **kwargs: reference_answer(*args, **kwargs).numpy(), AssertionError, "torch.Tensor"),
    "hard_coded_14": (lambda *args, **kwargs: reference_answer(*args, **kwargs).reshape(14, 14), RuntimeError,
                      "do not hard-code"),
    "calls_the_shipped_reference": (calls_the_shipped_reference, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (explainers.compute_attention_rollout, AssertionError,
                                 "implement this exercise yourself"),
}


# ---- both exercises: every table fed to the visible and the hidden cells ----------------------

CORRECT = {**{("add_identity_and_normalise", name): answer for name, answer in CORRECT_RESIDUALS.items()},
           **{("compute_attention_rollout", name): answer for name, answer in CORRECT_ROLLOUTS.items()}}
WRONG = {**{("add_identity_and_normalise", name): wrong for name, wrong in WRONG_RESIDUALS.items()},
         **{("compute_attention_rollout", name): wrong for name, wrong in WRONG_ROLLOUTS.items()}}
ONLY_VISIBLE = {("compute_attention_rollout", "value_error_without_allowed_values")}  # hidden: any ValueError


@pytest.mark.parametrize("wrong", ["sum_without_keepdim", "column_sums", "halved"])
def test_rollout_check_says_fix_exercise_1_first_when_the_normalisation_it_uses_is_wrong(namespace, wrong):
    """The notebook's own compute_attention_rollout uses the namespace's add_identity_and_normalise."""
    namespace["add_identity_and_normalise"] = WRONG_RESIDUALS[wrong][0]
    with pytest.raises(AssertionError, match="(?s)실습 1의 add_identity_and_normalise가 실습 1의 확인을 통과하지 "
                                             "못합니다.*exercise 1's add_identity_and_normalise, which does not pass"):
        run_cell(ASSIGNMENT, "compute_attention_rollout_visible", namespace)


@pytest.mark.parametrize("exercise, variant", CORRECT)
def test_visible_and_hidden_checks_accept_correct_answers(namespace, exercise, variant, capsys):
    namespace[exercise] = CORRECT[exercise, variant]
    run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("exercise, wrong", WRONG)
def test_visible_check_rejects_wrong_answer_with_a_helpful_message(namespace, exercise, wrong):
    answer, error, message = WRONG[exercise, wrong]
    namespace[exercise] = answer
    with pytest.raises(error) as failure:
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    assert re.search(message, failure_text(failure), re.DOTALL), failure_text(failure)


@pytest.mark.parametrize("exercise, wrong", sorted(c for c in set(WRONG) - ONLY_VISIBLE if c[1] not in SHIPPED_ANSWER_ROWS))
def test_hidden_tests_reject_wrong_answer(namespace, exercise, wrong):
    namespace[exercise] = WRONG[exercise, wrong][0]
    with pytest.raises(AssertionError):  # the grader's verdict, whatever the answer raised
        run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)


def test_hidden_rollout_tests_reject_answers_hard_coded_for_the_visible_image(namespace):
    """An answer that is right on small inputs but memorised the visible check's ViT maps fails at grading time."""
    visible = vit_attentions(checks_rollout.CHECK_IMAGE)
    memorised = {(fusion, ratio): reference_answer(visible, ratio, fusion) for fusion in FUSIONS for ratio in DISCARD_RATIOS}

    def memorising(attentions, discard_ratio=0.0, head_fusion="mean"):
        if attentions[0].shape[-1] == visible[0].shape[-1]:
            return memorised[head_fusion, discard_ratio]
        return reference_answer(attentions, discard_ratio, head_fusion)

    namespace["compute_attention_rollout"] = memorising
    with pytest.raises(AssertionError, match="differs from the grader.s result"):
        run_cell(ASSIGNMENT, "compute_attention_rollout_hidden", namespace)


def test_untouched_stubs_fail_every_check(namespace):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for name in ("add_identity_and_normalise", "compute_attention_rollout"):
        namespace[name] = stub
        for cell in (f"{name}_visible", f"{name}_hidden"):
            assert_stub_fails(ASSIGNMENT, cell, namespace)
