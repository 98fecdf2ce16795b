"""Notebook 05's hidden tests: the independent references (tools/references/trust.py) agree with the solution
(coursekit/answers/trust.py, the notebook's code) on many random inputs, ties, constant maps, NaN, curves with
ties across blocks and steps that do not divide the pixels included; each mistake switch of the references is the
mistake a student would write;
the solution passes every hidden test; each plausible mistake beyond submissions.py's table fails its test at
every grading; a float travels exactly and a NaN answer is judged as NaN.

(test_hidden_tests.py runs the notebook's own cells and submissions.py's wrong and constant answers.)"""
import base64
import copy
import json
import math
import random
from functools import lru_cache

import numpy as np
import pytest
import torch

from coursekit import probes
from coursekit.answers import trust as solution
from coursekit.sanity import reinitialise
from tools.grading import hidden
from tools.grading.hidden.expected import Number, judge
from tools.grading.hidden.trust import AREA_MISTAKES, CURVE_MISTAKES, LAYERS_TOP_DOWN, MAP_SHAPES
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
    probes.curve_model({"init_seed": 1, "gain": 3.0})
    (challenge, expected), = hidden.prepare(["replacement_curve_hidden"], 0).values()
    probes.records("replacement_curve_hidden", challenge, {"replacement_curve": solution.replacement_curve})
    assert torch.equal(torch.get_rng_state(), state)


# ---- replacement curves and their areas ------------------------------------------------------------------

