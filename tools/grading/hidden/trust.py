"""Hidden tests of 05_trust: average ranks of seeded values with many ties, Spearman's rank correlation of
seeded tied maps of random shapes (one map constant; shapes that differ), and cascading randomisation
of the toy CNN from a random initialisation, with a random seed and a random number of layers."""
import numpy as np

from coursekit.messages import particle
from coursekit.probes import state_fingerprint, tied_map_pair, tied_values, toy_cnn
from tools.grading.hidden.attention import UNCHANGED
from tools.grading.hidden.expected import Close, Number, Same
from tools.references.trust import average_ranks as reference_ranks
from tools.references.trust import cascade, spearman

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


TESTS = {"average_ranks_hidden": average_ranks, "spearman_rank_correlation_hidden": spearman_rank_correlation,
         "cascading_randomization_hidden": cascading_randomization}
