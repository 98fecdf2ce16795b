"""Every visible check of notebook 05 accepts correct answers and rejects the plausible wrong ones.

Each answer is fed to the visible check cell exactly as it stands in the solution notebook (the hidden
test cells are tested with the grader's code elsewhere). The numbers written into coursekit/checks_trust.py
(its docstring, RANK_CASES, SPEARMAN_CASES and SPEARMAN_MISTAKES) are recomputed here in pure Python,
from the definitions, without torch or the solution's code.
"""
import copy
import importlib.util
import itertools
import math
import re
import sys

import numpy as np
import pytest
import torch
from scipy import stats

from coursekit import checks_trust
from coursekit.answers import trust as shipped
from coursekit.sanity import reinitialise
from notebook_cells import assert_stub_fails, failure_text, run_cell, solution_namespace

ASSIGNMENT = "05_trust"
EXERCISES = ("average_ranks", "spearman_rank_correlation", "cascading_randomization")


@pytest.fixture()
def namespace():
    return solution_namespace(ASSIGNMENT, *EXERCISES)



# ---- the hand-written numbers, recomputed from the definitions -----------------------------------

def ranks_by_definition(values):
    """rank_i = 1 + #{j: v_j < v_i} + (#{j: v_j = v_i} - 1) / 2, in plain Python."""
    return [1 + sum(v < value for v in values) + (sum(v == value for v in values) - 1) / 2 for value in values]


def pearson(x, y):
    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
    dx, dy = [v - mean_x for v in x], [v - mean_y for v in y]
    return sum(a * b for a, b in zip(dx, dy)) / math.sqrt(sum(a * a for a in dx) * sum(b * b for b in dy))


def spearman(x, y):
    return pearson(ranks_by_definition(x), ranks_by_definition(y))


def textbook(x, y):
    n = len(x)
    return 1 - 6 * sum((a - b) ** 2 for a, b in zip(ranks_by_definition(x), ranks_by_definition(y))) / (n * (n * n - 1))


def ordinal_ranks(values, tie_order):
    """Ranks 1..n without tie averaging, tied values taking their ranks in the order given by tie_order (a key)."""
    order = sorted(range(len(values)), key=lambda i: (values[i], tie_order[i]))
    ranks = [0] * len(values)
    for rank, index in enumerate(order, start=1):
        ranks[index] = rank
    return ranks


def every_tie_order(values):
    """Every way to break the ties of `values`, as keys for ordinal_ranks (permutations within each tie group)."""
    groups = [[i for i, v in enumerate(values) if v == value] for value in sorted(set(values))]
    orders = []
    for arrangement in itertools.product(*(itertools.permutations(group) for group in groups)):
        key = [0] * len(values)
        for group in arrangement:
            for position, index in enumerate(group):
                key[index] = position
        orders.append(key)
    return orders


def flat(matrix):
    return [value for row in matrix for value in row]


@pytest.mark.parametrize("case", checks_trust.RANK_CASES, ids=lambda case: case[0][1])
def test_rank_cases_are_the_average_ranks(case):
    _, values, _, expected = case
    assert ranks_by_definition(values) == expected


def test_the_first_rank_case_tells_argsort_from_ranks():
    _, values, _, expected = checks_trust.RANK_CASES[0]
    positions = sorted(range(len(values)), key=values.__getitem__)
    assert [p + 1 for p in positions] == [2, 4, 1, 3] != expected  # as the docstring says
    assert len(set(values)) == len(values)


def test_the_many_ties_check_uses_the_counting_definition():
    generator = torch.Generator().manual_seed(checks_trust.MANY_TIES_SEED)
    values = torch.randint(0, 6, (64,), generator=generator).double()
    assert min(values.tolist().count(v) for v in range(6)) >= 5, "every value should be tied many times"
    assert checks_trust._counted_ranks(values).tolist() == ranks_by_definition(values.tolist())