def linear_model(seed, features, classes=3):
    """A seeded linear classifier of flattened pictures: any picture size, quick."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(features, classes)).eval()


def random_curve_inputs(rng):
    """A small random replacement-curve problem: (model, image, replacement, saliency, target_class, steps)."""
    channels, height, width = rng.randint(1, 3), rng.randint(1, 9), rng.randint(1, 9)
    generator = torch.Generator().manual_seed(rng.randrange(2**31))
    image = 2 * torch.randn(1, channels, height, width, generator=generator)
    replacement = torch.zeros_like(image) if rng.random() < 0.3 else torch.randn(image.shape, generator=generator)
    saliency = torch.randn(height, width, generator=generator)
    if rng.random() < 0.8:  # a few distinct values: many ties
        saliency = torch.floor(rng.choice((1, 2)) * saliency) / 2
    model = linear_model(rng.randrange(2**31), channels * height * width)
    if rng.random() < 0.3:
        model = probes.LogitsOutput(model)
    return model, image, replacement, saliency, rng.randrange(3), rng.choice((1, 2, 3, 4, 5, 7, 16, 100))


def test_reference_pixel_order_and_curve_by_hand():
    saliency = torch.tensor([[1.0, 3.0], [3.0, 2.0]])
    assert reference.pixel_order(saliency) == [1, 2, 3, 0]
    assert reference.pixel_order(saliency, ties="reversed") == [2, 1, 3, 0]
    assert reference.pixel_order(saliency, order="ascending") == [0, 3, 1, 2]
    assert reference.pixel_order(torch.zeros(2, 3), ties="column_major") == [0, 3, 1, 4, 2, 5]
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():  # logit 0 = 1 x0 + 2 x1 + 4 x2 + 8 x3, logit 1 = 0
        model[1].weight.copy_(torch.tensor([[1.0, 2, 4, 8], [0, 0, 0, 0]]))
        model[1].bias.zero_()
    ones, zeros = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    logits = np.array([15.0, 13, 9, 1, 0])  # pixels 1, 2, 3, 0 zeroed one by one
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=4),
                               1 / (1 + np.exp(-logits)), rtol=1e-6)
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=4, output="logits"),
                               logits, rtol=1e-6)
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=4, ties="reversed",
                                                           output="logits"), [15, 11, 9, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=4, cumulative=False,
                                                           output="logits"), [15, 13, 11, 7, 14], rtol=1e-6)
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=3,
                                                           output="logits"), [15, 13, 9, 0], rtol=1e-6)  # 0, 1, 2, 4
    np.testing.assert_allclose(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=3, rounding="ceil",
                                                           output="logits"), [15, 9, 1, 0], rtol=1e-6)  # 0, 2, 3, 4
    assert len(reference.replacement_curve(model, ones, zeros, saliency, 0, steps=4, points="steps")) == 4
    for shape in ((2, 2, 1), (4,), (1, 2, 2), (2, 3)):
        with pytest.raises(ValueError):
            reference.replacement_curve(model, ones, zeros, torch.zeros(shape), 0)


def test_reference_curve_agrees_with_the_solution_and_leaves_everything_as_it_was():
    rng = random.Random(9)
    for _ in range(300):
        model, image, replacement, saliency, target_class, steps = arguments = random_curve_inputs(rng)
        originals = [tensor.clone() for tensor in (image, replacement, saliency)]
        expected = reference.replacement_curve(*arguments)
        answer = solution.replacement_curve(*arguments)
        assert answer.shape == expected.shape == (steps + 1,)
        np.testing.assert_allclose(answer.double().numpy(), expected, atol=1e-6)
        assert all(torch.equal(a, b) for a, b in zip((image, replacement, saliency), originals))


def test_reference_curve_agrees_with_the_solution_on_the_toy_cnn_and_the_ends_are_the_two_pictures():
    rng = random.Random(10)
    for kind in ("deletion", "insertion", "deletion", "insertion"):
        case = {"kind": kind, "init_seed": rng.randrange(2**31), "gain": rng.uniform(2, 4),
                "picture_seed": rng.randrange(2**31), "seed": rng.randrange(2**31), "size": [64, 64], "noise": 0.1,
                "grid": rng.choice((4, 8, 16)), "levels": rng.choice((1, 2))}
        model = probes.curve_model(case)
        image, replacement, saliency = probes.replacement_inputs(case)
        assert len(saliency.unique()) < 40  # blocks of ties, and equal blocks
        before = probes.state_fingerprint(model)
        steps, target_class = rng.randint(5, 24), rng.randrange(4)
        expected = reference.replacement_curve(model, image, replacement, saliency, target_class, steps)
        answer = solution.replacement_curve(model, image, replacement, saliency, target_class, steps)
        np.testing.assert_allclose(answer.double().numpy(), expected, atol=1e-6)
        with torch.no_grad():
            ends = model(torch.cat([image, replacement])).softmax(dim=1)[:, target_class].double().numpy()
        np.testing.assert_allclose(expected[[0, -1]], ends, atol=1e-6)
        assert torch.equal(probes.state_fingerprint(model), before)


def test_reference_area_agrees_with_the_solution_and_numpy():
    rng = random.Random(11)
    for _ in range(300):
        case = {"seed": rng.randrange(2**31), "points": rng.randint(2, 50), "dtype": rng.choice(("float32", "float64"))}
        scores = probes.random_curve(case)
        expected = reference.area_under_curve(scores)
        assert expected == pytest.approx(np.trapezoid(scores.double().numpy(), dx=1 / (len(scores) - 1)), abs=1e-12)
        answer = solution.area_under_curve(scores)
        assert type(answer) is float
        assert answer == pytest.approx(expected, abs=1e-6 if case["dtype"] == "float32" else 1e-12)


def test_reference_area_by_hand():
    assert reference.area_under_curve(torch.tensor([0.0, 1.0])) == 0.5
    assert reference.area_under_curve(torch.tensor([0.0, 1.0, 0.0])) == 0.5
    assert reference.area_under_curve(torch.tensor([1.0, 1.0, 1.0, 1.0])) == 1.0
    assert reference.area_under_curve(torch.tensor([0.0, 1.0, 0.0]), rule="mean") == pytest.approx(1 / 3)
    assert reference.area_under_curve(torch.tensor([0.0, 1.0, 1.0]), rule="left") == 0.5
    assert reference.area_under_curve(torch.tensor([0.0, 1.0, 0.0]), divide_by="none") == 1.0
    assert reference.area_under_curve(torch.tensor([0.0, 1.0, 0.0]), divide_by="steps+1") == pytest.approx(1 / 3)
    for scores in (torch.tensor([0.5]), torch.zeros(0)):
        with pytest.raises(ValueError):
            reference.area_under_curve(scores)


GRADE_IDS = {"average_ranks": "average_ranks_hidden", "spearman_rank_correlation": "spearman_rank_correlation_hidden",
             "cascading_randomization": "cascading_randomization_hidden",
             "replacement_curve": "replacement_curve_hidden", "area_under_curve": "area_under_curve_hidden"}


@lru_cache(maxsize=None)
def prepared(grade_id, seed):
    """One grading's (challenge, expected), the challenge as the kernel receives it (the probes only read it)."""
    (challenge, expected), = hidden.prepare([grade_id], seed).values()
    return json.loads(json.dumps(challenge)), expected


