"""Notebook 05's hidden tests: the independent references (tools/references/trust.py) agree with the solution
(coursekit/answers/trust.py, the notebook's code) on many random inputs, ties, constant maps and NaN included;
the solution passes every hidden test; each plausible mistake beyond submissions.py's table fails its test at
every grading; a float travels exactly and a NaN answer is judged as NaN.

(test_hidden_tests.py runs the notebook's own cells and submissions.py's wrong and constant answers.)"""
import base64
import copy
import json
import math
import random

import numpy as np
import pytest
import torch

from coursekit import probes
from coursekit.answers import trust as solution
from coursekit.sanity import reinitialise
from tools.grading import hidden
from tools.grading.hidden.expected import Number, judge
from tools.grading.hidden.trust import LAYERS_TOP_DOWN, MAP_SHAPES
from tools.references import trust as reference

SEEDS = (0, 1, 2, 3)


def random_spec(rng, shape):
    """A tied_values description: ReLU or not, a few levels or none, float32 or float64, or all one value."""
    if rng.random() < 0.1:
        return {"shape": shape, "constant": rng.choice((0.0, 1.5, -2.25))}
    return {"seed": rng.randrange(2**31), "shape": shape, "relu": rng.random() < 0.5,
            "levels": rng.choice((None, 1, 2, 5)), "dtype": rng.choice(("float32", "float64"))}


def test_reference_ranks_agree_with_the_solution_and_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(5)
    for _ in range(300):
        values = probes.tied_values(random_spec(rng, [rng.randint(1, 120)]))
        expected = reference.average_ranks(values)
        ranks = solution.average_ranks(values)
        assert ranks.dtype == torch.float64
        np.testing.assert_array_equal(ranks.numpy(), expected)
        np.testing.assert_array_equal(stats.rankdata(values.double().numpy(), method="average"), expected)


def test_reference_ranks_by_hand():
    np.testing.assert_array_equal(reference.average_ranks(torch.tensor([10.0, 20, 20, 30])), [1, 2.5, 2.5, 4])
    np.testing.assert_array_equal(reference.average_ranks(torch.tensor([3.0, 0, 0, 0, -1])), [5, 3, 3, 3, 1])
    np.testing.assert_array_equal(reference.average_ranks(torch.tensor([2.0, 2, 1]), ties="ordinal"), [2, 3, 1])
    np.testing.assert_array_equal(reference.average_ranks(torch.tensor([2.0, 2, 1]), ties="lowest"), [2, 2, 1])
    np.testing.assert_array_equal(reference.average_ranks(torch.tensor([5.0, 2, 2, 1]), ties="dense"), [3, 2, 2, 1])


def test_reference_spearman_agrees_with_the_solution_and_with_scipy_nan_included():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(6)
    constant = 0
    for _ in range(300):
        spec = {"seed": rng.randrange(2**31), "shape": list(rng.choice(MAP_SHAPES)), "mix": rng.uniform(-1, 1),
                "relu": rng.random() < 0.5, "levels": rng.choice((None, 1, 2, 3))}
        if rng.random() < 0.15:
            spec["constant"] = rng.randrange(2)
        map_a, map_b = probes.tied_map_pair(spec)
        expected = reference.spearman(map_a, map_b)
        answer = solution.spearman_rank_correlation(map_a, map_b)
        assert type(answer) is float
        if math.isnan(expected):
            constant += 1
            assert math.isnan(answer)
            assert bool((map_a == map_a.flatten()[0]).all() or (map_b == map_b.flatten()[0]).all())
            continue
        assert answer == pytest.approx(expected, abs=1e-12)
        assert stats.spearmanr(map_a.flatten().numpy(), map_b.flatten().numpy()).statistic == pytest.approx(expected,
                                                                                                        abs=1e-12)
    assert constant >= 20


def test_the_textbook_formula_is_right_only_without_ties():
    rng = random.Random(7)
    for _ in range(50):
        spec = {"seed": rng.randrange(2**31), "shape": [rng.randint(3, 60)], "mix": rng.uniform(-1, 1),
                "relu": False, "levels": None}
        pair = probes.tied_map_pair(spec)
        assert reference.spearman(*pair, method="textbook") == pytest.approx(reference.spearman(*pair), abs=1e-12)


