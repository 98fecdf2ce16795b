"""Hidden tests of 05_trust: average ranks of seeded values with many ties, Spearman's rank correlation of
seeded tied maps of random shapes (one map constant; shapes that differ), cascading randomisation
of the toy CNN from a random initialisation, with a random seed and a random number of layers,
replacement (deletion / insertion) curves of the trained toy CNN with a random classifier on noisy synthetic
pictures, with blockwise saliency maps full of ties and a random number of steps, and areas under seeded
curves of random lengths."""
from functools import lru_cache

import numpy as np

from coursekit.messages import particle
from coursekit.probes import (curve_model, random_curve, replacement_inputs, state_fingerprint, tied_map_pair,
                              tied_values, toy_cnn, trained_toy_cnn)
from coursekit.synthetic import CLASSES
from tools.grading.hidden.attention import UNCHANGED
from tools.grading.hidden.expected import Close, Number, Same
from tools.references.trust import area_under_curve as reference_area
from tools.references.trust import average_ranks as reference_ranks
from tools.references.trust import cascade, replacement_curve as reference_curve, spearman

MAP_SHAPES = ((7, 7), (8, 8), (14, 14), (3, 20), (20, 3), (64,))
SAME_SIZE_SHAPES = ((7, 7), (8, 8), (14, 14), (3, 20), (4, 16))  # each with another shape of as many entries
CORRELATION_TOLERANCE = 1e-5  # a float32 computation is well within; every mistake below is far outside
MISTAKE_MARGIN = 1e-3         # how far at least one map pair puts each plausible mistake from the answer
SPEARMAN_MISTAKES = ({"method": "textbook"}, {"method": "raw_pearson"}, {"ties": "ordinal"}, {"ties": "lowest"})
LAYERS_TOP_DOWN = ("fc", "layer4", "layer3", "layer2", "layer1", "conv1")  # the toy CNN's, output first


def average_ranks(rng):
    cases = [
        {"name": "relu", "seed": rng.randrange(2**31), "shape": [rng.randint(30, 150)], "relu": True,
         "levels": rng.choice((1, 2, 4)), "dtype": "float32"},
        {"name": "signed", "seed": rng.randrange(2**31), "shape": [rng.randint(10, 60)], "relu": False,
         "levels": rng.choice((1, 2)), "dtype": "float64"},
        {"name": "distinct", "seed": rng.randrange(2**31), "shape": [rng.randint(5, 40)], "relu": False,
         "levels": None, "dtype": "float32"},
        {"name": "constant", "shape": [rng.randint(2, 20)], "constant": round(rng.uniform(-3, 3), 3),
         "dtype": "float32"},
    ]
    descriptions = {"relu": ("ReLU를 거친 값 (0이 많음)", "values after a ReLU (many zeros)"),
                    "signed": ("같은 값이 많은 양수와 음수", "positive and negative values with many ties"),
                    "distinct": ("모두 다른 값", "distinct values"),
                    "constant": ("모두 같은 값", "all equal values")}
    expected = {}
    for case in cases:
        korean, english = descriptions[case["name"]]
        size = case["shape"][0]
        expected[f"{case['name']}/ranks"] = Close(reference_ranks(tied_values(case)),
                                                  (f"{korean} {size}개의 순위", f"the ranks of {size} {english}"),
                                                  atol=1e-6)
        expected[f"{case['name']}/input_unchanged"] = UNCHANGED
    expected["float64"] = Same(True, "bool", ("순위가 float64 텐서인가", "the ranks returned as a float64 tensor"))
    return {"cases": cases}, expected


def _pair_case(rng, name, constant=None):
    case = {"name": name, "seed": rng.randrange(2**31), "shape": list(rng.choice(MAP_SHAPES)),
            "mix": round(rng.uniform(-0.95, 0.95), 3), "relu": rng.random() < 0.7, "levels": rng.choice((1, 2, 3))}
    if constant is not None:
        case["constant"] = constant
    return case


def _same(a, b):
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= MISTAKE_MARGIN


def _tells_apart(pairs):
    """Whether every plausible mistake is far from the right answer on at least one of these (non-constant) pairs."""
    return all(any(not _same(spearman(*maps, **mistake), spearman(*maps)) for maps in pairs)
               for mistake in SPEARMAN_MISTAKES)