def problems(argument, function, seed):
    grade_id = GRADE_IDS[argument]
    challenge, expected = prepared(grade_id, seed)
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


def descending(saliency):
    return saliency.flatten().argsort(descending=True, stable=True)


def column_major(saliency):
    """Equal values column by column: the transposed map's order, as row-major indices."""
    height, width = saliency.shape
    index = saliency.t().flatten().argsort(descending=True, stable=True)
    return (index % height) * width + index // height


def curve_by(order=descending, count=lambda k, pixels, steps: k * pixels // steps, cumulative=True,
             channels=slice(None), probabilities=True, points=lambda steps: steps + 1,
             check=lambda saliency, size: tuple(saliency.shape) == size, in_place=False, logits_attribute=True):
    """A replacement curve as a student might write it: one picture per step, then one forward pass."""
    def replacement_curve(model, image, replacement, saliency, target_class, steps=16):
        batch, colours, height, width = image.shape
        if not check(saliency, (height, width)):
            raise ValueError("saliency is not (H, W)")
        pixels = height * width
        ranked = order(saliency)
        pictures = []
        for k in range(points(steps)):
            first = 0 if cumulative or k == 0 else count(k - 1, pixels, steps)
            chosen = ranked[first:count(k, pixels, steps)] if cumulative or k > 0 else ranked[:0]
            picture = image if in_place else image.clone()
            picture.view(batch, colours, pixels)[:, channels, chosen] = replacement.reshape(
                batch, colours, pixels)[:, channels, chosen]
            pictures.append(picture.clone())
        with torch.no_grad():
            output = model(torch.cat(pictures))
        logits = output.logits if logits_attribute and hasattr(output, "logits") else output
        return (logits.softmax(dim=1) if probabilities else logits)[:, target_class]
    return replacement_curve


def area_by(formula, check=True):
    def area_under_curve(scores):
        if check and len(scores) < 2:
            raise ValueError("a curve needs at least two points")
        return float(formula(scores))
    return area_under_curve


# The curve's and the area's mistakes that a switch of the reference computes: the grader draws inputs until each
# of those is far from the right answer (tools/grading/hidden/trust.py), so it fails at every grading if the switch
# computes what the student's code does (test_each_mistake_switch_is_the_students_mistake).
CURVE_MISTAKE_FUNCTIONS = {
    "curve: least salient first": ({"order": "ascending"}, curve_by(
        order=lambda saliency: saliency.flatten().argsort(stable=True))),
    "curve: ties in reverse row-major order (an ascending sort flipped)": ({"ties": "reversed"}, curve_by(
        order=lambda saliency: saliency.flatten().argsort(stable=True).flip(0))),
    "curve: ties column by column": ({"ties": "column_major"}, curve_by(order=column_major)),
    "curve: only the pixels of step k replaced": ({"cumulative": False}, curve_by(cumulative=False)),
    "curve: ceil(k n / steps)": ({"rounding": "ceil"}, curve_by(
        count=lambda k, pixels, steps: math.ceil(k * pixels / steps))),
    "curve: round(k n / steps)": ({"rounding": "round"}, curve_by(
        count=lambda k, pixels, steps: round(k * pixels / steps))),
    "curve: only channel 0 replaced": ({"channels": "first"}, curve_by(channels=slice(0, 1))),
    "curve: logits": ({"output": "logits"}, curve_by(probabilities=False)),
    "curve: steps points": ({"points": "steps"}, curve_by(points=lambda steps: steps)),
}
AREA_MISTAKE_FUNCTIONS = {
    "area: the mean of the points (rectangle rule)": ({"rule": "mean"}, area_by(lambda s: s.mean())),
    "area: a left Riemann sum": ({"rule": "left"}, area_by(lambda s: s[:-1].mean())),
    "area: torch.trapezoid without dx (no division by steps)": ({"divide_by": "none"}, area_by(torch.trapezoid)),
    "area: divided by steps + 1": ({"divide_by": "steps+1"}, area_by(lambda s: torch.trapezoid(s) / len(s))),
}