def test_reference_cascade_agrees_with_the_solution_and_leaves_everything_as_it_was():
    rng = random.Random(8)
    for _ in range(4):
        spec = {"init_seed": rng.randrange(2**31)}
        layers = list(LAYERS_TOP_DOWN[:rng.randint(1, len(LAYERS_TOP_DOWN))])
        seed = rng.randrange(10**6)
        model = probes.toy_cnn(spec)
        before = probes.state_fingerprint(model)
        generator_state = torch.get_rng_state()
        expected = reference.cascade(model, layers, probes.state_fingerprint, seed=seed)
        assert torch.equal(torch.get_rng_state(), generator_state)
        maps = solution.cascading_randomization(model, layers, probes.state_fingerprint, seed=seed)
        assert list(maps) == list(expected) == ["original", *layers]
        for name in maps:
            assert torch.equal(maps[name], expected[name]), name
        assert torch.equal(probes.state_fingerprint(model), before)
        assert torch.equal(expected["original"], before)


def test_each_step_of_the_cascade_changes_the_fingerprint_and_only_the_layer_it_resets():
    model = probes.toy_cnn({"init_seed": 3})
    names = list(model.state_dict())
    maps = reference.cascade(model, list(LAYERS_TOP_DOWN), probes.state_fingerprint, seed=11)
    previous = maps["original"]
    for layer in LAYERS_TOP_DOWN:
        changed = {names[row] for row in range(len(names)) if not torch.equal(maps[layer][row], previous[row])}
        assert changed == {name for name in names if name.startswith(f"{layer}.")}, layer
        previous = maps[layer]


def test_the_toy_model_and_the_probes_leave_torchs_generator_as_it_was():
    state = torch.get_rng_state()
    probes.toy_cnn({"init_seed": 1})
    (challenge, expected), = hidden.prepare(["cascading_randomization_hidden"], 0).values()
    probes.records("cascading_randomization_hidden", challenge,
                   {"cascading_randomization": solution.cascading_randomization})
    assert torch.equal(torch.get_rng_state(), state)


GRADE_IDS = {"average_ranks": "average_ranks_hidden", "spearman_rank_correlation": "spearman_rank_correlation_hidden",
             "cascading_randomization": "cascading_randomization_hidden"}


def problems(argument, function, seed):
    grade_id = GRADE_IDS[argument]
    (challenge, expected), = hidden.prepare([grade_id], seed).values()
    challenge = json.loads(json.dumps(challenge))  # as the kernel receives it
    return judge(grade_id, expected, probes.records(grade_id, challenge, {argument: function}))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("argument", GRADE_IDS)
def test_the_solution_passes_every_grading(argument, seed):
    assert problems(argument, getattr(solution, argument), seed) == []


def test_a_grading_chooses_other_inputs_each_time():
    challenges = {repr([c for c, e in hidden.prepare(list(GRADE_IDS.values()), seed).values()]) for seed in range(4)}
    assert len(challenges) == 4


# ---- plausible mistakes that are not in submissions.py's table: each fails at every grading ----------------

def ranks_lowest(values):
    return (torch.searchsorted(values.sort().values, values, side="left") + 1).double()


def ranks_dense(values):
    return (values.unique(return_inverse=True)[1] + 1).double()


def ranks_float32(values):
    return solution.average_ranks(values).float()


def ranks_sorting_the_input(values):
    ranks = solution.average_ranks(values)
    values.copy_(values.sort().values)
    return ranks


def spearman_by(correlate, check=lambda a, b: a.shape == b.shape):
    def spearman_rank_correlation(map_a, map_b):
        if not check(map_a, map_b):
            raise ValueError("the maps differ")
        return correlate(map_a.flatten().double(), map_b.flatten().double())
    return spearman_rank_correlation


def pearson(x, y):
    x, y = x - x.mean(), y - y.mean()
    spread = x.norm() * y.norm()
    return float("nan") if spread == 0 else float((x * y).sum() / spread)


def spearman_of_ordinal_ranks(x, y):
    return pearson(x.argsort().argsort().double(), y.argsort().argsort().double())


def spearman_of_average_ranks(x, y):
    return pearson(solution.average_ranks(x), solution.average_ranks(y))


def spearman_zero_when_constant(x, y):
    answer = pearson(solution.average_ranks(x), solution.average_ranks(y))
    return 0.0 if math.isnan(answer) else answer