@pytest.mark.parametrize("case", checks_trust.SPEARMAN_CASES, ids=lambda case: case[0][1])
def test_spearman_cases_and_their_mistakes(case):
    (_, english), map_a, map_b, expected = case
    a, b = flat(map_a), flat(map_b)
    assert spearman(a, b) == pytest.approx(expected, abs=1e-12)
    mistakes = checks_trust.SPEARMAN_MISTAKES[english]
    assert pearson(a, b) == pytest.approx(mistakes["raw_values"], abs=5e-7)
    if "textbook" in mistakes:
        assert textbook(a, b) == pytest.approx(mistakes["textbook"], abs=1e-12)
        index_order = list(range(len(a)))
        assert pearson(ordinal_ranks(a, index_order), ordinal_ranks(b, index_order)) == pytest.approx(
            mistakes["ordinal"], abs=1e-12)
    else:
        assert textbook(a, b) == pytest.approx(expected, abs=1e-12), "without ties the textbook formula is exact"
    for value in mistakes.values():
        assert abs(value - expected) > 100 * 1e-5, "the check could not tell this mistake apart"


def test_ranks_without_tie_averaging_are_wrong_in_every_tie_order():
    """Whatever order argsort breaks the ties in, the tied case does not give the right answer."""
    _, map_a, map_b, expected = checks_trust.SPEARMAN_CASES[1]
    a, b = flat(map_a), flat(map_b)
    orders_a, orders_b = every_tie_order(a), every_tie_order(b)
    assert (len(orders_a), len(orders_b)) == (6, 2)
    for order_a, order_b in itertools.product(orders_a, orders_b):
        gap = abs(pearson(ordinal_ranks(a, order_a), ordinal_ranks(b, order_b)) - expected)
        assert gap > 100 * 1e-5


def test_docstring_numbers():
    """Every number written out in the module docstring."""
    doc = checks_trust.__doc__
    a_no_ties, b_no_ties = flat(checks_trust.SPEARMAN_CASES[0][1]), flat(checks_trust.SPEARMAN_CASES[0][2])
    a, b = flat(checks_trust.SPEARMAN_CASES[1][1]), flat(checks_trust.SPEARMAN_CASES[1][2])
    ranks_a, ranks_b = ranks_by_definition(a), ranks_by_definition(b)
    centred_a = [r - sum(ranks_a) / 6 for r in ranks_a]
    centred_b = [r - sum(ranks_b) / 6 for r in ranks_b]
    assert ranks_by_definition(a_no_ties) == [1, 6, 3, 2, 5, 4] and ranks_by_definition(b_no_ties) == [2, 6, 1, 4, 3, 5]
    assert sum((x - y) ** 2 for x, y in zip(ranks_by_definition(a_no_ties), ranks_by_definition(b_no_ties))) == 14
    assert ranks_a == [2, 2, 4, 6, 2, 5] and ranks_b == [1.5, 3, 1.5, 6, 5, 4]
    assert centred_a == [-1.5, -1.5, .5, 2.5, -1.5, 1.5] and centred_b == [-2, -.5, -2, 2.5, 1.5, .5]
    assert sum(x * y for x, y in zip(centred_a, centred_b)) == 7.5
    assert sum(x * x for x in centred_a) == 15.5 and sum(y * y for y in centred_b) == 17
    assert [x - y for x, y in zip(ranks_a, ranks_b)] == [.5, -1, 2.5, 0, -3, 1]
    index_order = list(range(6))
    assert ordinal_ranks(a, index_order) == [1, 2, 4, 6, 3, 5] and ordinal_ranks(b, index_order) == [1, 3, 2, 6, 5, 4]
    negative = [-v for v in a]
    assert sum((x - y) ** 2 for x, y in zip(ranks_a, ranks_by_definition(negative))) == 62
    assert textbook(a, negative) == pytest.approx(checks_trust.TEXTBOOK_NEGATIVE, abs=1e-12)
    assert spearman(a, negative) == pytest.approx(-1, abs=1e-12)
    assert spearman(a, [v * v for v in a]) == pytest.approx(1, abs=1e-12)
    numbers = {"0.878073": pearson(a_no_ties, b_no_ties), "0.462031": spearman(a, b), "0.714286": 12.5 / 17.5,
               "0.651751": pearson(a, b), "-0.771429": textbook(a, negative),
               "0.962300": pearson(a, [v * v for v in a])}
    for written, value in numbers.items():
        assert written in doc and f"{value:.6f}" == written
    assert all(f"{checks_trust.SPEARMAN_CASES[i][3]:.6g}" in doc for i in (0, 1))