def test_every_mistake_the_grader_rules_out_has_a_students_version():
    switches = [switch for switch, function in CURVE_MISTAKE_FUNCTIONS.values()]
    assert all(mistake in switches for mistake in CURVE_MISTAKES)
    assert all(mistake in [switch for switch, function in AREA_MISTAKE_FUNCTIONS.values()]
               for mistake in AREA_MISTAKES)


def test_each_mistake_switch_is_the_students_mistake():
    rng = random.Random(12)
    for _ in range(60):
        arguments = random_curve_inputs(rng)
        for name, (switch, function) in CURVE_MISTAKE_FUNCTIONS.items():
            np.testing.assert_allclose(function(*arguments).double().numpy(),
                                       reference.replacement_curve(*arguments, **switch), atol=1e-5, err_msg=name)
    for _ in range(100):
        scores = probes.random_curve({"seed": rng.randrange(2**31), "points": rng.randint(2, 40), "dtype": "float64"})
        for name, (switch, function) in AREA_MISTAKE_FUNCTIONS.items():
            assert function(scores) == pytest.approx(reference.area_under_curve(scores, **switch), abs=1e-12), name


MISTAKES = {
    **{name: ("replacement_curve", function) for name, (switch, function) in CURVE_MISTAKE_FUNCTIONS.items()},
    "curve: ties as an unstable descending sort leaves them": ("replacement_curve", curve_by(
        order=lambda saliency: saliency.flatten().argsort(descending=True))),
    "curve: only the sizes compared": ("replacement_curve", curve_by(
        check=lambda saliency, size: saliency.numel() == size[0] * size[1])),
    "curve: no shape check": ("replacement_curve", curve_by(check=lambda saliency, size: True)),
    "curve: the given image changed": ("replacement_curve", curve_by(in_place=True)),
    "curve: .logits not looked for": ("replacement_curve", curve_by(logits_attribute=False)),
    **{name: ("area_under_curve", function) for name, (switch, function) in AREA_MISTAKE_FUNCTIONS.items()},
    "area: no ValueError for one point": ("area_under_curve", area_by(
        lambda s: (s[:-1] + s[1:]).sum() / (2 * (len(s) - 1)), check=False)),  # NaN for one point
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


def test_a_results_shape_travels_as_it_is_no_dimensions_included():
    for value in (torch.tensor(0.5), np.float32(0.5), np.array(0.5), torch.tensor([0.5]), torch.zeros(2, 3)):
        assert probes.encode(value)["shape"] == list(np.shape(value)), value


def test_one_number_is_judged_as_the_visible_checks_take_it_and_nan_as_nan():
    what = ("상관계수", "the correlation")
    nan, number = {"r": Number(float("nan"), what)}, {"r": Number(0.25, what, atol=1e-5)}
    for answer in (float("nan"), np.float64("nan"), torch.tensor(float("nan")), np.array(float("nan"))):
        assert judge("t", nan, [record(answer)]) == [], answer
    for answer in (0.0, 1, float("inf"), torch.tensor(0.0), np.array([float("nan")])):
        assert judge("t", nan, [record(answer)]), answer
    for answer in (0.25 + 1e-6, np.float64(0.25), np.float32(0.25), torch.tensor(0.25)):
        assert judge("t", number, [record(answer)]) == [], answer
    for answer in (0.2501, float("nan"), float("inf"), [0.25], torch.tensor([0.25]), torch.tensor([[0.25]]),
                   torch.tensor([0.25, 0.25]), True, "0.25"):
        assert judge("t", number, [record(answer)] if not isinstance(answer, str) else
                     [{"test": "t", "key": "r", "texts": [answer]}]), answer
    assert judge("t", {"r": Number(1.0, what)}, [record(1)]) == []