def cascade_by(step_seed=lambda seed, step: seed + step, seed_once=False, copy_model=True, reverse=False,
               reset=reinitialise, fixed_seed=None):
    def cascading_randomization(model, layer_names, explain, seed=0):
        seed = seed if fixed_seed is None else fixed_seed
        randomised = copy.deepcopy(model) if copy_model else model
        maps = {"original": explain(randomised)}
        if seed_once:
            torch.manual_seed(seed)
        for step, name in enumerate(reversed(layer_names) if reverse else layer_names):
            if not seed_once:
                torch.manual_seed(step_seed(seed, step))
            reset(randomised.get_submodule(name))
            maps[name] = explain(randomised)
        return maps
    return cascading_randomization


def reset_weights_only(module):
    for submodule in module.modules():
        if isinstance(submodule, (torch.nn.Conv2d, torch.nn.Linear)):
            submodule.reset_parameters()


MISTAKES = {
    "ranks: the lowest rank of a tie": ("average_ranks", ranks_lowest),
    "ranks: dense ranks": ("average_ranks", ranks_dense),
    "ranks: float32": ("average_ranks", ranks_float32),
    "ranks: sorts its input in place": ("average_ranks", ranks_sorting_the_input),
    "spearman: Pearson of the raw values": ("spearman_rank_correlation", spearman_by(pearson)),
    "spearman: ordinal ranks": ("spearman_rank_correlation", spearman_by(spearman_of_ordinal_ranks)),
    "spearman: 0 for a constant map": ("spearman_rank_correlation", spearman_by(spearman_zero_when_constant)),
    "spearman: only the sizes compared": ("spearman_rank_correlation",
                                          spearman_by(spearman_of_average_ranks, lambda a, b: a.numel() == b.numel())),
    "spearman: no shape check": ("spearman_rank_correlation", spearman_by(spearman_of_average_ranks, lambda a, b: True)),
    "cascade: seeded once": ("cascading_randomization", cascade_by(seed_once=True)),
    "cascade: seed + step + 1": ("cascading_randomization", cascade_by(step_seed=lambda seed, step: seed + step + 1)),
    "cascade: the seed ignored": ("cascading_randomization", cascade_by(fixed_seed=0)),
    "cascade: the model itself randomised": ("cascading_randomization", cascade_by(copy_model=False)),
    "cascade: bottom-up": ("cascading_randomization", cascade_by(reverse=True)),
    "cascade: batch norms not reset": ("cascading_randomization", cascade_by(reset=reset_weights_only)),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_plausible_mistake_fails_at_every_grading(mistake):
    argument, function = MISTAKES[mistake]
    for seed in SEEDS:
        assert problems(argument, function, seed), f"{mistake} passed the grading with seed {seed}"


# ---- floats and NaN in records ----------------------------------------------------------------------------

def record(value):
    return {"test": "t", "key": "r", **probes.encode(value)}


def test_a_python_float_travels_exactly():
    for value in (0.1, 1 / 3, np.float64(2 / 3), float("nan")):
        decoded = float(np.frombuffer(base64.b64decode(probes.encode(value)["float64"]), "<f8")[0])
        assert decoded == value or (math.isnan(decoded) and math.isnan(value))


def test_one_number_is_judged_as_the_visible_checks_take_it_and_nan_as_nan():
    what = ("상관계수", "the correlation")
    nan, number = {"r": Number(float("nan"), what)}, {"r": Number(0.25, what, atol=1e-5)}
    for answer in (float("nan"), np.float64("nan"), torch.tensor(float("nan")), np.array([float("nan")])):
        assert judge("t", nan, [record(answer)]) == [], answer
    for answer in (0.0, 1, float("inf"), torch.tensor(0.0)):
        assert judge("t", nan, [record(answer)]), answer
    for answer in (0.25 + 1e-6, np.float64(0.25), np.float32(0.25), torch.tensor(0.25), torch.tensor([[0.25]])):
        assert judge("t", number, [record(answer)]) == [], answer
    for answer in (0.2501, float("nan"), float("inf"), [0.25], torch.tensor([0.25, 0.25]), True, "0.25"):
        assert judge("t", number, [record(answer)] if not isinstance(answer, str) else
                     [{"test": "t", "key": "r", "texts": [answer]}]), answer
    assert judge("t", {"r": Number(1.0, what)}, [record(1)]) == []