def test_tiny_model_is_trained_like_and_its_layers_change_when_reinitialised():
    """Otherwise the cascade check could not see which layers an answer re-initialised."""
    model = checks_trust.tiny_cascade_model()
    assert not model.training
    for step, name in enumerate(checks_trust.LAYER_NAMES):
        for seed in (0, 5):
            layer = model.get_submodule(name)
            fresh = copy.deepcopy(layer)
            torch.manual_seed(seed + step)
            reinitialise(fresh)
            for key, value in layer.state_dict().items():
                if key != "num_batches_tracked":
                    assert not torch.equal(value, fresh.state_dict()[key]), (name, key)


# ---- average_ranks -----------------------------------------------------------------------------

def ranks_with_scipy(values):
    return torch.from_numpy(stats.rankdata(values.numpy()))


def ranks_with_unique(values):
    unique, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()
    return (last - (counts.double() - 1) / 2)[inverse]


def ranks_by_counting_in_a_loop(values):
    values = values.tolist()
    return torch.tensor([1 + sum(v < x for v in values) + (values.count(x) - 1) / 2 for x in values],
                        dtype=torch.float64)


CORRECT_RANKS = {"scipy_rankdata": ranks_with_scipy, "unique_counts": ranks_with_unique,
                 "python_loop": ranks_by_counting_in_a_loop}


def ordinal(values):
    return values.argsort(stable=True).argsort().double() + 1


def lowest_rank_for_ties(values):
    return torch.searchsorted(values.sort().values, values, side="left").double() + 1


def dense_ranks(values):
    return torch.unique(values, return_inverse=True)[1].double() + 1


def shifts_the_input_in_place(values):
    values.sub_(values.min())
    return ranks_with_unique(values)


def calls_the_shipped_ranks(values):
    return shipped.average_ranks(values)