def _mismatched_shapes(rng):
    """Two cases of maps whose shapes differ: with as many entries (e.g. 7 x 7 and 49), and with a different number."""
    rows, cols = rng.choice(SAME_SIZE_SHAPES)
    size = rows * cols
    same_size = [[size], [1, size]] + ([[cols, rows]] if rows != cols else []) + ([[size // 2, 2]] if size % 2 == 0 else [])
    other_size = [[rows, cols + 1], [rows + 1, cols], [size + 1]]
    cases = []
    for name, alternatives in (("same_size", same_size), ("other_size", other_size)):
        shapes = [[rows, cols], rng.choice(alternatives)]
        if rng.random() < 0.5:
            shapes.reverse()
        cases.append({"name": name, "seed": rng.randrange(2**31), "shapes": shapes, "relu": True, "levels": 2})
    return cases


def spearman_rank_correlation(rng):
    while True:
        cases = [_pair_case(rng, f"pair{i}") for i in (1, 2, 3)]
        if _tells_apart([tied_map_pair(case) for case in cases]):
            break
    cases.append(_pair_case(rng, "constant", constant=rng.randrange(2)))
    expected = {}
    for case in cases:
        shape = tuple(case["shape"])
        if "constant" in case:
            which = ("첫째", "first") if case["constant"] == 0 else ("둘째", "second")
            what = (f"모양이 {particle(shape, '이고/고')} {which[0]} 맵이 상수(모두 0)인 두 맵의 상관계수",
                    f"the correlation of two maps of shape {shape}, the {which[1]} one constant (all zeros)")
        else:
            what = (f"모양이 {particle(shape, '인/인')} 두 맵({case['name']})의 상관계수",
                    f"the correlation of two maps of shape {shape} ({case['name']})")
        expected[f"{case['name']}/correlation"] = Number(spearman(*tied_map_pair(case)), what,
                                                         atol=CORRELATION_TOLERANCE)
        expected[f"{case['name']}/inputs_unchanged"] = UNCHANGED
    mismatched = _mismatched_shapes(rng)
    for case in mismatched:
        first, second = map(tuple, case["shapes"])
        expected[f"{case['name']}/raises_value_error"] = Same(
            True, "bool", (f"모양이 {particle(first, '과/와')} {particle(second, '으로/로')} 다른 두 맵에 ValueError를 냈는가",
                           f"ValueError for maps of different shapes {first} and {second}"))
        expected[f"{case['name']}/inputs_unchanged"] = UNCHANGED
    return {"cases": cases, "mismatched": mismatched}, expected


def cascading_randomization(rng):
    cases = [{"name": "given_seed", "init_seed": rng.randrange(2**31), "seed": rng.randrange(1, 10**6),
              "layers": list(LAYERS_TOP_DOWN[:rng.randint(2, len(LAYERS_TOP_DOWN))])},
             {"name": "default_seed", "init_seed": rng.randrange(2**31),
              "layers": list(LAYERS_TOP_DOWN[:rng.randint(2, len(LAYERS_TOP_DOWN))])}]
    expected = {}
    for case in cases:
        name, layers = case["name"], case["layers"]
        settings = (f"seed={case['seed']}", f"seed={case['seed']}") if "seed" in case else ("seed 기본값", "the default seed")
        maps = cascade(toy_cnn(case), layers, state_fingerprint, seed=case.get("seed", 0))
        expected[f"{name}/names"] = Same(["original", *layers], "texts",
                                         (f"돌려준 dict의 키 ({settings[0]})", f"the keys of the returned dict ({settings[1]})"))
        for step, layer in enumerate(["original", *layers]):
            what = ((f"원래 모델의 설명 ({settings[0]})", f"the explanation of the original model ({settings[1]})")
                    if step == 0 else
                    (f"{particle(', '.join(layers[:step]), '을/를')} 다시 초기화한 모델의 설명 ({settings[0]})",
                     f"the explanation with {', '.join(layers[:step])} re-initialised ({settings[1]})"))
            expected[f"{name}/map[{layer}]"] = Close(maps[layer].numpy(), what, rtol=1e-9)
        expected[f"{name}/model_after"] = Close(state_fingerprint(toy_cnn(case)).numpy(),
                                                (f"함수를 부른 뒤 주어진 모델의 상태 ({settings[0]})",
                                                 f"the given model after the call, which must not change ({settings[1]})"),
                                                rtol=1e-9)
    return {"cases": cases}, expected


# ---- replacement curves ------------------------------------------------------------------------------------

PICTURE_SIZE = 64              # the synthetic pictures'
PICTURE_NOISE = 0.1            # std of the noise added to a picture in [-1, 1]: every pixel differs from its blur
CLASSIFIER_GAINS = (2.0, 4.0)  # the random classifier's scale, uniform: probabilities neither flat nor saturated
SALIENCY_GRIDS = (4, 8, 16)    # cells per side of the saliency map: blocks of 16 x 16, 8 x 8 or 4 x 4 equal pixels
SALIENCY_LEVELS = (1, 2)       # its values are multiples of 1 / levels: equal blocks side by side too
STEPS = (5, 24)                # steps of the two cases that give it, uniform (most do not divide 64 * 64)
DEFAULT_STEPS = 16
CROPS = ((40, 64), (64, 40), (32, 56), (56, 32), (48, 24), (24, 48))  # the wrong-shape cases: pictures not square
CURVE_TOLERANCE = 1e-5    # float32 probabilities, batched one way or another, are well within
CURVE_MARGIN = 1e-4       # how far at least one case puts each plausible mistake from the right curve
CURVE_SPAN = 0.05         # each right curve moves at least this much: the softmax is neither flat nor saturated
CURVE_MISTAKES = ({"order": "ascending"}, {"ties": "reversed"}, {"ties": "column_major"}, {"cumulative": False},
                  {"rounding": "ceil"}, {"rounding": "round"}, {"channels": "first"}, {"output": "logits"})
KINDS = {"deletion": ("원래 그림을 0으로 바꿔 가는 삭제", "deletion, from the picture to zeros"),
         "insertion": ("흐린 그림을 원래 그림으로 바꿔 가는 삽입", "insertion, from the blurred picture to the picture")}


def _model_and_picture(rng, kind, size):
    return {"kind": kind, "init_seed": rng.randrange(2**31), "gain": round(rng.uniform(*CLASSIFIER_GAINS), 3),
            "picture_seed": rng.randrange(2**31), "seed": rng.randrange(2**31), "size": list(size),
            "noise": PICTURE_NOISE, "class": rng.randrange(len(CLASSES))}


def _curve_case(rng, name, kind, steps):
    case = {"name": name, **_model_and_picture(rng, kind, (PICTURE_SIZE, PICTURE_SIZE)),
            "grid": rng.choice(SALIENCY_GRIDS), "levels": rng.choice(SALIENCY_LEVELS), "logits_attribute": False}
    if steps is not None:
        case["steps"] = steps
    return case


_trained_cnn = lru_cache(maxsize=1)(trained_toy_cnn)  # loaded once per process: curve_model copies it


def _curve_arguments(case):
    """What the reference takes for a case: the model (as curve_model builds it: its logits), the inputs, class, steps."""
    return (curve_model(case, _trained_cnn()), *replacement_inputs(case), case["class"],
            case.get("steps", DEFAULT_STEPS))


def _moving_curves(cases):
    """(arguments, right curves) of the cases, or None as soon as one curve moves less than CURVE_SPAN."""
    arguments, curves = [], []
    for case in cases:
        arguments.append(_curve_arguments(case))
        curves.append(reference_curve(*arguments[-1]))
        if np.ptp(curves[-1]) < CURVE_SPAN:
            return None
    return arguments, curves


def _curves_tell_apart(arguments, curves):
    """Whether every plausible mistake is at least CURVE_MARGIN from the right curve in at least one case."""
    return all(any(np.abs(reference_curve(*case_arguments, **mistake) - curve).max() > CURVE_MARGIN
                   for case_arguments, curve in zip(arguments, curves))
               for mistake in CURVE_MISTAKES)


def _wrong_shape_cases(rng):
    """Two saliency maps of the wrong shape for a picture that is not square: (W, H), and another of the same size
    or not; each with a model, a picture and steps, in case the code goes on without a ValueError."""
    height, width = rng.choice(CROPS)
    others = [[1, height, width], [height * width], [height, width, 1], [height, width + 1], [height - 1, width]]
    return [{"name": name, **_model_and_picture(rng, rng.choice(tuple(KINDS)), (height, width)),
             "saliency_shape": shape, "steps": rng.randint(*STEPS)}
            for name, shape in (("transposed", [width, height]), ("other_shape", rng.choice(others)))]


def replacement_curve(rng):
    while True:
        cases = [_curve_case(rng, "deletion", "deletion", rng.randint(*STEPS)),
                 _curve_case(rng, "insertion", "insertion", rng.randint(*STEPS)),
                 _curve_case(rng, "default_steps", rng.choice(tuple(KINDS)), None)]
        rng.choice(cases)["logits_attribute"] = True
        computed = _moving_curves(cases)
        if computed is not None and _curves_tell_apart(*computed):
            curves = computed[1]
            break
    expected = {}
    for case, curve in zip(cases, curves):
        korean, english = KINDS[case["kind"]]
        settings_ko = [f"steps={case['steps']}" if "steps" in case else "steps 기본값", f"클래스 {case['class']}"]
        settings_en = [f"steps={case['steps']}" if "steps" in case else "the default steps", f"class {case['class']}"]
        if case["logits_attribute"]:
            settings_ko.append("모델이 .logits가 있는 객체를 돌려줌")
            settings_en.append("the model returns an object with .logits")
        label_ko = f"{korean} 곡선 ({', '.join(settings_ko)})"
        label_en = f"the curve of {english} ({', '.join(settings_en)})"
        expected[f"{case['name']}/curve"] = Close(curve, (label_ko, label_en), atol=CURVE_TOLERANCE)
        expected[f"{case['name']}/model_after"] = Close(
            state_fingerprint(curve_model(case, _trained_cnn())).numpy(),
            (f"{particle(label_ko, '을/를')} 계산한 뒤 주어진 모델의 상태",
             f"the given model after {label_en}, which must not change"), rtol=1e-9)
        expected[f"{case['name']}/inputs_unchanged"] = UNCHANGED
    wrong_shapes = _wrong_shape_cases(rng)
    for case in wrong_shapes:
        shape, size = tuple(case["saliency_shape"]), tuple(case["size"])
        expected[f"{case['name']}/raises_value_error"] = Same(
            True, "bool", (f"saliency의 모양 {particle(shape, '이/가')} "
                           f"그림의 (H, W) = {particle(size, '과/와')} 다를 때 ValueError를 냈는가",
                           f"ValueError for a saliency map of shape {shape} and a picture of (H, W) = {size}"))
    return {"cases": cases, "wrong_shapes": wrong_shapes}, expected


# ---- areas under curves ------------------------------------------------------------------------------------

CURVE_LENGTHS = (2, 40)   # points per curve, uniform
AREA_TOLERANCE = 1e-6     # a float32 sum of at most 40 values in [0, 1] is well within
AREA_MARGIN = 1e-3        # how far at least one curve puts each plausible mistake from the right area
AREA_MISTAKES = ({"rule": "mean"}, {"rule": "left"}, {"divide_by": "none"}, {"divide_by": "steps+1"})


def _areas_tell_apart(curves):
    return all(any(abs(reference_area(curve, **mistake) - reference_area(curve)) > AREA_MARGIN for curve in curves)
               for mistake in AREA_MISTAKES)


def area_under_curve(rng):
    while True:
        cases = [{"name": f"curve{i}", "seed": rng.randrange(2**31), "points": rng.randint(*CURVE_LENGTHS),
                  "dtype": rng.choice(("float32", "float64"))} for i in range(1, 6)]
        if _areas_tell_apart([random_curve(case) for case in cases]):
            break
    expected = {}
    for case in cases:
        points, dtype = case["points"], case["dtype"]
        expected[f"{case['name']}/area"] = Number(
            reference_area(random_curve(case)),
            (f"점이 {points}개인 {dtype} 곡선({case['name']})의 넓이",
             f"the area under a {dtype} curve of {points} points ({case['name']})"),
            atol=AREA_TOLERANCE)
        expected[f"{case['name']}/input_unchanged"] = UNCHANGED
    too_short = [{"name": "one_point", "seed": rng.randrange(2**31), "points": 1, "dtype": "float32"},
                 {"name": "no_point", "seed": rng.randrange(2**31), "points": 0, "dtype": "float32"}]
    for case in too_short:
        expected[f"{case['name']}/raises_value_error"] = Same(
            True, "bool", (f"점이 {case['points']}개인 곡선에 ValueError를 냈는가",
                           f"ValueError for a curve of {case['points']} point{'s' if case['points'] != 1 else ''}"))
    return {"cases": cases, "too_short": too_short}, expected


TESTS = {"average_ranks_hidden": average_ranks, "spearman_rank_correlation_hidden": spearman_rank_correlation,
         "cascading_randomization_hidden": cascading_randomization, "replacement_curve_hidden": replacement_curve,
         "area_under_curve_hidden": area_under_curve}
