"""Every visible check of notebook 05 accepts correct answers and rejects the plausible wrong ones.

Each answer is fed to the visible check cell exactly as it stands in the solution notebook (the hidden
test cells are tested with the grader's code elsewhere). The numbers written into coursekit/checks_trust.py
(its docstring, RANK_CASES, SPEARMAN_CASES, SPEARMAN_MISTAKES, CURVE_CASES, CURVE_MISTAKES, COUNT_MISTAKES,
AUC_CASES and AUC_MISTAKES) are recomputed here in pure Python, from the definitions, without torch or the
solution's code.
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
EXERCISES = ("average_ranks", "spearman_rank_correlation", "cascading_randomization", "replacement_curve",
             "area_under_curve")


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


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def replaced_counts(pixels, steps, rule="floor"):
    """How many pixels point k = 0..steps has replaced, by each rule (only "floor", k * n // steps, is right)."""
    if rule == "array_split":  # np.array_split's chunks: the first n % steps ones one larger
        sizes = [pixels // steps + (i < pixels % steps) for i in range(steps)]
        return [sum(sizes[:k]) for k in range(steps + 1)]
    rules = {"floor": lambda k: k * pixels // steps, "ceil": lambda k: math.ceil(k * pixels / steps),
             "round": lambda k: round(k * pixels / steps), "k_times_chunk": lambda k: k * (pixels // steps)}
    return [rules[rule](k) for k in range(steps + 1)]


def pixel_order(saliency, order="descending"):
    """Row-major pixel numbers, most salient first with ties in row-major order (or one of the mistakes)."""
    keys = {"descending": lambda i: (-saliency[i], i), "ascending": lambda i: (saliency[i], i),
            "ties_reversed": lambda i: (-saliency[i], -i)}
    return sorted(range(len(saliency)), key=keys[order])


def curve_by_definition(case, order="descending", counts="floor", cumulative=True, channels="all", swapped=False):
    """The logit z of class 1 at each point, the model's logits being (0, bias + the sum of the picture)."""
    image = [flat(channel) for channel in case["image"]]
    replacement = [flat(channel) for channel in case["replacement"]]
    if swapped:
        image, replacement = replacement, image
    saliency = flat(case["saliency"])
    steps = case["steps"] or 16
    ranking, numbers = pixel_order(saliency, order), replaced_counts(len(saliency), steps, counts)
    curve = []
    for k in range(steps + 1):
        chosen = set(ranking[:numbers[k]] if cumulative else ranking[numbers[k - 1] if k else 0:numbers[k]])
        curve.append(case["bias"] + sum((replacement if p in chosen and (channels == "all" or c == 0) else image)[c][p]
                                        for c in range(len(image)) for p in range(len(saliency))))
    return curve


def probabilities(z, target_class):
    return [sigmoid(v) if target_class == 1 else 1 - sigmoid(v) for v in z]


CURVE_MISTAKE_SWITCHES = {"ascending": {"order": "ascending"}, "ties_reversed": {"order": "ties_reversed"},
                          "not_cumulative": {"cumulative": False}, "swapped": {"swapped": True},
                          "channel_0": {"channels": "first"}, "ceil": {"counts": "ceil"}, "round": {"counts": "round"},
                          "k_times_chunk": {"counts": "k_times_chunk"}, "array_split": {"counts": "array_split"}}


@pytest.mark.parametrize("case", checks_trust.CURVE_CASES, ids=lambda case: case["name"][1])
def test_curve_cases_are_the_definition(case):
    assert curve_by_definition(case) == case["z"]
    assert checks_trust.curve_probabilities(case) == pytest.approx(probabilities(case["z"], case["target_class"]),
                                                                   abs=1e-15)


def test_curve_mistakes_are_what_the_mistakes_give_and_each_is_told_apart():
    cases = {case["name"][1]: case for case in checks_trust.CURVE_CASES}
    for english, mistakes in checks_trust.CURVE_MISTAKES.items():
        case, right = cases[english], curve_by_definition(cases[english])
        for mistake, z in mistakes.items():
            assert curve_by_definition(case, **CURVE_MISTAKE_SWITCHES[mistake]) == z, mistake
            gap = max(abs(a - b) for a, b in zip(probabilities(z, 1), probabilities(right, 1)))
            assert gap > 100 * 1e-5, mistake
        for first, second in itertools.combinations(mistakes.values(), 2):
            assert first != second, "two mistakes the diagnosis could not tell apart"


def test_count_mistakes_and_the_cases_they_need():
    _, case_b = checks_trust.CURVE_CASES[:2]
    pixels, steps = len(flat(case_b["saliency"])), case_b["steps"]
    assert (pixels, steps) == (6, 4) and pixels % steps
    assert replaced_counts(pixels, steps) == [0, 1, 3, 4, 6]
    for mistake, (counts, _) in checks_trust.COUNT_MISTAKES.items():
        assert replaced_counts(pixels, steps, mistake) == list(counts), mistake
    assert [round(1.5), round(4.5)] == [2, 4]  # as the docstring says: Python rounds halves to even
    assert np.cumsum([0] + [len(chunk) for chunk in np.array_split(np.arange(6), 4)]).tolist() == \
        replaced_counts(6, 4, "array_split")
    saliency = flat(case_b["saliency"])
    assert len(set(saliency)) < len(saliency), "B must have ties"
    assert pixel_order(saliency) != pixel_order(saliency, "ties_reversed")


def test_default_steps_case_repeats_the_first_cases_points():
    case_a, _, case_c, case_d = checks_trust.CURVE_CASES
    assert case_c["steps"] is None  # the default, 16
    assert replaced_counts(4, 16) == [k // 4 for k in range(17)]
    assert case_c["z"] == [case_a["z"][k // 4] for k in range(17)]
    assert case_c["target_class"] == 0 and case_a["target_class"] == 1
    assert case_d["logits_attribute"] and {k: v for k, v in case_d.items() if k not in ("name", "logits_attribute")} \
        == {k: v for k, v in case_a.items() if k not in ("name", "logits_attribute")}


def test_the_tiny_linear_model_gives_logits_zero_and_z():
    for case in checks_trust.CURVE_CASES:
        model = checks_trust.tiny_linear_classifier(case)
        assert not model.training
        for picture, z in ((case["image"], case["z"][0]), (case["replacement"], case["z"][-1])):
            output = model(torch.tensor([picture]))
            assert isinstance(output, torch.Tensor) != case["logits_attribute"]
            logits = output.logits if case["logits_attribute"] else output
            assert logits.tolist() == [[0.0, z]]


def test_curve_docstring_numbers():
    doc = checks_trust.__doc__
    case_a, case_b, case_c, _ = checks_trust.CURVE_CASES

    def listed(values):
        return ", ".join(f"{v:g}" for v in values)

    def deltas(case, channels=None):
        image, replacement = case["image"], case["replacement"]
        used = range(len(image)) if channels is None else channels
        return tuple(sum(flat(replacement[c])[p] - flat(image[c])[p] for c in used)
                     for p in range(len(flat(case["saliency"]))))

    assert sum(flat(case_a["image"][0])) + case_a["bias"] == 2 and "(z = 3 - 1 = 2)" in doc
    assert f"d = {deltas(case_a)}" in doc and f"d = {deltas(case_b)}" in doc
    assert f"channel 0 alone {deltas(case_b, [0])}" in doc
    assert "order " + listed(pixel_order(flat(case_a["saliency"]))) in doc
    assert pixel_order(flat(case_b["saliency"])) == [0, 2, 4, 1, 3, 5] and "order is 0, 2, 4 | 1, 3 | 5" in doc
    assert pixel_order(flat(case_b["saliency"]), "ascending") == [5, 1, 3, 0, 2, 4]
    assert pixel_order(flat(case_b["saliency"]), "ties_reversed") == [4, 2, 0, 3, 1, 5]
    assert pixel_order(flat(case_a["saliency"]), "ascending") == [0, 3, 1, 2]
    for case in (case_a, case_b):
        assert f"z = {listed(case['z'])}  ->  p = " + ", ".join(f"{p:.6f}" for p in probabilities(case["z"], 1)) in doc
        for z in checks_trust.CURVE_MISTAKES[case["name"][1]].values():
            assert f"z = {listed(z)}" in doc
    points = [f"{p:.6f}" for p in probabilities(case_a["z"], 0)]
    assert " (x4), ".join(points[:4]) + " (x4), " + points[4] in doc
    assert probabilities(case_c["z"], 0)[::4] == probabilities(case_a["z"], 0)


def trapezoid_area(scores):
    steps = len(scores) - 1
    return sum((scores[k] + scores[k + 1]) / 2 for k in range(steps)) / steps


AREA_MISTAKES = {  # in the order the check names them
    "mean": lambda s: sum(s) / len(s),
    "no_dx": lambda s: trapezoid_area(s) * (len(s) - 1),
    "steps_plus_one": lambda s: trapezoid_area(s) * (len(s) - 1) / len(s),
    "left": lambda s: sum(s[:-1]) / (len(s) - 1),
    "right": lambda s: sum(s[1:]) / (len(s) - 1),
}


@pytest.mark.parametrize("case", checks_trust.AUC_CASES, ids=lambda case: case[0][1])
def test_auc_cases_and_their_mistakes(case):
    (_, english), scores, expected = case
    assert trapezoid_area(scores) == pytest.approx(expected, abs=1e-12)
    mistakes = checks_trust.AUC_MISTAKES[english]
    assert list(mistakes) == [m for m, area in AREA_MISTAKES.items() if abs(area(scores) - expected) > 1e-9]
    for mistake, value in mistakes.items():
        assert AREA_MISTAKES[mistake](scores) == pytest.approx(value, abs=5e-7), mistake
        assert abs(value - expected) > 100 * 1e-5, "the check could not tell this mistake apart"


def test_each_area_mistake_is_named_at_the_first_case_it_fails():
    for mistake, area in AREA_MISTAKES.items():
        failing = [(english, scores) for (_, english), scores, expected in checks_trust.AUC_CASES
                   if abs(area(scores) - expected) > 1e-5]
        english, scores = failing[0]
        named = [m for m, value in checks_trust.AUC_MISTAKES[english].items() if abs(area(scores) - value) <= 1e-5]
        assert named[0] == mistake or checks_trust._AUC_HINTS[named[0]] == checks_trust._AUC_HINTS[mistake], mistake


def test_auc_docstring_numbers():
    doc = checks_trust.__doc__
    squares = [(k / 16) ** 2 for k in range(17)]
    assert trapezoid_area(squares) == pytest.approx(1 / 3 + (1 / 16) ** 2 / 6, abs=1e-15)
    assert 1 / 1536 == (1 / 16) ** 2 / 6
    assert f"{trapezoid_area(squares):.6f}" == "0.333984" and "0.333984" in doc
    for (_, scores, _), written in zip(checks_trust.AUC_CASES[:4], ("0.5", "0.75", "0.625", "0.4")):
        assert f"{trapezoid_area(scores):g}" == written and f"= {written}\n" in doc
    labels = {"mean": "the mean of the points", "no_dx": "torch.trapezoid without dx",
              "steps_plus_one": "divided by steps + 1", "left": "rectangles on the left ends",
              "right": "on the right ends"}
    text = " ".join(doc.split("Mistakes, in the same order:")[1].split("One point")[0].split())
    for mistake, label in labels.items():
        written = [f"{AREA_MISTAKES[mistake](scores):.6f}".rstrip("0").rstrip(".")
                   for _, scores, _ in checks_trust.AUC_CASES]
        listed = text.split(label)[1].split(";")[0].split(" and ")[0].replace("[0, steps]", "")
        assert re.findall(r"-?\d+(?:\.\d+)?", listed) == written, (mistake, listed)


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


CORRECT_SPEARMANS = {"corrcoef_0d_tensor": spearman_with_corrcoef, "scipy_guarded": spearman_with_scipy_guarded}


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
    "one_element_tensor": (lambda a, b: spearman_with_corrcoef(a, b).reshape(1), AssertionError,
                           r"return one number, got a Tensor of shape \(1,\).*take \[0, 1\]; of one element, return float\(\.\.\.\)"),
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


# ---- replacement_curve --------------------------------------------------------------------------

def saliency_must_fit(image, saliency):
    if tuple(saliency.shape) != tuple(image.shape[-2:]):
        raise ValueError(f"saliency {tuple(saliency.shape)} is not the picture's (H, W) {tuple(image.shape[-2:])}")


def curve_one_picture_at_a_time(model, image, replacement, saliency, target_class, steps=16):
    """A copy of the picture edited pixel by pixel, one forward pass per point."""
    saliency_must_fit(image, saliency)
    width, pixels = saliency.shape[1], saliency.numel()
    order = (-saliency).flatten().argsort(stable=True).tolist()
    picture, done, scores = image.clone(), 0, []
    for k in range(steps + 1):
        for index in order[done:k * pixels // steps]:
            row, column = divmod(index, width)
            picture[0, :, row, column] = replacement[0, :, row, column]
        done = k * pixels // steps
        with torch.no_grad():
            output = model(picture)
        logits = output.logits if hasattr(output, "logits") else output
        scores.append(torch.softmax(logits, dim=1)[0, target_class])
    return torch.stack(scores)


def curve_with_numpy(model, image, replacement, saliency, target_class, steps=16):
    """The order and the pictures in NumPy, the model in torch, the softmax in NumPy."""
    saliency_must_fit(image, saliency)
    channels, pixels = image.shape[1], saliency.numel()
    order = np.argsort(-saliency.numpy().ravel(), kind="stable")
    pictures = np.repeat(image.numpy().reshape(1, channels, pixels), steps + 1, axis=0)
    for k in range(steps + 1):
        chosen = order[:k * pixels // steps]
        pictures[k][:, chosen] = replacement.numpy().reshape(channels, pixels)[:, chosen]
    with torch.no_grad():
        output = model(torch.from_numpy(pictures.reshape(steps + 1, *image.shape[1:])))
    logits = getattr(output, "logits", output).numpy().astype(np.float64)
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return torch.from_numpy(exponentials[:, target_class] / exponentials.sum(axis=1))


def curve_with_a_blended_mask(model, image, replacement, saliency, target_class, steps=16):
    """Masks scattered from the order, blended as image * (1 - mask) + replacement * mask."""
    saliency_must_fit(image, saliency)
    height, width = saliency.shape
    order = saliency.flatten().argsort(descending=True, stable=True)
    masks = torch.zeros(steps + 1, height * width)
    for k in range(steps + 1):
        masks[k, order[:k * height * width // steps]] = 1
    masks = masks.reshape(steps + 1, 1, height, width)
    with torch.inference_mode():
        output = model(image * (1 - masks) + replacement * masks)
    return torch.nn.functional.softmax(getattr(output, "logits", output), dim=-1)[:, target_class].clone()


CORRECT_CURVES = {"one_picture_at_a_time": curve_one_picture_at_a_time, "numpy": curve_with_numpy,
                  "blended_mask": curve_with_a_blended_mask}


def replaced_numbers(pixels, steps, counts):
    if counts == "array_split":
        return np.cumsum([0] + [len(chunk) for chunk in np.array_split(np.arange(pixels), steps)]).tolist()
    rules = {"floor": lambda k: k * pixels // steps, "ceil": lambda k: math.ceil(k * pixels / steps),
             "round": lambda k: round(k * pixels / steps), "k_times_chunk": lambda k: k * (pixels // steps)}
    return [rules[counts](k) for k in range(steps + 1)]


def curve(model, image, replacement, saliency, target_class, steps=16, order="descending", counts="floor",
          cumulative=True, channels="all", points="all", copy_image=True, shape_check="shape", output="getattr",
          score="softmax", fixed_class=None, swapped=False, returns="tensor"):
    """The curve, one picture at a time, with one of the switches that make a plausible mistake."""
    height, width = image.shape[-2:]
    pixels, colours = height * width, image.shape[1]
    if shape_check == "shape":
        saliency_must_fit(image, saliency)
    elif shape_check == "numel" and saliency.numel() != pixels:
        raise ValueError("saliency must have one value per pixel")
    elif shape_check == "assert":
        assert tuple(saliency.shape) == (height, width), "saliency must be (H, W)"
    values = saliency.flatten()
    ranking = {"descending": lambda: values.argsort(descending=True, stable=True),
               "ascending": lambda: values.argsort(stable=True),
               "ties_reversed": lambda: values.argsort(stable=True).flip(0)}[order]()
    numbers = replaced_numbers(pixels, steps, counts)
    start, end = (replacement, image) if swapped else (image, replacement)
    scores = []
    for k in {"all": range(steps + 1), "no_first": range(1, steps + 1), "no_last": range(steps)}[points]:
        picture = start.clone() if copy_image else start
        chosen = ranking[:numbers[k]] if cumulative else ranking[numbers[k - 1] if k else 0:numbers[k]]
        if channels == "all":
            picture.view(1, colours, pixels)[:, :, chosen] = end.reshape(1, colours, pixels)[:, :, chosen]
        else:  # the picture flattened to C * H * W, indexed with pixel numbers: channel 0 only
            picture.view(-1)[chosen] = end.reshape(-1)[chosen]
        with torch.no_grad():
            result = model(picture)
        logits = getattr(result, "logits", result) if output == "getattr" else result
        column = target_class if fixed_class is None else fixed_class
        scores.append({"softmax": lambda: logits.softmax(dim=1)[0, column],
                       "softmax_over_the_batch": lambda: logits.softmax(dim=0)[0, column],
                       "logit": lambda: logits[0, column],
                       "sigmoid": lambda: logits[0, column].sigmoid()}[score]())
    return [float(s) for s in scores] if returns == "list" else torch.stack(scores)


def curve_switched(**switches):
    def answer(model, image, replacement, saliency, target_class, steps=16):
        return curve(model, image, replacement, saliency, target_class, steps, **switches)
    return answer


def curve_with_ten_steps_by_default(model, image, replacement, saliency, target_class, steps=10):
    return curve(model, image, replacement, saliency, target_class, steps)


def deletion_only(model, image, replacement, saliency, target_class, steps=16):
    """Replaced pixels set to 0 whatever `replacement` holds."""
    return curve(model, image, torch.zeros_like(replacement), saliency, target_class, steps)


def calls_the_shipped_curve(model, image, replacement, saliency, target_class, steps=16):
    return shipped.replacement_curve(model, image, replacement, saliency, target_class, steps)


COUNTS_MESSAGE = r"rounded down\): with n = 6 pixels and steps = 4 that is 0, 1, 3, 4, 6, but this curve replaced "
WRONG_CURVES = {
    "least_salient_first": (curve_switched(order="ascending"), AssertionError,
                            r"2 x 2 picture \(one channel, deletion\).*DESCENDING order of saliency"),
    "ties_reversed": (curve_switched(order="ties_reversed"), AssertionError,
                      r"2 x 3 picture.*equal saliency go in row-major order.*flipping an ascending argsort"),
    "only_the_kth_chunk": (curve_switched(cumulative=False), AssertionError, r"ALL the first k \* n // steps pixels"),
    "logits": (curve_switched(score="logit"), AssertionError, "record the softmax probability, not the logit"),
    "channel_0_only": (curve_switched(channels="first"), AssertionError,
                       r"2 x 3 picture \(two channels.*replace all channels of a pixel together"),
    "no_point_0": (curve_switched(points="no_first"), AssertionError,
                   r"expected \(5,\), got \(4,\).*point 0 \(image as it is\) is missing"),
    "no_last_point": (curve_switched(points="no_last"), AssertionError,
                      r"expected \(5,\), got \(4,\).*the last point .* is missing: range\(steps\) stops"),
    "counts_rounded_up": (curve_switched(counts="ceil"), AssertionError,
                          COUNTS_MESSAGE + r"0, 2, 3, 5, 6 \(k \* n / steps rounded up\)"),
    "counts_rounded_to_nearest": (curve_switched(counts="round"), AssertionError,
                                  COUNTS_MESSAGE + r"0, 2, 3, 4, 6 \(k \* n / steps rounded to the nearest\)"),
    "k_times_n_over_steps": (curve_switched(counts="k_times_chunk"), AssertionError,
                             COUNTS_MESSAGE + r"0, 1, 2, 3, 4 \(k \* \(n // steps\)"),
    "array_split_chunks": (curve_switched(counts="array_split"), AssertionError,
                           COUNTS_MESSAGE + r"0, 2, 4, 5, 6 \(chunks as np.array_split"),
    "modifies_the_image": (curve_switched(copy_image=False), AssertionError,
                           r"modified its input \(image, replacement, saliency\)\[0\] in place"),
    "no_shape_check": (curve_switched(shape_check=None), AssertionError,
                       r"a \(2, 2\) saliency for a 2 x 3 picture raised no error"),
    "only_the_number_of_values_checked": (curve_switched(shape_check="numel"), AssertionError,
                                          r"a \(1, 2, 2\) saliency for a 2 x 2 picture raised no error.*"
                                          "compare the shapes themselves"),
    "assert_instead_of_value_error": (curve_switched(shape_check="assert"), AssertionError,
                                      "must raise ValueError, got AssertionError"),
    "output_without_logits_attribute": (curve_switched(output="tensor"), AttributeError,
                                        r"as the ViT does.*getattr\(output, 'logits', output\)"),
    "class_1_always": (curve_switched(fixed_class=1), AssertionError,
                       r"class 0 with the default 16 steps.*the other class's probability"),
    "sigmoid_of_the_target_logit": (curve_switched(score="sigmoid"), AssertionError,
                                    "the sigmoid of the target class's logit is not its softmax probability"),
    "softmax_over_the_batch": (curve_switched(score="softmax_over_the_batch"), AssertionError,
                               r"softmax over the classes \(dim=1\)"),
    "image_and_replacement_swapped": (curve_switched(swapped=True), AssertionError,
                                      "image and replacement are swapped"),
    "deletion_only": (deletion_only, AssertionError,
                      r"2 x 3 picture.*the last point \(k = steps\) is the probability of the picture with every"),
    "ten_steps_by_default": (curve_with_ten_steps_by_default, AssertionError,
                             r"class 0 with the default 16 steps.*expected \(17,\), got \(11,\)"),
    "returns_a_list": (curve_switched(returns="list"), AssertionError, r"return a torch.Tensor, got a list"),
    "calls_the_shipped_reference": (calls_the_shipped_curve, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (shipped.replacement_curve, AssertionError, "implement this exercise yourself"),
}


# ---- area_under_curve ---------------------------------------------------------------------------

def at_least_two_points(scores):
    if len(scores) < 2:
        raise ValueError(f"a curve needs at least two points, got {len(scores)}")


def area_with_torch_trapezoid(scores):
    at_least_two_points(scores)
    return float(torch.trapezoid(scores, dx=1 / (len(scores) - 1)))


def area_with_numpy(scores):
    """A NumPy float, on the x-axis 0, 1/steps, ..., 1."""
    at_least_two_points(scores)
    return np.trapezoid(scores.numpy(), np.linspace(0, 1, len(scores)))


def area_in_a_loop(scores):
    at_least_two_points(scores)
    values = scores.tolist()
    return sum((values[k] + values[k + 1]) / 2 for k in range(len(values) - 1)) / (len(values) - 1)


def area_as_a_0d_tensor(scores):
    at_least_two_points(scores)
    return (scores[:-1] + scores[1:]).sum() / (2 * (len(scores) - 1))


def area_with_the_ends_halved_on_a_copy(scores):
    at_least_two_points(scores)
    weights = scores.clone()
    weights[0] /= 2
    weights[-1] /= 2
    return float(weights.sum()) / (len(scores) - 1)


CORRECT_AREAS = {"torch_trapezoid_dx": area_with_torch_trapezoid, "numpy_trapezoid": area_with_numpy,
                 "python_loop": area_in_a_loop, "zero_dim_tensor": area_as_a_0d_tensor,
                 "ends_halved_on_a_copy": area_with_the_ends_halved_on_a_copy}


def guarded(area):
    def answer(scores):
        at_least_two_points(scores)
        return area(scores)
    return answer


def trapezoids_summed(scores):
    return float((scores[:-1] + scores[1:]).sum() / 2)


def area_without_a_guard(scores):
    return float((scores[:-1] + scores[1:]).sum() / (2 * (len(scores) - 1)))


def area_in_a_loop_without_a_guard(scores):
    values = scores.tolist()
    return sum((values[k] + values[k + 1]) / 2 for k in range(len(values) - 1)) / (len(values) - 1)


def area_asserting_two_points(scores):
    assert len(scores) >= 2, "at least two points"
    return area_without_a_guard(scores)


def halves_the_ends_in_place(scores):
    at_least_two_points(scores)
    scores[0] /= 2
    scores[-1] /= 2
    return float(scores.sum()) / (len(scores) - 1)


def area_with_np_trapz(scores):
    at_least_two_points(scores)
    return np.trapz(scores.numpy(), dx=1 / (len(scores) - 1))


def area_of_a_copied_tensor(scores):
    return area_with_torch_trapezoid(torch.tensor(scores))  # UserWarning: use clone().detach()


def calls_the_shipped_area(scores):
    return shipped.area_under_curve(scores)


WRONG_AREAS = {
    "mean_of_the_points": (guarded(lambda s: float(s.mean())), AssertionError,
                           r"three points \[1, 1, 0\]: expected 0.75, got 0.666667.*the mean of the points"),
    "not_divided_by_steps": (guarded(trapezoids_summed), AssertionError, r"got 1.5.*the area over \[0, steps\]"),
    "torch_trapezoid_without_dx": (guarded(lambda s: float(torch.trapezoid(s))), AssertionError,
                                   r"the area over \[0, steps\].*dx=1 / steps"),
    "divided_by_steps_plus_one": (guarded(lambda s: trapezoids_summed(s) / len(s)), AssertionError,
                                  r"expected 0.5, got 0.25.*divide by the number of intervals"),
    "left_rectangles": (guarded(lambda s: float(s[:-1].mean())), AssertionError, "sum of rectangles"),
    "right_rectangles": (guarded(lambda s: float(s[1:].mean())), AssertionError, "sum of rectangles"),
    "no_value_error": (area_without_a_guard, AssertionError, r"1 point\(s\) \[0.7\] raised no error \(returned nan\)"),
    "zero_division": (area_in_a_loop_without_a_guard, AssertionError, "must raise ValueError, got ZeroDivisionError"),
    "assert_instead_of_value_error": (area_asserting_two_points, AssertionError,
                                      "must raise ValueError, got AssertionError"),
    "halves_the_ends_in_place": (halves_the_ends_in_place, AssertionError, r"modified its input scores\[0\] in place"),
    "trapezoids_not_added_up": (guarded(lambda s: (s[:-1] + s[1:]) / 2 / (len(s) - 1)), AssertionError,
                                r"return one number.*shape \(1,\) \(add the trapezoids up with .sum\(\)"),
    "one_element_tensor": (lambda scores: area_as_a_0d_tensor(scores).reshape(1), AssertionError,
                           r"got a Tensor of shape \(1,\).*later cells print the value"),
    "np_trapz": (area_with_np_trapz, AttributeError, r"np.trapz is gone in NumPy 2"),
    "warns": (area_of_a_copied_tensor, AssertionError, r"emitted a warning \(UserWarning"),
    "calls_the_shipped_reference": (calls_the_shipped_area, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (shipped.area_under_curve, AssertionError, "implement this exercise yourself"),
}


# ---- every table fed to the visible check cells -------------------------------------------------

CORRECT = {**{("average_ranks", name): answer for name, answer in CORRECT_RANKS.items()},
           **{("spearman_rank_correlation", name): answer for name, answer in CORRECT_SPEARMANS.items()},
           **{("cascading_randomization", name): answer for name, answer in CORRECT_CASCADES.items()},
           **{("replacement_curve", name): answer for name, answer in CORRECT_CURVES.items()},
           **{("area_under_curve", name): answer for name, answer in CORRECT_AREAS.items()},
           # the unchanged model's map is the same whether explain sees the model or its copy
           ("cascading_randomization", "explains_the_given_model_for_original"): switched(explained="given")}
WRONG = {**{("average_ranks", name): wrong for name, wrong in WRONG_RANKS.items()},
         **{("spearman_rank_correlation", name): wrong for name, wrong in WRONG_SPEARMANS.items()},
         **{("cascading_randomization", name): wrong for name, wrong in WRONG_CASCADES.items()},
         **{("replacement_curve", name): wrong for name, wrong in WRONG_CURVES.items()},
         **{("area_under_curve", name): wrong for name, wrong in WRONG_AREAS.items()}}


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
    released.check_replacement_curve(namespace["replacement_curve"])
    released.check_area_under_curve(namespace["area_under_curve"])
    assert capsys.readouterr().out.count("all checks passed") == 5