WRONG_RANKS = {  # name: (answer, what the visible check raises, what its message must say)
    "no_tie_averaging": (ordinal, AssertionError, "equal values must share one rank"),
    "argsort_once": (lambda v: v.argsort().double() + 1, AssertionError, r"argsort\(\) gives the positions"),
    "zero_based": (lambda v: ranks_with_unique(v) - 1, AssertionError, "ranks start at 1"),
    "lowest_rank_for_ties": (lowest_rank_for_ties, AssertionError, "must be the MEAN of the ranks they span"),
    "dense_ranks": (dense_ranks, AssertionError, "must be the MEAN of the ranks they span"),
    "float32": (lambda v: ranks_with_unique(v).float(), AssertionError, "must have dtype torch.float64"),
    "modifies_the_input": (shifts_the_input_in_place, AssertionError, "in place"),
    "row_vector": (lambda v: ranks_with_unique(v)[None], AssertionError, r"wrong shape.*expected \(4,\), got \(1, 4\)"),
    "numpy": (lambda v: ranks_with_unique(v).numpy(), AssertionError, "must be a torch.Tensor"),
    "calls_the_shipped_reference": (calls_the_shipped_ranks, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (shipped.average_ranks, AssertionError, "implement this exercise yourself"),
}


# ---- spearman_rank_correlation ----------------------------------------------------------------

def shapes_must_match(map_a, map_b):
    if map_a.shape != map_b.shape:
        raise ValueError(f"shapes differ: {tuple(map_a.shape)} vs {tuple(map_b.shape)}")


def spearman_with_corrcoef(map_a, map_b):
    """A 0-dim tensor; torch.corrcoef gives NaN for a constant row, silently."""
    shapes_must_match(map_a, map_b)
    ranks = torch.stack([ranks_with_unique(map_a.flatten()), ranks_with_unique(map_b.flatten())])
    return torch.corrcoef(ranks)[0, 1]


def spearman_with_scipy_guarded(map_a, map_b):
    shapes_must_match(map_a, map_b)
    if map_a.unique().numel() == 1 or map_b.unique().numel() == 1:
        return math.nan
    return stats.spearmanr(map_a.flatten().numpy(), map_b.flatten().numpy()).statistic


def spearman_as_one_element_tensor(map_a, map_b):
    return spearman_with_corrcoef(map_a, map_b).reshape(1)


CORRECT_SPEARMANS = {"corrcoef_0d_tensor": spearman_with_corrcoef, "scipy_guarded": spearman_with_scipy_guarded,
                     "one_element_tensor": spearman_as_one_element_tensor}


def correlate(x, y, guard=None):
    """Pearson's correlation of two flat tensors in float64; `guard` is what a zero spread does."""
    x, y = x.double() - x.double().mean(), y.double() - y.double().mean()
    spread = float(x.norm() * y.norm())
    if spread == 0 and guard == "nan":
        return math.nan
    if guard == "epsilon":
        spread += 1e-12
    return float((x * y).sum()) / spread  # ZeroDivisionError for a constant map without a guard


def spearman_variant(ranks=ranks_with_unique, guard="nan", check_shapes=True):
    def answer(map_a, map_b):
        if check_shapes:
            shapes_must_match(map_a, map_b)
        return correlate(ranks(map_a.flatten()), ranks(map_b.flatten()), guard)
    return answer


def spearman_by_textbook_formula(map_a, map_b):
    shapes_must_match(map_a, map_b)
    d = ranks_with_unique(map_a.flatten()) - ranks_with_unique(map_b.flatten())
    n = d.numel()
    return float(1 - 6 * (d ** 2).sum() / (n * (n ** 2 - 1)))


def spearman_with_numpy(map_a, map_b):
    shapes_must_match(map_a, map_b)
    return float(np.corrcoef(ranks_with_scipy(map_a.flatten()), ranks_with_scipy(map_b.flatten()))[0, 1])


def spearman_with_scipy(map_a, map_b):
    shapes_must_match(map_a, map_b)
    return float(stats.spearmanr(map_a.flatten().numpy(), map_b.flatten().numpy()).statistic)


def only_the_lengths_checked(map_a, map_b):
    if map_a.numel() != map_b.numel():
        raise ValueError("the maps hold different numbers of values")
    return spearman_variant(check_shapes=False)(map_a, map_b)


def asserts_the_shapes(map_a, map_b):
    assert map_a.shape == map_b.shape, "shapes differ"
    return spearman_variant(check_shapes=False)(map_a, map_b)


def centres_the_inputs_in_place(map_a, map_b):
    map_a -= map_a.mean()
    map_b -= map_b.mean()
    return spearman_variant()(map_a, map_b)


def correlation_matrix(map_a, map_b):
    shapes_must_match(map_a, map_b)
    return torch.corrcoef(torch.stack([ranks_with_unique(map_a.flatten()), ranks_with_unique(map_b.flatten())]))


def calls_the_shipped_spearman(map_a, map_b):
    return shipped.spearman_rank_correlation(map_a, map_b)


WRONG_SPEARMANS = {
    "ranks_without_tie_averaging": (spearman_variant(ranks=ordinal), AssertionError, "without tie averaging"),
    "pearson_of_raw_values": (spearman_variant(ranks=lambda v: v), AssertionError,
                              "Pearson's correlation of the raw values"),
    "textbook_formula": (spearman_by_textbook_formula, AssertionError, r"textbook formula.*holds only without ties"),
    "absolute_value": (lambda a, b: abs(spearman_variant()(a, b)), AssertionError,
                       r"its negative.*expected -1, got 1.*exactly -1"),
    "zero_division_for_constant_map": (spearman_variant(guard=None), AssertionError,
                                       r"raised ZeroDivisionError.*return float\('nan'\)"),
    "zero_for_constant_map": (spearman_variant(guard="epsilon"), AssertionError,
                              r"constant map.*expected nan, got 0.*return float\('nan'\)"),
    "numpy_warns_for_constant_map": (spearman_with_numpy, AssertionError,
                                     r"emitted a warning \(RuntimeWarning.*return float\('nan'\) without a warning"),
    "scipy_warns_for_constant_map": (spearman_with_scipy, AssertionError, r"emitted a warning \(ConstantInputWarning"),
    "no_shape_check": (spearman_variant(check_shapes=False), AssertionError,
                       r"\(7, 7\), \(8, 8\) must raise ValueError, got RuntimeError"),
    "only_the_lengths_checked": (only_the_lengths_checked, AssertionError,
                                 r"\(2, 8\), \(4, 4\) raised no error.*flatten to the same length"),
    "assert_instead_of_value_error": (asserts_the_shapes, AssertionError, "must raise ValueError, got AssertionError"),
    "modifies_the_inputs": (centres_the_inputs_in_place, AssertionError, "in place"),
    "correlation_matrix": (correlation_matrix, AssertionError, r"return one number.*4 elements.*take \[0, 1\]"),
    "calls_the_shipped_reference": (calls_the_shipped_spearman, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (shipped.spearman_rank_correlation, AssertionError,
                                 "implement this exercise yourself"),
}


# ---- cascading_randomization --------------------------------------------------------------------

def cascade_by_named_modules(model, layer_names, explain, seed=0):
    randomised = copy.deepcopy(model)
    modules = dict(randomised.named_modules())
    steps = [("original", explain(randomised))]
    for step, name in enumerate(layer_names):
        torch.random.manual_seed(seed + step)
        reinitialise(modules[name])
        steps.append((name, explain(randomised)))
    return dict(steps)


CORRECT_CASCADES = {"named_modules": cascade_by_named_modules}


def cascade(model, layer_names, explain, seed=0, copy_model=True, fresh_copy_per_step=False, order=None,
            seeds="per_step", explained=None, original_key="original", use_getattr=False):
    """The cascade with one of the switches that make a plausible mistake."""
    base = copy.deepcopy(model) if copy_model else model
    randomised = base
    maps = {original_key: explain(model if explained == "given" else randomised)}
    names = list(reversed(layer_names)) if order == "bottom_up" else list(layer_names)
    if seeds == "once":
        torch.manual_seed(seed)
    for step, name in enumerate(names):
        if fresh_copy_per_step:
            randomised = copy.deepcopy(base)
        if seeds == "per_step":
            torch.manual_seed(seed + step)
        elif seeds == "same":
            torch.manual_seed(seed)
        elif seeds == "ignored":
            torch.manual_seed(step)
        layer = getattr(randomised, name) if use_getattr else randomised.get_submodule(name)
        reinitialise(layer)
        maps[name] = explain(model if explained == "every_step" else randomised)
    if original_key is None:
        del maps[None]
    return maps


def switched(**switches):
    return lambda model, layer_names, explain, seed=0: cascade(model, layer_names, explain, seed, **switches)


def bottom_up_with_keys_in_order(model, layer_names, explain, seed=0):
    maps = dict.fromkeys(["original", *layer_names])
    return {**maps, **cascade(model, layer_names, explain, seed, order="bottom_up")}


def original_last(model, layer_names, explain, seed=0):
    maps = cascade(model, layer_names, explain, seed)
    return {**{name: maps[name] for name in layer_names}, "original": maps["original"]}


def one_map_for_every_step(model, layer_names, explain, seed=0):
    randomised = copy.deepcopy(model)
    original = explain(randomised)
    for step, name in enumerate(layer_names):
        torch.manual_seed(seed + step)
        reinitialise(randomised.get_submodule(name))
    return {"original": original, **dict.fromkeys(layer_names, original)}


def the_whole_model_reinitialised(model, layer_names, explain, seed=0):
    randomised = copy.deepcopy(model)
    maps = {"original": explain(randomised)}
    for step, name in enumerate(layer_names):
        torch.manual_seed(seed + step)
        reinitialise(randomised)
        maps[name] = explain(randomised)
    return maps


def copies_a_model_left_in_train_mode(model, layer_names, explain, seed=0):
    model.train()
    return cascade(model, layer_names, explain, seed)


def calls_the_shipped_cascade(model, layer_names, explain, seed=0):
    return shipped.cascading_randomization(model, layer_names, explain, seed)


SEED_MESSAGE = r"does not hold what torch.manual_seed\(seed \+ 2\).*call torch.manual_seed\(seed \+ i\) right before"
WRONG_CASCADES = {
    "no_copy": (switched(copy_model=False), AssertionError, r"the given model's '.*' changed.*copy.deepcopy\(model\)"),
    "fresh_copy_per_step": (switched(fresh_copy_per_step=True), AssertionError, "not cumulative"),
    "bottom_up": (switched(order="bottom_up"), AssertionError, r"keys must be.*you went bottom-up"),
    "bottom_up_with_keys_in_order": (bottom_up_with_keys_in_order, AssertionError,
                                     r"call 2 \(step 'fc'\).*must be \['fc'\], got \['features.conv'\].*bottom-up"),
    "no_original_entry": (switched(original_key=None), AssertionError, "'original' entry is missing"),
    "original_last": (original_last, AssertionError, "keys are in another order"),
    "seeded_once": (switched(seeds="once"), AssertionError, SEED_MESSAGE + ".*not once before the loop"),
    "same_seed_every_step": (switched(seeds="same"), AssertionError, SEED_MESSAGE),
    "never_seeded": (switched(seeds=None), AssertionError,
                     r"layer 'fc' does not hold what torch.manual_seed\(seed \+ 0\)"),
    "seed_argument_ignored": (switched(seeds="ignored"), AssertionError, r"\(seed=5\)"),
    "explains_the_given_model_at_every_step": (switched(explained="every_step"), AssertionError,
                                               "called with the given model itself"),
    "one_map_for_every_step": (one_map_for_every_step, AssertionError, "called 1 time"),
    "the_whole_model_reinitialised": (the_whole_model_reinitialised, AssertionError,
                                      r"must be \['fc'\], got \['fc', 'features.bn', 'features.conv'\]"),
    "getattr_for_dotted_names": (switched(use_getattr=True), AttributeError, r"model.get_submodule\(name\)"),
    "train_mode": (copies_a_model_left_in_train_mode, AssertionError, "train mode"),
    "calls_the_shipped_reference": (calls_the_shipped_cascade, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (shipped.cascading_randomization, AssertionError, "implement this exercise yourself"),
}


# ---- every table fed to the visible check cells -------------------------------------------------

CORRECT = {**{("average_ranks", name): answer for name, answer in CORRECT_RANKS.items()},
           **{("spearman_rank_correlation", name): answer for name, answer in CORRECT_SPEARMANS.items()},
           **{("cascading_randomization", name): answer for name, answer in CORRECT_CASCADES.items()},
           # the unchanged model's map is the same whether explain sees the model or its copy
           ("cascading_randomization", "explains_the_given_model_for_original"): switched(explained="given")}
WRONG = {**{("average_ranks", name): wrong for name, wrong in WRONG_RANKS.items()},
         **{("spearman_rank_correlation", name): wrong for name, wrong in WRONG_SPEARMANS.items()},
         **{("cascading_randomization", name): wrong for name, wrong in WRONG_CASCADES.items()}}


def test_visible_checks_accept_the_solution(namespace, capsys):
    for exercise in EXERCISES:
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    assert capsys.readouterr().out.count("all checks passed") == len(EXERCISES)


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


@pytest.mark.parametrize("wrong", ["no_tie_averaging", "lowest_rank_for_ties", "dense_ranks"])
def test_spearman_check_says_fix_exercise_1_first_when_the_ranks_it_uses_are_wrong(namespace, wrong):
    """The notebook's own spearman_rank_correlation uses the namespace's average_ranks."""
    namespace["average_ranks"] = WRONG_RANKS[wrong][0]
    with pytest.raises(AssertionError, match="(?s)실습 1의 average_ranks가 실습 1의 확인을 통과하지 못합니다.*"
                                             "exercise 1's average_ranks, which does not pass"):
        run_cell(ASSIGNMENT, "spearman_rank_correlation_visible", namespace)


def test_the_checks_leave_the_notebooks_random_state_alone(namespace):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run_cell(ASSIGNMENT, "cascading_randomization_visible", namespace)
    assert torch.equal(torch.rand(3), expected)


def test_untouched_stubs_fail_every_visible_check(namespace):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for name in EXERCISES:
        namespace[name] = stub
        assert_stub_fails(ASSIGNMENT, f"{name}_visible", namespace)


def test_checks_work_where_the_release_withholds_this_notebooks_answers(monkeypatch, namespace, capsys):
    """In a student's release coursekit/answers/trust.py is missing: the checks import and refuse nothing."""
    monkeypatch.setitem(sys.modules, "coursekit.answers.trust", None)
    monkeypatch.delattr(sys.modules["coursekit.answers"], "trust")
    spec = importlib.util.spec_from_file_location("released_checks_trust", checks_trust.__file__)
    released = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(released)
    assert released.shipped_answers is None
    released.check_average_ranks(namespace["average_ranks"])
    released.check_spearman_rank_correlation(namespace["spearman_rank_correlation"])
    released.check_cascading_randomization(namespace["cascading_randomization"])
    assert capsys.readouterr().out.count("all checks passed") == 3
