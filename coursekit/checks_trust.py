"""Visible checks for notebook 05 (can we trust an explanation?): toy inputs whose answers are
written out below, then properties that hold for any values and a tiny model built here.

average_ranks (RANK_CASES): rank 1 is the smallest value; equal values share the mean of the ranks
they span.

    [0.3, -1.2, 0.7, 0.1]              -> [3, 1, 4, 2]          (argsort + 1 would be [2, 4, 1, 3])
    [10, 20, 20, 30] (int64)           -> [1, 2.5, 2.5, 4]      (20 and 20 span ranks 2 and 3)
    [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]     -> [4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5]
        sorted 1 1 | 2 | 3 3 | 4 | 5 5 | 6 | 9 at ranks 1-2 | 3 | 4-5 | 6 | 7-8 | 9 | 10
    [0.5, -1.0, 0.5, 0.5, 2.0]         -> [3, 1, 3, 3, 5]       (the three 0.5 span ranks 2, 3, 4)
    [7, 7, 7, 7]                       -> [2.5, 2.5, 2.5, 2.5]  (the mean of 1..4)

Without tie averaging (argsort().argsort() + 1) the second case gives [1, 2, 3, 4]. For any values,
rank_i = 1 + #{j: v_j < v_i} + (#{j: v_j = v_i} - 1) / 2: that is checked on 64 seeded values in 0..5.

spearman_rank_correlation (SPEARMAN_CASES): Pearson's correlation of the average ranks of the flattened
maps, rho = sum(a' b') / sqrt(sum(a'^2) sum(b'^2)) with a', b' the ranks minus their mean (3.5 here).

    no ties: a = [[0.1, 0.9, 0.3], [0.2, 0.5, 0.4]]  ranks (1, 6, 3, 2, 5, 4)
             b = [[2, 30, 1], [4, 3, 5]]             ranks (2, 6, 1, 4, 3, 5)
        d = (-1, 0, 2, -2, 2, -1), sum d^2 = 14: rho = 1 - 6 * 14 / (6 * 35) = 0.6
        (without ties the textbook formula 1 - 6 sum d^2 / (n (n^2 - 1)) is exact);
        Pearson's correlation of the raw values (the outlier 30) is 0.878073 instead.
    ties (zeros, as in a ReLU'd Grad-CAM map):
             a = [[0, 0, 0.2], [0.6, 0, 0.4]]        ranks (2, 2, 4, 6, 2, 5)      a' = (-1.5, -1.5, .5, 2.5, -1.5, 1.5)
             b = [[0, 0.1, 0], [0.5, 0.3, 0.2]]      ranks (1.5, 3, 1.5, 6, 5, 4)  b' = (-2, -.5, -2, 2.5, 1.5, .5)
        sum a' b' = 7.5, sum a'^2 = 15.5, sum b'^2 = 17: rho = 7.5 / sqrt(263.5) = 0.462031.
        The textbook formula gives 1 - 6 * 17.5 / 210 = 0.5 (d = (.5, -1, 2.5, 0, -3, 1)), ranks without
        tie averaging in index order (1, 2, 4, 6, 3, 5) and (1, 3, 2, 6, 5, 4) give 12.5 / 17.5 = 0.714286,
        and the raw values give 0.651751.

For any map m: rho(m, m) = 1, rho(m, -m) = -1 exactly, also with ties (the ranks of -m are n + 1 minus
those of m; the textbook formula gives 1 - 6 * 62 / 210 = -0.771429 for the tied map a above), and
rho(m, m ** 2) = 1 for m >= 0 (the order is the same; the raw values' correlation is 0.962300).
A constant map (an all-zero Grad-CAM) orders nothing: rho is NaN. Maps of different shapes raise
ValueError, also (2, 8) and (4, 4), which flatten to the same length.

cascading_randomization: a tiny model (features.conv -> features.bn -> ReLU -> pool -> fc) with "trained"
weights and BatchNorm statistics, LAYER_NAMES = (fc, features.bn, features.conv) from the output down, and
an `explain` that records the state of those layers in the model it is given. Step i must see layers
0..i-1 re-initialised, each holding what torch.manual_seed(seed + k); reinitialise(copy of layer k) gives,
and the other layers as trained; checked for seed=0 (the default) and seed=5.
The BatchNorm's re-initialisation draws no random numbers (weight 1, bias 0, fresh statistics), so seeding
once before the loop makes fc right and the conv (the third draw) wrong.

replacement_curve (CURVE_CASES): a two-class linear model whose logits are (0, z), z = b + the sum of every
value of the picture (all weights 1), so the probability of class 1 is sigmoid(z) and that of class 0 is
sigmoid(-z). Taking pixel p from `replacement` changes z by d_p, the sum over the channels of
replacement - image at p; pixels are numbered in row-major order.

    A, 1 x 1 x 2 x 2, deletion (replacement all 0), b = -1, target_class 1, steps = 4:
        image [[0.5, -1.0], [2.0, 1.5]] (z = 3 - 1 = 2), d = (-0.5, 1.0, -2.0, -1.5)
        saliency [[0.1, 0.4], [0.9, 0.3]]: order 2, 1, 3, 0; k * 4 // 4 = k pixels
        z = 2, 0, 1, -0.5, -1  ->  p = 0.880797, 0.500000, 0.731059, 0.377541, 0.268941
        least salient first (order 0, 3, 1, 2):      z = 2, 1.5, 0, 1, -1
        only the k-th pixel replaced (not cumulative): z = 2, 0, 3, 0.5, 1.5
        image and replacement swapped:               z = -1, 1, 0, 1.5, 2
        and the logits z themselves instead of p.
    B, 1 x 2 x 2 x 3, insertion from an all-0 picture, b = -1, target_class 1, steps = 4 (does not divide 6):
        replacement channel 0 [[0.5, 1.0, -0.5], [0.5, 1.0, 0.5]], channel 1 [[0.5, -0.5, -0.5], [1.0, 1.0, -1.0]]
        d = (1.0, 0.5, -1.0, 1.5, 2.0, -0.5); channel 0 alone (0.5, 1.0, -0.5, 0.5, 1.0, 0.5)
        saliency [[0.5, 0.2, 0.5], [0.2, 0.5, 0.0]]: ties, so the order is 0, 2, 4 | 1, 3 | 5
        pixels replaced k * 6 // 4 = 0, 1, 3, 4, 6 (1.5 and 4.5 rounded down)
        z = -1, 0, 1, 1.5, 2.5  ->  p = 0.268941, 0.500000, 0.731059, 0.817574, 0.924142
        ties in reverse order (argsort().flip(0): 4, 2, 0 | 3, 1 | 5): z = -1, 1, 1, 2.5, 2.5
        k * 6 / 4 rounded up (0, 2, 3, 5, 6):                           z = -1, -1, 1, 3, 2.5
        rounded to the nearest (0, 2, 3, 4, 6; round(1.5) = 2, round(4.5) = 4): z = -1, -1, 1, 1.5, 2.5
        k * (6 // 4) = 0, 1, 2, 3, 4 (two pixels never replaced):       z = -1, 0, -1, 1, 1.5
        np.array_split's chunks of 2, 2, 1, 1 (0, 2, 4, 5, 6):          z = -1, -1, 1.5, 3, 2.5
        channel 0 only:                                                 z = -1, -0.5, 0, 1, 2
        least salient first (5, 1, 3, 0, 2, 4):                         z = -1, -1.5, 0.5, 1.5, 2.5
        only the k-th chunk replaced ({0}, {2, 4}, {1}, {3, 5}):        z = -1, 0, 0, -0.5, 0
    C, A for target_class 0 with the default steps = 16 (more steps than pixels): k * 4 // 16 = k // 4, so
        each of A's first four points comes four times, then its last: 1 - p = sigmoid(-z) =
        0.119203 (x4), 0.500000 (x4), 0.268941 (x4), 0.622459 (x4), 0.731059.
        Class 1's probability gives 1 - these; the sigmoid of the target logit (0) gives 0.5 everywhere.
    D, A with a model that returns, as the ViT does, an object holding the logits as .logits: A's curve.

A (2, 2) saliency for B's 2 x 3 picture and a (1, 2, 2) saliency for A's (as many values as pixels) raise
ValueError. image, replacement, saliency and the model (weights, eval mode, hooks) must be left as given.

area_under_curve (AUC_CASES): steps + 1 = len(s) points at 0, 1/steps, ..., 1; the trapezoids
(s[k] + s[k+1]) / 2 added up and divided by steps.

    [1, 0]                      -> 0.5 / 1                    = 0.5
    [1, 1, 0]                   -> (1 + 0.5) / 2              = 0.75
    [0, 1, 0, 1, 1]             -> (.5 + .5 + .5 + 1) / 4     = 0.625
    [0.9, 0.6, 0.3, 0.2, 0.1]   -> (.75 + .45 + .25 + .15) / 4 = 0.4
    (k / 16)^2, k = 0..16       -> 1/3 + (1/16)^2 / 6 = 1/3 + 1/1536 = 0.333984 (the trapezoid rule's error
                                   for x^2 is h^2 / 6)
Mistakes, in the same order: the mean of the points 0.5 (right there), 0.666667, 0.6, 0.42, 0.34375;
the trapezoids not divided by steps (torch.trapezoid without dx: the area over [0, steps]) 0.5 (right),
1.5, 2.5, 1.6, 5.34375; divided by steps + 1 instead: 0.25, 0.5, 0.5, 0.32, 0.314338; rectangles on the
left ends 1, 1, 0.5, 0.5, 0.302734 and on the right ends 0, 0.5, 0.75, 0.3, 0.365234.
One point (and none) raises ValueError. The area may come back as a float or a tensor of shape () (not (1,): later cells format it).

tests/test_trust_checks.py recomputes every number above with an independent pure-Python implementation.
"""
import copy
import math
import warnings
from collections import OrderedDict

import torch
from torch import nn

from coursekit import checks
from coursekit.hooks import count_hooks
from coursekit.messages import particle
from coursekit.sanity import reinitialise

try:  # the answers of this notebook: in a student's release they are withheld, then nothing is refused
    import coursekit.answers.trust as shipped_answers
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.trust":
        raise
    shipped_answers = None

# ---- average_ranks ------------------------------------------------------------------------------

RANK_CASES = (  # ((Korean, English) name, values, dtype, ranks)
    (("동점이 없는 값", "values without ties"), [0.3, -1.2, 0.7, 0.1], torch.float32, [3, 1, 4, 2]),
    (("[10, 20, 20, 30] (정수)", "[10, 20, 20, 30] (integers)"), [10, 20, 20, 30], torch.int64, [1, 2.5, 2.5, 4]),
    (("원주율의 숫자들", "the digits of pi"), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], torch.float32,
     [4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5]),
    (("같은 값이 세 개", "three equal values"), [0.5, -1.0, 0.5, 0.5, 2.0], torch.float64, [3, 1, 3, 3, 5]),
    (("모두 같은 값", "all values equal"), [7.0, 7.0, 7.0, 7.0], torch.float32, [2.5, 2.5, 2.5, 2.5]),
)
MANY_TIES_SEED = 5  # 64 values drawn from 0..5 with this generator seed: every value occurs many times

_RANK_HINTS = {
    "zero_based": ("순위는 1부터 시작합니다 (가장 작은 값이 1위). 0부터 센 순위에 1을 더하세요.",
                   "ranks start at 1 (the smallest value has rank 1), not 0: add 1"),
    "argsort": ("argsort()는 정렬된 순서대로 놓인 원소의 위치이지 순위가 아닙니다. 순위는 그 역순열입니다: "
                "values.argsort().argsort() + 1 (그다음 동점 처리).",
                "argsort() gives the positions of the entries in sorted order, not their ranks; the ranks are its "
                "inverse permutation, values.argsort().argsort() + 1 (then handle ties)"),
    "ties_split": ("같은 값에는 같은 순위를 줘야 합니다: 그 값들이 차지하는 순위들의 평균입니다 "
                   "([10, 20, 20, 30] → [1, 2.5, 2.5, 4]). argsort().argsort()는 동점을 임의의 순서로 갈라 놓습니다.",
                   "equal values must share one rank, the mean of the ranks they span ([10, 20, 20, 30] -> "
                   "[1, 2.5, 2.5, 4]); argsort().argsort() breaks ties in some arbitrary order"),
    "ties_not_mean": ("같은 값들이 같은 순위를 받았지만, 그 순위는 그 값들이 차지하는 순위들의 평균이어야 합니다 "
                      "(2위와 3위 → 2.5). 가장 낮은 순위, 가장 높은 순위, 빈틈 없이 센(dense) 순위가 아닙니다.",
                      "equal values share a rank, but it must be the MEAN of the ranks they span (ranks 2 and 3 -> "
                      "2.5), not the lowest, the highest or a dense count"),
    "recipe": ("값 v_i의 순위 = 1 + (v_i보다 작은 값의 수) + (v_i와 같은 다른 값의 수) / 2 입니다.",
               "the rank of v_i is 1 + (how many values are smaller) + (how many other values equal it) / 2"),
}


def check_average_ranks(average_ranks):
    """Visible checks for `average_ranks(values)` -> float64 (n,) ranks 1..n, ties sharing their mean rank."""
    with _refusing_shipped(average_ranks, "average_ranks"):
        _check_rank_cases(average_ranks)
    checks.passed("average_ranks")


def _refusing_shipped(answer, name):
    """checks.refusing_reference for this notebook's own answer module, which a student's release withholds."""
    return checks.refusing_reference(answer, shipped_answers, name)


def _check_rank_cases(average_ranks):
    for name, values, dtype, expected in RANK_CASES:
        _expect_ranks(average_ranks, torch.tensor(values, dtype=dtype), expected, name)
    many = torch.randint(0, 6, (64,), generator=torch.Generator().manual_seed(MANY_TIES_SEED)).double()
    _expect_ranks(average_ranks, many, _counted_ranks(many), ("같은 값이 많은 64개의 값", "64 values with many ties"))


def _counted_ranks(values):
    """rank_i = 1 + #{j: v_j < v_i} + (#{j: v_j = v_i} - 1) / 2, by counting (O(n^2), fine for a check)."""
    smaller = (values[None, :] < values[:, None]).sum(dim=1).double()
    equal = (values[None, :] == values[:, None]).sum(dim=1).double()
    return 1 + smaller + (equal - 1) / 2


def _expect_ranks(average_ranks, original, expected, name):
    korean, english = name
    names = (f"{korean}의 순위", f"ranks of {english}")
    given = original.clone()
    ranks = checks.call_with_hint(average_ranks, given, hint=(
        "values는 (n,) 모양의 1차원 텐서입니다 (정수 텐서일 수도 있습니다).",
        "values is a 1-D (n,) tensor (possibly of integers)"))
    checks.expect_unchanged([given], [original], "values")
    checks.expect_shape(ranks, original.shape, names)
    if ranks.dtype != torch.float64:
        checks.fail(f"{names[0]}의 dtype은 torch.float64여야 하는데 {ranks.dtype}입니다. 동점이면 2.5 같은 순위가 "
                    "나오므로 .double()로 만드세요.",
                    f"{names[1]} must have dtype torch.float64, got {ranks.dtype}: tied values get ranks like 2.5, "
                    "so build them with .double()")
    checks.expect_close(ranks, expected, names, atol=1e-9, rtol=0, hint=_diagnose_ranks(ranks, original, expected))


def _diagnose_ranks(ranks, values, expected):
    """The hint (ko, en) for the mistake that gives these ranks."""
    got = ranks.detach().double()
    expected = torch.as_tensor(expected, dtype=torch.float64)
    values = values.double()
    if torch.allclose(got, expected - 1):
        return _RANK_HINTS["zero_based"]
    equal = values[None, :] == values[:, None]
    if not bool(equal.sum() > len(values)):  # no ties: the order is unambiguous
        order = values.argsort().double()
        if torch.allclose(got, order + 1) or torch.allclose(got, order):
            return _RANK_HINTS["argsort"]
        return _RANK_HINTS["recipe"]
    if bool((equal & (got[None, :] != got[:, None])).any()):
        return _RANK_HINTS["ties_split"]
    return _RANK_HINTS["ties_not_mean"]


# ---- spearman_rank_correlation ------------------------------------------------------------------

_NO_TIES = (("동점이 없는 2×3 맵", "2 x 3 maps without ties"),
            [[0.1, 0.9, 0.3], [0.2, 0.5, 0.4]], [[2.0, 30.0, 1.0], [4.0, 3.0, 5.0]])
_TIES = (("0이 여럿인 (동점) 2×3 맵", "2 x 3 maps with tied zeros"),
         [[0.0, 0.0, 0.2], [0.6, 0.0, 0.4]], [[0.0, 0.1, 0.0], [0.5, 0.3, 0.2]])
SPEARMAN_CASES = (  # ((Korean, English) name, map_a, map_b, rho)
    (*_NO_TIES, 0.6),
    (*_TIES, 7.5 / math.sqrt(15.5 * 17)),  # 0.462031
)
SPEARMAN_MISTAKES = {  # case (English name) -> {mistake: the rho it gives}
    _NO_TIES[0][1]: {"raw_values": 0.878073},
    _TIES[0][1]: {"textbook": 0.5, "ordinal": 12.5 / 17.5, "raw_values": 0.651751},
}
TEXTBOOK_NEGATIVE = 1 - 6 * 62 / 210  # the textbook formula for rho(a, -a), a the tied map: -0.771429
MISMATCHED_SHAPES = (((7, 7), (8, 8)), ((2, 8), (4, 4)))

_SPEARMAN_HINTS = {
    "raw_values": ("원래 값의 Pearson 상관입니다. Spearman은 순서만 씁니다: 두 맵을 펼친(flatten) 뒤 average_ranks로 "
                   "순위를 매기고, 그 순위들의 Pearson 상관을 구하세요.",
                   "that is Pearson's correlation of the raw values; Spearman uses only the order: rank both flattened "
                   "maps with average_ranks, then take the Pearson correlation of the ranks"),
    "textbook": ("교과서 공식 1 - 6Σd² / (n(n² - 1))의 값입니다. 이 공식은 동점이 없을 때만 맞습니다. 평균 순위의 "
                 "Pearson 상관을 직접 계산하세요.",
                 "that is the textbook formula 1 - 6 sum d^2 / (n (n^2 - 1)), which holds only without ties: compute "
                 "the Pearson correlation of the average ranks"),
    "ordinal": ("동점을 평균 순위로 처리하지 않은 순위(argsort().argsort())의 상관입니다. 실습 1의 average_ranks를 쓰세요.",
                "that is the correlation of ranks without tie averaging (argsort().argsort()): use exercise 1's "
                "average_ranks"),
    "recipe": ("두 맵을 펼쳐 각각 average_ranks로 순위를 매기고, 순위에서 평균을 뺀 a', b'로 "
               "Σa'b' / √(Σa'² · Σb'²)를 계산하세요.",
               "flatten both maps, rank each with average_ranks, subtract the mean ranks (a', b') and compute "
               "sum(a' b') / sqrt(sum(a'^2) * sum(b'^2))"),
}
_SPEARMAN_CALL_HINT = ("맵은 2차원입니다 (예: (2, 3)). 순위를 매기기 전에 .flatten()으로 펼치세요.",
                       "the maps are 2-D (e.g. (2, 3)): flatten them (.flatten()) before ranking them")


def check_spearman_rank_correlation(spearman_rank_correlation):
    """Visible checks for `spearman_rank_correlation(map_a, map_b)` -> float (NaN for a constant map)."""
    with _refusing_shipped(spearman_rank_correlation, "spearman_rank_correlation"), \
            checks.blaming_earlier_exercise(spearman_rank_correlation, "average_ranks", _check_rank_cases, exercise=1):
        for name, map_a, map_b, expected in SPEARMAN_CASES:
            rho = _call_spearman(spearman_rank_correlation, torch.tensor(map_a), torch.tensor(map_b), name)
            _expect_number(rho, expected, name, _diagnose_spearman(rho, name[1]))
        _check_spearman_properties(spearman_rank_correlation)
        _check_constant_maps(spearman_rank_correlation)
        _check_mismatched_shapes(spearman_rank_correlation)
    checks.passed("spearman_rank_correlation")


def _call_spearman(spearman_rank_correlation, map_a, map_b, name, error_hint=None):
    """Call the answer on copies, check it left them alone and warned nothing; return its result as a float.

    With an error_hint (ko, en), any exception the answer raises (an `assert` too) fails with that hint.
    """
    given = [map_a.clone(), map_b.clone()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if error_hint is None:
            rho = checks.call_with_hint(spearman_rank_correlation, *given, hint=_SPEARMAN_CALL_HINT)
        else:
            try:
                rho = spearman_rank_correlation(*given)
            except Exception as error:
                korean, english = checks.name_pair(name)
                checks.fail(f"{korean}에서 {particle(type(error).__name__, '이/가')} 났습니다. {error_hint[0]}",
                            f"{english} raised {type(error).__name__}: {error}. {error_hint[1]}")
    checks.expect_unchanged(given, [map_a, map_b], "(map_a, map_b)")
    rho = _as_number(rho, name, _CORRCOEF_HINT)
    if caught:
        _fail_on_warning(caught[0], name, constant=error_hint is not None)
    return rho


_CORRCOEF_HINT = ("torch.corrcoef는 2×2 행렬을 주므로 [0, 1]을 고르세요.", "torch.corrcoef gives a 2 x 2 matrix: take [0, 1]")


def _as_number(value, name, hint):
    """What the answer returned, as a float: a number, or a tensor or array of no dimensions (shape ()).

    A tensor of shape (1,) is refused: the notebook prints results with f"{value:.3f}", which a
    0-d tensor allows and a (1,) tensor does not. The hint (ko, en) says where a result of several
    elements usually comes from.
    """
    korean, english = checks.name_pair(name)
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) > 1:
        checks.fail(f"{korean}: 숫자 하나를 돌려줘야 하는데 원소가 {math.prod(shape)}개인 {shape} 모양의 "
                    f"{type(value).__name__}입니다. {hint[0]}",
                    f"{english}: return one number, got a {type(value).__name__} of {math.prod(shape)} elements, "
                    f"shape {shape} ({hint[1]})")
    if shape:
        checks.fail(f"{korean}: 숫자 하나를 돌려줘야 하는데 모양이 {shape}인 {type(value).__name__}입니다. "
                    f"{hint[0]} 원소 하나짜리는 float(...)로 바꿔 돌려주세요 (뒤의 셀들이 이 값을 "
                    "f\"{값:.3f}\"처럼 출력합니다).",
                    f"{english}: return one number, got a {type(value).__name__} of shape {shape} ({hint[1]}; "
                    "of one element, return float(...) of it: later cells print the value with f\"{value:.3f}\")")
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        checks.fail(f"{korean}: 숫자(float) 하나를 돌려줘야 하는데 {type(value).__name__} {value!r}입니다.",
                    f"{english}: return one number (a float), got {type(value).__name__} {value!r}")


def _fail_on_warning(warning, name, constant):
    """A warning in a graded cell costs the cell its points (nbgrader reads stderr): none are allowed."""
    korean, english = checks.name_pair(name)
    what = f"{warning.category.__name__}: {warning.message}"
    korean_hint, english_hint = ("상수 맵인지 먼저 확인하고 경고 없이 float('nan')을 돌려주세요.",
                                 "test for a constant map first and return float('nan') without a warning") \
        if constant else ("경고가 나지 않게 고치세요.", "change the code so that it warns nothing")
    checks.fail(f"{korean}: 함수가 경고를 냈습니다 ({what}). 채점 셀에서 경고는 점수를 잃게 합니다. {korean_hint}",
                f"{english}: the function emitted a warning ({what}); a warning costs a graded cell its points: "
                f"{english_hint}")


def _expect_number(rho, expected, name, hint=("", "")):
    """rho must be within 1e-5 of the expected value (NaN only where NaN is expected)."""
    if math.isnan(expected) and math.isnan(rho) or abs(rho - expected) <= 1e-5:
        return
    (korean, english), (korean_hint, english_hint) = checks.name_pair(name), hint
    want = "nan" if math.isnan(expected) else f"{expected:.6g}"
    checks.fail(f"{korean}: 값은 {particle(want, '이어야/여야')} 하는데 {rho:.6g}입니다. {korean_hint}".rstrip(),
                f"wrong value for {english}: expected {want}, got {rho:.6g}. {english_hint}".rstrip())


def _diagnose_spearman(rho, case):
    for mistake, value in SPEARMAN_MISTAKES[case].items():
        if abs(rho - value) <= 1e-5:
            return _SPEARMAN_HINTS[mistake]
    return _SPEARMAN_HINTS["recipe"]


_NEGATIVE_HINTS = {
    "textbook": ("교과서 공식 1 - 6Σd²/(n(n²-1))의 값입니다. 이 공식은 동점이 있으면 틀립니다: 평균 순위의 Pearson 상관을 "
                 "계산하세요.",
                 "that is the textbook formula 1 - 6 sum d^2 / (n (n^2 - 1)), which is wrong with ties: compute the "
                 "Pearson correlation of the average ranks"),
    "other": ("-m의 순위는 n + 1 - (m의 순위)이므로 동점이 있어도 상관은 정확히 -1입니다 (절댓값을 취하지 마세요).",
              "the ranks of -m are n + 1 minus those of m, so the correlation is exactly -1, ties or not (do not take "
              "its absolute value)"),
}


def _check_spearman_properties(spearman_rank_correlation):
    """rho(m, m) = 1, rho(m, -m) = -1 and rho(m, m ** 2) = 1 (m >= 0) for the tied map m."""
    tied = torch.tensor(_TIES[1])
    name = ("같은 맵끼리", "a map and itself")
    _expect_number(_call_spearman(spearman_rank_correlation, tied, tied, name), 1.0, name)

    name = ("맵과 그 부호를 바꾼 맵 (동점 있음)", "a map and its negative (with ties)")
    rho = _call_spearman(spearman_rank_correlation, tied, -tied, name)
    _expect_number(rho, -1.0, name, _NEGATIVE_HINTS["textbook" if abs(rho - TEXTBOOK_NEGATIVE) <= 1e-5 else "other"])

    name = ("맵과 그 제곱 (m ≥ 0이라 순서가 같음)", "a map and its square (m >= 0: the same order)")
    _expect_number(_call_spearman(spearman_rank_correlation, tied, tied ** 2, name), 1.0, name, (
        "순서가 같으니 Spearman 상관은 1입니다. 원래 값이 아니라 순위의 상관을 구하세요.",
        "the order is the same, so Spearman's correlation is 1: correlate the ranks, not the raw values"))


def _check_constant_maps(spearman_rank_correlation):
    """Either map constant (e.g. an all-zero Grad-CAM map): the result must be NaN, with no error or warning."""
    varied = torch.tensor(_TIES[1])
    zeros, flat = torch.zeros_like(varied), torch.full_like(varied, 0.25)
    hint = ("상수 맵은 아무 순서도 주지 않으므로 상관이 정의되지 않습니다: 순위의 편차가 0이면 float('nan')을 돌려주세요.",
            "a constant map orders nothing, so the correlation is undefined: when either map's ranks have zero "
            "spread, return float('nan')")
    for map_a, map_b, korean, english in ((zeros, varied, "map_a가 모두 0", "map_a all zeros"),
                                          (varied, flat, "map_b가 모두 0.25", "map_b all 0.25"),
                                          (zeros, zeros, "두 맵 모두 0", "both maps all zeros")):
        name = (f"상수 맵 ({korean})", f"a constant map ({english})")
        rho = _call_spearman(spearman_rank_correlation, map_a, map_b, name, error_hint=hint)
        _expect_number(rho, math.nan, name, hint)


def _check_mismatched_shapes(spearman_rank_correlation):
    """Maps of different shapes are an error (ValueError), also when they hold as many values."""
    for shape_a, shape_b in MISMATCHED_SHAPES:
        map_a = torch.arange(math.prod(shape_a), dtype=torch.float32).reshape(shape_a)
        map_b = torch.arange(math.prod(shape_b), dtype=torch.float32).flip(0).reshape(shape_b)
        same_length = ((" 두 맵은 펼치면 길이가 같으므로 shape 자체를 비교해야 합니다 (map_a.shape != map_b.shape).",
                        " they flatten to the same length, so compare the shapes themselves "
                        "(map_a.shape != map_b.shape)") if map_a.numel() == map_b.numel() else ("", ""))
        shapes = f"{shape_a}, {shape_b}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spearman_rank_correlation(map_a, map_b)
        except ValueError:
            continue
        except Exception as error:
            checks.fail(f"shape이 다른 맵 {shapes}에는 ValueError가 나야 하는데 {particle(type(error).__name__, '이/가')} "
                        f"났습니다. raise ValueError(...)를 쓰세요.{same_length[0]}",
                        f"maps of different shapes {shapes} must raise ValueError, got {type(error).__name__}: "
                        f"use raise ValueError(...).{same_length[1]}")
        checks.fail(f"shape이 다른 맵 {shapes}인데 오류가 나지 않았습니다. shape이 다르면 ValueError를 내세요.{same_length[0]}",
                    f"maps of different shapes {shapes} raised no error: raise ValueError when the shapes differ."
                    f"{same_length[1]}")


# ---- cascading_randomization --------------------------------------------------------------------

LAYER_NAMES = ("fc", "features.bn", "features.conv")  # from the output towards the input
CASCADE_SEEDS = (None, 5)  # None: the default seed (0)
_MODEL_SEED = 2018  # the tiny model's "trained" weights, drawn from a generator of their own


def tiny_cascade_model():
    """features (conv -> bn -> relu) -> pool -> flatten -> fc, with "trained" weights and statistics, eval mode."""
    model = nn.Sequential(OrderedDict(
        features=nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, kernel_size=3, padding=1), bn=nn.BatchNorm2d(2),
                                           relu=nn.ReLU())),
        pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(2, 3)))
    generator = torch.Generator().manual_seed(_MODEL_SEED)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.randn(value.shape, generator=generator))
        model.features.bn.running_var.abs_().add_(0.5)
        model.features.bn.num_batches_tracked.fill_(100)
    return model.eval()


def _same_state(state, other):
    return state.keys() == other.keys() and all(torch.equal(state[key], other[key]) for key in state)


class _RecordingExplain:
    """An `explain` that records, for each call, whether it got the original model and the state of each layer.

    It returns a small tensor (the call number and each layer's sum): every call's map differs from the others.
    """

    def __init__(self, original, layer_names):
        self.original, self.layer_names = original, layer_names
        self.calls, self.maps = [], []

    def __call__(self, model):
        if not isinstance(model, nn.Module):
            checks.fail(f"explain은 모델(nn.Module)로 불러야 하는데 {type(model).__name__}로 불렸습니다.",
                        f"explain must be called with the model (an nn.Module), got {type(model).__name__}")
        states = {name: checks.snapshot_state(model.get_submodule(name)) for name in self.layer_names}
        self.calls.append((model is self.original, states))
        sums = [sum(float(value.double().sum()) for value in state.values()) for state in states.values()]
        self.maps.append(torch.tensor([float(len(self.maps)), *sums], dtype=torch.float64))
        return self.maps[-1]


def check_cascading_randomization(cascading_randomization):
    """Visible checks for `cascading_randomization(model, layer_names, explain, seed=0)` -> {"original": map, ...}."""
    with _refusing_shipped(cascading_randomization, "cascading_randomization"), torch.random.fork_rng(devices=[]):
        for seed in CASCADE_SEEDS:
            _check_cascade(cascading_randomization, seed)
    checks.passed("cascading_randomization")


def _check_cascade(cascading_randomization, seed):
    model = tiny_cascade_model()
    state, hooks = checks.snapshot_state(model), count_hooks(model)
    originals = {name: checks.snapshot_state(model.get_submodule(name)) for name in LAYER_NAMES}
    reinitialised = {name: _reinitialised_state(model.get_submodule(name), (seed or 0) + step)
                     for step, name in enumerate(LAYER_NAMES)}
    explain = _RecordingExplain(model, LAYER_NAMES)
    torch.manual_seed(12345)  # an answer that never seeds draws from here: not what any seed + i gives
    arguments = {} if seed is None else {"seed": seed}
    maps = checks.call_with_hint(cascading_randomization, model, list(LAYER_NAMES), explain, **arguments, hint=(
        "확인용 작은 모델의 층 이름에는 점이 있습니다 ('features.conv'): model.get_submodule(name)으로 찾으세요.",
        "the tiny check model's layer names contain dots ('features.conv'): find them with model.get_submodule(name)"))
    _expect_model_kept(model, state, hooks)
    _expect_keys(maps)
    _expect_explain_calls(explain)
    for step, (_, seen) in enumerate(explain.calls):
        _expect_step_state(seen, step, originals, reinitialised, seed)
    for step, key in enumerate(maps):
        _expect_map_of_step(maps[key], explain.maps[step], key, step)


def _reinitialised_state(layer, seed):
    """What torch.manual_seed(seed); reinitialise(layer) gives, on a copy of the layer."""
    fresh = copy.deepcopy(layer)
    torch.manual_seed(seed)
    reinitialise(fresh)
    return checks.snapshot_state(fresh)


def _expect_model_kept(model, state, hooks):
    for key, value in model.state_dict().items():
        if not torch.equal(value, state[key]):
            checks.fail(f"주어진 모델의 '{key}' 값이 바뀌었습니다. 주어진 모델은 학습된 그대로 두고, "
                        "copy.deepcopy(model)로 만든 복사본의 층을 다시 초기화하세요.",
                        f"the given model's '{key}' changed: leave the trained model as it is and re-initialise the "
                        "layers of a copy, copy.deepcopy(model)")
    checks.expect_eval_mode(model)
    checks.expect_no_hooks(model, before=hooks)


def _expect_keys(maps):
    expected = ["original", *LAYER_NAMES]
    if not isinstance(maps, dict):
        checks.fail(f"{{'original': 맵, 층 이름: 맵, ...}} 모양의 dict를 돌려줘야 하는데 {type(maps).__name__}입니다.",
                    f"return a dict {{'original': map, layer name: map, ...}}, got {type(maps).__name__}")
    keys = list(maps)
    if keys == expected:
        return
    if "original" not in keys:
        hint = ("'original' 항목이 없습니다: 첫 항목은 아무 층도 바꾸기 전 복사본의 맵이고, 키는 'original'입니다.",
                "the 'original' entry is missing: the first entry is the map of the unchanged copy, under the key "
                "'original'")
    elif sorted(map(str, keys)) == sorted(expected) and keys[1:] == expected[:0:-1]:
        hint = ("층을 아래(입력 쪽)부터 바꿨습니다. layer_names는 출력 쪽부터 주어지므로 주어진 순서대로 위에서 아래로 진행하세요.",
                "you went bottom-up: layer_names lists the layers from the output down, so go through them in the "
                "given order (top-down)")
    elif sorted(map(str, keys)) == sorted(expected):
        hint = ("키의 순서가 다릅니다: 'original' 다음에 layer_names의 순서대로 넣으세요 (dict는 넣은 순서를 기억합니다).",
                "the keys are in another order: 'original', then layer_names in the given order (a dict keeps the "
                "order of insertion)")
    else:
        hint = ("키는 'original'과 layer_names의 이름 그대로여야 합니다.",
                "the keys are 'original' and the names in layer_names, as given")
    checks.fail(f"dict의 키는 {expected}이어야 하는데 {keys}입니다. {hint[0]}",
                f"the dict's keys must be {expected}, got {keys}. {hint[1]}")


def _expect_explain_calls(explain):
    for number, (is_original, _) in enumerate(explain.calls[1:], 2):  # 'original' may explain the model itself
        if is_original:
            checks.fail(f"explain이 주어진 모델 자체로 불렸습니다 ({number}번째 호출). 층을 바꾼 뒤의 단계에서는 "
                        "다시 초기화하는 복사본으로 explain을 부르세요.",
                        f"explain was called with the given model itself (call {number}): after a layer is "
                        "re-initialised, call it with the copy you re-initialise")
    expected = len(LAYER_NAMES) + 1
    if len(explain.calls) != expected:
        checks.fail(f"explain은 'original'에 한 번, 층을 하나 바꿀 때마다 한 번씩, 모두 {expected}번 불려야 하는데 "
                    f"{len(explain.calls)}번 불렸습니다. 맵 하나를 여러 항목에 다시 쓰지 마세요.",
                    f"explain must be called once for 'original' and once after each layer, {expected} times here; "
                    f"it was called {len(explain.calls)} time(s): do not reuse one map for several entries")


def _expect_map_of_step(value, made, key, step):
    """maps[key] must be the map that explain returned at that step (call step + 1)."""
    if isinstance(value, torch.Tensor) and value.shape == made.shape and torch.equal(value.detach().cpu(), made):
        return
    checks.fail(f"maps['{key}']는 {step + 1}번째 explain 호출이 돌려준 맵 그대로여야 합니다 "
                "(그 단계에서 explain을 부르고, 돌려받은 맵을 바꾸지 말고 넣으세요).",
                f"maps['{key}'] must be the map that explain returned at that step (call {step + 1}), as it is")


def _expect_step_state(seen, step, originals, reinitialised, seed):
    """At explain call i + 1 (step i; step 0 is 'original') layers 0..i-1 hold their seeded re-initialisation
    and the others are as trained."""
    names = list(LAYER_NAMES)
    changed = [name for name in names if not _same_state(seen[name], originals[name])]
    wanted = names[:step]
    key = "original" if step == 0 else names[step - 1]
    where = (f"{step + 1}번째 explain 호출('{key}' 단계)에서", f"at explain call {step + 1} (step '{key}')")
    if changed == wanted:
        wrong = [name for name in changed if not _same_state(seen[name], reinitialised[name])]
        if not wrong:
            return
        index = names.index(wrong[0])
        given = f"seed={seed}" if seed is not None else "seed 기본값 0"
        given_en = f"seed={seed}" if seed is not None else "the default seed 0"
        checks.fail(f"{where[0]} '{wrong[0]}' 층의 값이 torch.manual_seed(seed + {index}); reinitialise(...)가 주는 값과 "
                    f"다릅니다 ({given}). 층 i를 다시 초기화하기 바로 전에 torch.manual_seed(seed + i)를 부르세요 "
                    "(반복문 앞에서 한 번만이 아니라).",
                    f"{where[1]} layer '{wrong[0]}' does not hold what torch.manual_seed(seed + {index}); "
                    f"reinitialise(...) gives ({given_en}): call torch.manual_seed(seed + i) right before "
                    "re-initialising layer i (not once before the loop)")
    if step == 0:
        hint = ("'original' 맵은 어떤 층도 바꾸기 전에 만들어야 합니다.",
                "the 'original' map must be made before any layer is re-initialised")
    elif not changed:
        hint = ("explain이 받은 모델의 층이 하나도 바뀌지 않았습니다: explain에 넘기는 바로 그 복사본의 층을 다시 초기화하세요.",
                "no layer of the model explain got was re-initialised: re-initialise the layers of the very copy "
                "you pass to explain")
    elif step > 1 and changed == [names[step - 1]]:
        hint = ("누적되지 않았습니다: 단계마다 새 복사본을 만들지 말고, 한 복사본에서 층을 하나씩 더 바꿔 나가세요 "
                "(단계 i에서는 층 0..i가 모두 다시 초기화된 상태).",
                "the randomisation is not cumulative: do not start from a fresh copy at each step; keep "
                "re-initialising one more layer of the same copy (at step i layers 0..i are all re-initialised)")
    elif changed == names[len(names) - step:]:
        hint = ("층을 아래(입력 쪽)부터 바꿨습니다. layer_names는 출력 쪽부터 주어지므로 주어진 순서대로 진행하세요.",
                "you went bottom-up: layer_names lists the layers from the output down, so go through them in the "
                "given order")
    else:
        hint = ("단계 i에서는 layer_names[:i+1]만 다시 초기화되어 있어야 합니다.",
                "at step i exactly layer_names[:i+1] are re-initialised")
    checks.fail(f"{where[0]} 다시 초기화된 층은 {wanted}이어야 하는데 {changed}입니다. {hint[0]}",
                f"{where[1]} the re-initialised layers must be {wanted}, got {changed}. {hint[1]}")


# ---- replacement_curve --------------------------------------------------------------------------

_PICTURE_A = {"image": [[[0.5, -1.0], [2.0, 1.5]]], "replacement": [[[0.0, 0.0], [0.0, 0.0]]],
              "saliency": [[0.1, 0.4], [0.9, 0.3]], "bias": -1.0}
_CURVE_A = [2.0, 0.0, 1.0, -0.5, -1.0]  # z at each point (the logit of class 1)
_PICTURE_B = {"image": [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]],
              "replacement": [[[0.5, 1.0, -0.5], [0.5, 1.0, 0.5]], [[0.5, -0.5, -0.5], [1.0, 1.0, -1.0]]],
              "saliency": [[0.5, 0.2, 0.5], [0.2, 0.5, 0.0]], "bias": -1.0}
_NAME_A = ("2×2 그림 (한 채널, 삭제)", "the 2 x 2 picture (one channel, deletion)")
_NAME_B = ("2×3 그림 (두 채널, 동점이 있는 saliency, steps=4는 픽셀 수 6을 나누지 못함)",
           "the 2 x 3 picture (two channels, tied saliency, steps = 4 not dividing its 6 pixels)")
CURVE_CASES = (  # each: name (Korean, English), picture, target_class, steps (None: the default), z, logits_attribute
    {"name": _NAME_A, **_PICTURE_A, "target_class": 1, "steps": 4, "z": _CURVE_A, "logits_attribute": False},
    {"name": _NAME_B, **_PICTURE_B, "target_class": 1, "steps": 4, "z": [-1.0, 0.0, 1.0, 1.5, 2.5],
     "logits_attribute": False},
    {"name": ("2×2 그림, 클래스 0, steps 기본값 16 (픽셀보다 많음)",
              "the 2 x 2 picture for class 0 with the default 16 steps (more steps than pixels)"),
     **_PICTURE_A, "target_class": 0, "steps": None, "z": [z for z in _CURVE_A[:4] for _ in range(4)] + _CURVE_A[4:],
     "logits_attribute": False},
    {"name": ("2×2 그림, 출력이 .logits를 가진 객체인 모델 (ViT처럼)",
              "the 2 x 2 picture, the model's output an object with .logits (as the ViT's)"),
     **_PICTURE_A, "target_class": 1, "steps": 4, "z": _CURVE_A, "logits_attribute": True},
)
CURVE_MISTAKES = {  # case (English name) -> {mistake: the z it gives at each point}; the first that matches is named
    _NAME_A[1]: {"ascending": [2.0, 1.5, 0.0, 1.0, -1.0], "not_cumulative": [2.0, 0.0, 3.0, 0.5, 1.5],
                 "swapped": [-1.0, 1.0, 0.0, 1.5, 2.0]},
    _NAME_B[1]: {"ties_reversed": [-1.0, 1.0, 1.0, 2.5, 2.5], "ceil": [-1.0, -1.0, 1.0, 3.0, 2.5],
                 "round": [-1.0, -1.0, 1.0, 1.5, 2.5], "k_times_chunk": [-1.0, 0.0, -1.0, 1.0, 1.5],
                 "array_split": [-1.0, -1.0, 1.5, 3.0, 2.5], "channel_0": [-1.0, -0.5, 0.0, 1.0, 2.0],
                 "ascending": [-1.0, -1.5, 0.5, 1.5, 2.5], "not_cumulative": [-1.0, 0.0, 0.0, -0.5, 0.0]},
}
COUNT_MISTAKES = {  # B (n = 6, steps = 4): the pixels replaced at each point, and how they were counted
    "ceil": ((0, 2, 3, 5, 6), ("k * n / steps를 올림", "k * n / steps rounded up")),
    "round": ((0, 2, 3, 4, 6), ("k * n / steps를 반올림", "k * n / steps rounded to the nearest")),
    "k_times_chunk": ((0, 1, 2, 3, 4), ("k * (n // steps): 마지막 점에서도 픽셀 2개가 남음",
                                        "k * (n // steps): two pixels are never replaced")),
    "array_split": ((0, 2, 4, 5, 6), ("np.array_split처럼 앞 묶음을 크게", "chunks as np.array_split cuts them, "
                                                                         "the first ones larger")),
}
WRONG_SALIENCY_SHAPES = ((_NAME_B, (2, 2)), (_NAME_A, (1, 2, 2)))  # (picture, saliency shape): ValueError

_CURVE_HINTS = {
    "ascending": ("픽셀은 saliency가 큰 것부터 바꿉니다 (가장 중요한 픽셀 먼저): argsort(descending=True, stable=True).",
                  "pixels are replaced in DESCENDING order of saliency (the most salient first): "
                  "argsort(descending=True, stable=True)"),
    "ties_reversed": ("saliency가 같은 픽셀끼리는 행 우선(row-major) 번호가 작은 것이 먼저입니다: "
                      "argsort(descending=True, stable=True)를 쓰세요. 오름차순 argsort를 뒤집으면(flip) 동점의 순서도 "
                      "뒤집힙니다.",
                      "pixels of equal saliency go in row-major order, the smaller number first: use "
                      "argsort(descending=True, stable=True); flipping an ascending argsort reverses the ties too"),
    "not_cumulative": ("k번째 점에서는 순서대로 앞의 k * n // steps개 픽셀이 모두 바뀌어 있어야 합니다: 바뀐 픽셀은 점마다 "
                       "늘어납니다 (k번째 묶음만 바꾸지 마세요).",
                       "at point k ALL the first k * n // steps pixels of the order are replaced: the replaced set "
                       "grows from point to point (not only the k-th chunk)"),
    "swapped": ("image와 replacement가 뒤바뀌었습니다: 첫 점은 image 그대로, 마지막 점은 replacement이고, 순서대로 바뀌는 "
                "픽셀은 replacement에서 가져옵니다.",
                "image and replacement are swapped: point 0 is image as it is, the last point is replacement, and "
                "the replaced pixels come from replacement"),
    "channel_0": ("한 픽셀을 바꿀 때는 모든 채널을 함께 바꿉니다. 그림을 C*H*W로 펼쳐 픽셀 번호로 고르면 채널 0만 바뀝니다: "
                  "(1, 1, H, W) 마스크로 torch.where를 쓰면 채널로 broadcast됩니다.",
                  "replace all channels of a pixel together: indexing the picture flattened to C*H*W with pixel "
                  "numbers replaces channel 0 only; a (1, 1, H, W) mask in torch.where broadcasts over the channels"),
    "logits": ("logit이 아니라 softmax 확률을 기록하세요: output.softmax(dim=1)[:, target_class].",
               "record the softmax probability, not the logit: output.softmax(dim=1)[:, target_class]"),
    "other_class": ("다른 클래스의 확률입니다: 클래스 번호를 고정하지 말고 target_class 열을 고르세요 ([:, target_class]).",
                    "that is the other class's probability: take the column target_class ([:, target_class]), do "
                    "not fix a class"),
    "sigmoid": ("target_class logit의 sigmoid는 softmax 확률이 아닙니다: 모든 클래스의 logit으로 softmax(dim=1)를 계산한 "
                "뒤 target_class 열을 고르세요.",
                "the sigmoid of the target class's logit is not its softmax probability: take softmax(dim=1) over "
                "all the classes' logits, then the column target_class"),
    "softmax_dim": ("softmax는 클래스 축(dim=1)으로 계산합니다. dim=0은 그림들(배치)의 축입니다.",
                    "take the softmax over the classes (dim=1): dim=0 runs over the pictures of the batch"),
    "first": ("첫 점(k = 0)은 아무 픽셀도 바꾸지 않은 image 그대로의 확률입니다.",
              "point 0 is the probability of image as it is, no pixel replaced"),
    "last": ("마지막 점(k = steps)은 모든 픽셀을 바꾼 그림, 곧 replacement의 확률입니다 (k * n // steps = n).",
             "the last point (k = steps) is the probability of the picture with every pixel replaced, i.e. of "
             "replacement (k * n // steps = n)"),
    "recipe": ("순서는 saliency.flatten().argsort(descending=True, stable=True)입니다. k번째 그림은 그 순서로 앞의 "
               "k * n // steps개 픽셀(모든 채널)을 replacement에서, 나머지를 image에서 가져오고, 점 k는 그 그림에서 "
               "target_class의 softmax 확률입니다.",
               "the order is saliency.flatten().argsort(descending=True, stable=True); picture k takes the first "
               "k * n // steps pixels of that order (all channels) from replacement and the rest from image, and "
               "point k is the softmax probability of target_class for picture k"),
}
_CURVE_CALL_HINT = ("image와 replacement는 (1, C, H, W), saliency는 (H, W)입니다. 모델은 (K, C, H, W) 배치를 받아 "
                    "(K, 클래스 수)의 logit을 돌려주거나, ViT처럼 그것을 .logits에 담은 객체를 돌려줍니다: "
                    "getattr(output, 'logits', output)은 둘 다 받습니다.",
                    "image and replacement are (1, C, H, W), saliency is (H, W); the model takes a batch (K, C, H, W) "
                    "and returns (K, classes) logits, or (as the ViT) an object holding them as .logits: "
                    "getattr(output, 'logits', output) takes both")


class _ClassifierOutput:
    """What a Hugging Face classifier (the course's ViT) returns, reduced to what the course reads: .logits."""

    def __init__(self, logits):
        self.logits = logits


class _LinearClassifier(nn.Module):
    """Two classes with logits (0, bias + the sum of every value of the picture), for pictures of `size` values."""

    def __init__(self, size, bias, logits_attribute=False):
        super().__init__()
        self.linear = nn.Linear(size, 2)
        self.logits_attribute = logits_attribute
        with torch.no_grad():
            self.linear.weight.copy_(torch.stack([torch.zeros(size), torch.ones(size)]))
            self.linear.bias.copy_(torch.tensor([0.0, bias]))

    def forward(self, pictures):
        logits = self.linear(pictures.flatten(start_dim=1))
        return _ClassifierOutput(logits) if self.logits_attribute else logits


def tiny_linear_classifier(case):
    """The two-class linear model of a CURVE_CASES entry, in eval mode."""
    channels, height, width = torch.tensor(case["image"]).shape
    return _LinearClassifier(channels * height * width, case["bias"], case["logits_attribute"]).eval()


def curve_probabilities(case):
    """The probabilities of the case's target class: sigmoid(z) for class 1, sigmoid(-z) for class 0."""
    sign = 1 if case["target_class"] == 1 else -1
    return [1 / (1 + math.exp(-sign * z)) for z in case["z"]]


def check_replacement_curve(replacement_curve):
    """Visible checks for `replacement_curve(model, image, replacement, saliency, target_class, steps=16)`."""
    with _refusing_shipped(replacement_curve, "replacement_curve"):
        for case in CURVE_CASES:
            _check_curve_case(replacement_curve, case)
        _check_saliency_shapes(replacement_curve)
    checks.passed("replacement_curve")


def _case_tensors(case):
    """(image, replacement, saliency) of a case: (1, C, H, W), (1, C, H, W), (H, W)."""
    return torch.tensor([case["image"]]), torch.tensor([case["replacement"]]), torch.tensor(case["saliency"])


def _check_curve_case(replacement_curve, case):
    model = tiny_linear_classifier(case)
    state, hooks = checks.snapshot_state(model), count_hooks(model)
    originals = _case_tensors(case)
    given = checks.snapshot_tensors(originals)
    arguments = {} if case["steps"] is None else {"steps": case["steps"]}
    hint = _CURVE_CALL_HINT
    if case["logits_attribute"]:
        hint = ("이 모델은 ViT처럼 logit을 텐서가 아니라 .logits에 담은 객체로 돌려줍니다: "
                "logits = getattr(output, 'logits', output)은 두 경우를 모두 받습니다.",
                "this model returns, as the ViT does, an object holding the logits as .logits rather than a tensor: "
                "logits = getattr(output, 'logits', output) takes both")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = checks.call_with_hint(replacement_curve, model, *given, case["target_class"], **arguments, hint=hint)
    checks.expect_unchanged(given, originals, "(image, replacement, saliency)")
    checks.expect_no_hooks(model, before=hooks)
    checks.expect_eval_mode(model)
    checks.expect_state_unchanged(model, state)
    if caught:
        _fail_on_warning(caught[0], case["name"], constant=False)
    _expect_curve(curve, case)


def _expect_curve(curve, case):
    korean, english = case["name"]
    names = (f"{korean}의 곡선", f"the curve of {english}")
    expected = curve_probabilities(case)
    steps = len(expected) - 1
    if isinstance(curve, (list, tuple)):
        checks.fail(f"{names[0]}: torch.Tensor를 돌려줘야 하는데 {type(curve).__name__}입니다. 점들을 "
                    "torch.stack(...)으로 모으세요.",
                    f"{names[1]}: return a torch.Tensor, got a {type(curve).__name__}: gather the points with "
                    "torch.stack(...)")
    checks.expect_tensor(curve, names)
    if tuple(curve.shape) == (steps,):
        _fail_one_point_short(curve, expected, names)
    checks.expect_shape(curve, (steps + 1,), names)
    checks.expect_finite(curve, names)
    checks.expect_close(curve, expected, names, atol=1e-5, rtol=0, hint=_diagnose_curve(curve, case, expected))


def _close(got, values):
    return len(got) == len(values) and all(abs(a - b) <= 1e-5 for a, b in zip(got, values))


def _fail_one_point_short(curve, expected, names):
    """steps points instead of steps + 1: say which end is missing."""
    got, steps = curve.detach().double().tolist(), len(expected) - 1
    if _close(got, expected[1:]):
        hint = ("첫 점(k = 0, image 그대로)이 빠졌습니다: k는 0부터 steps까지입니다 (range(steps + 1)).",
                "point 0 (image as it is) is missing: k runs from 0 to steps (range(steps + 1))")
    elif _close(got, expected[:-1]):
        hint = ("마지막 점(k = steps, replacement 그대로)이 빠졌습니다: range(steps)는 steps 앞에서 멈춥니다. "
                "range(steps + 1)을 쓰세요.",
                "the last point (k = steps, replacement as it is) is missing: range(steps) stops before steps; use "
                "range(steps + 1)")
    else:
        hint = ("곡선에는 k = 0, 1, ..., steps의 steps + 1개 점이 있습니다.",
                "the curve has steps + 1 points, k = 0, 1, ..., steps")
    checks.fail(f"{names[0]}의 shape은 {particle((steps + 1,), '이어야/여야')} 하는데 {(steps,)}입니다. {hint[0]}",
                f"wrong shape for {names[1]}: expected {(steps + 1,)}, got {(steps,)}. {hint[1]}")


def _diagnose_curve(curve, case, expected):
    """The hint (ko, en) for the mistake that gives this curve."""
    got = curve.detach().double().tolist()
    target_logits = [z if case["target_class"] == 1 else 0.0 for z in case["z"]]
    if _close(got, target_logits):
        return _CURVE_HINTS["logits"]
    if _close(got, [1 - p for p in expected]):
        return _CURVE_HINTS["other_class"]
    if _close(got, [1 / (1 + math.exp(-logit)) for logit in target_logits]):
        return _CURVE_HINTS["sigmoid"]
    if _close(got, [1.0] * len(got)) or abs(sum(got) - 1) <= 1e-5:
        return _CURVE_HINTS["softmax_dim"]
    for mistake, z in CURVE_MISTAKES.get(case["name"][1], {}).items():
        if _close(got, curve_probabilities({**case, "z": z})):
            return _count_hint(mistake, case) if mistake in COUNT_MISTAKES else _CURVE_HINTS[mistake]
    if abs(got[0] - expected[0]) > 1e-5:
        return _CURVE_HINTS["first"]
    if abs(got[-1] - expected[-1]) > 1e-5:
        return _CURVE_HINTS["last"]
    return _CURVE_HINTS["recipe"]


def _count_hint(mistake, case):
    counts, (korean, english) = COUNT_MISTAKES[mistake]
    pixels, steps = torch.tensor(case["saliency"]).numel(), case["steps"]
    right = ", ".join(str(k * pixels // steps) for k in range(steps + 1))
    got = ", ".join(map(str, counts))
    return (f"점 k에서 바뀐 픽셀의 수는 정확히 k * n // steps (내림)입니다. 픽셀 n = {pixels}개, "
            f"{particle(f'steps = {steps}', '이면/면')} "
            f"{right}인데, 이 곡선은 {got}개를 바꿨습니다 ({korean}).",
            f"point k has exactly k * n // steps pixels replaced (rounded down): with n = {pixels} pixels and "
            f"steps = {steps} that is {right}, but this curve replaced {got} ({english})")


def _check_saliency_shapes(replacement_curve):
    """A saliency map that is not the picture's (H, W) raises ValueError, also when it holds as many values."""
    cases = {case["name"]: case for case in CURVE_CASES}
    for picture, shape in WRONG_SALIENCY_SHAPES:
        case = cases[picture]
        image, replacement, _ = _case_tensors(case)
        saliency = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
        size = "×".join(map(str, image.shape[-2:]))
        same = ((f" {shape} 맵은 그림의 픽셀 수만큼 값을 가지므로 원소 수가 아니라 shape 자체를 비교하세요 "
                 "(saliency.shape != image.shape[-2:]).",
                 f" a {shape} map holds as many values as the picture has pixels, so compare the shapes themselves, "
                 "not their numbers of elements (saliency.shape != image.shape[-2:])")
                if saliency.numel() == image.shape[-2] * image.shape[-1] else ("", ""))
        where = (f"{size} 그림에 {shape} saliency를 주", f"a {shape} saliency for a {size.replace('×', ' x ')} picture")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                replacement_curve(tiny_linear_classifier(case), image, replacement, saliency, case["target_class"],
                                  steps=2)
        except ValueError:
            continue
        except Exception as error:
            checks.fail(f"{where[0]}면 ValueError가 나야 하는데 {particle(type(error).__name__, '이/가')} 났습니다. "
                        f"두 shape을 적어 raise ValueError(...)를 쓰세요.{same[0]}",
                        f"{where[1]} must raise ValueError, got {type(error).__name__}: use raise ValueError(...) "
                        f"naming both shapes.{same[1]}")
        checks.fail(f"{where[0]}었는데 오류가 나지 않았습니다. saliency가 그림의 (H, W)가 아니면 ValueError를 내세요.{same[0]}",
                    f"{where[1]} raised no error: raise ValueError when saliency is not the picture's (H, W)."
                    f"{same[1]}")


# ---- area_under_curve ---------------------------------------------------------------------------

_TWO_POINTS = (("두 점 [1, 0]", "two points [1, 0]"), [1.0, 0.0])
_THREE_POINTS = (("세 점 [1, 1, 0]", "three points [1, 1, 0]"), [1.0, 1.0, 0.0])
_FIVE_POINTS = (("다섯 점 [0, 1, 0, 1, 1]", "five points [0, 1, 0, 1, 1]"), [0.0, 1.0, 0.0, 1.0, 1.0])
_DELETION_LIKE = (("삭제 곡선 같은 [0.9, 0.6, 0.3, 0.2, 0.1]", "a deletion-like curve [0.9, 0.6, 0.3, 0.2, 0.1]"),
                  [0.9, 0.6, 0.3, 0.2, 0.1])
_SQUARES = (("17개의 점 (k/16)², k = 0..16", "17 points (k / 16)^2, k = 0..16"), [(k / 16) ** 2 for k in range(17)])
AUC_CASES = (  # ((Korean, English) name, scores, area)
    (*_TWO_POINTS, 0.5),
    (*_THREE_POINTS, 0.75),
    (*_FIVE_POINTS, 0.625),
    (*_DELETION_LIKE, 0.4),
    (*_SQUARES, 1 / 3 + 1 / 1536),  # 0.333984
)
AUC_MISTAKES = {  # case (English name) -> {mistake: the area it gives}, where that differs; the first match is named
    _TWO_POINTS[0][1]: {"steps_plus_one": 0.25, "left": 1.0, "right": 0.0},
    _THREE_POINTS[0][1]: {"mean": 2 / 3, "no_dx": 1.5, "steps_plus_one": 0.5, "left": 1.0, "right": 0.5},
    _FIVE_POINTS[0][1]: {"mean": 0.6, "no_dx": 2.5, "steps_plus_one": 0.5, "left": 0.5, "right": 0.75},
    _DELETION_LIKE[0][1]: {"mean": 0.42, "no_dx": 1.6, "steps_plus_one": 0.32, "left": 0.5, "right": 0.3},
    _SQUARES[0][1]: {"mean": 0.34375, "no_dx": 5.34375, "steps_plus_one": 0.314338, "left": 0.302734,
                     "right": 0.365234},
}
TOO_FEW_POINTS = ([0.7], [])

_AUC_HINTS = {
    "mean": ("점들의 평균은 사다리꼴 넓이가 아닙니다: 양 끝점은 절반만 들어갑니다. Σ(s[k] + s[k+1]) / 2를 steps로 나누세요.",
             "the mean of the points is not the trapezoid area: the two end points count half; divide "
             "sum((s[k] + s[k+1]) / 2) by steps"),
    "no_dx": ("가로축 0..steps 위의 넓이입니다 (dx 없는 torch.trapezoid, 또는 steps로 나누지 않은 사다리꼴의 합). 가로축은 "
              "0부터 1까지이므로 사다리꼴의 폭은 1 / steps입니다: torch.trapezoid(scores, dx=1 / steps).",
              "that is the area over [0, steps] (torch.trapezoid without dx, or the trapezoids' sum not divided by "
              "steps): the x-axis runs from 0 to 1, so each trapezoid is 1 / steps wide: "
              "torch.trapezoid(scores, dx=1 / steps)"),
    "steps_plus_one": ("점의 개수 steps + 1이 아니라 구간의 개수 steps = len(scores) - 1로 나누세요.",
                       "divide by the number of intervals, steps = len(scores) - 1, not by the number of points"),
    "left": ("각 구간의 한쪽 끝 값만 쓴 직사각형들의 넓이입니다. 사다리꼴은 두 끝의 평균 (s[k] + s[k+1]) / 2를 씁니다.",
             "that is a sum of rectangles using one end of each interval; a trapezoid uses the mean of both ends, "
             "(s[k] + s[k+1]) / 2"),
    "recipe": ("AUC = Σ_{k=0}^{steps-1} (s[k] + s[k+1]) / 2 / steps, steps = len(scores) - 1.",
               "AUC = the sum over k = 0..steps-1 of (s[k] + s[k+1]) / 2, divided by steps = len(scores) - 1"),
}
_AUC_HINTS["right"] = _AUC_HINTS["left"]
_AUC_CALL_HINT = ("scores는 (steps + 1,) 모양의 1차원 텐서입니다. np.trapz는 NumPy 2에서 없어졌습니다: np.trapezoid나 "
                  "torch.trapezoid를 쓰세요.",
                  "scores is a 1-D (steps + 1,) tensor; np.trapz is gone in NumPy 2: use np.trapezoid or "
                  "torch.trapezoid")
_SUM_HINT = ("사다리꼴들의 넓이를 .sum()으로 더하세요.", "add the trapezoids up with .sum()")


def check_area_under_curve(area_under_curve):
    """Visible checks for `area_under_curve(scores)` -> float, the trapezoid rule over [0, 1]."""
    with _refusing_shipped(area_under_curve, "area_under_curve"):
        for name, scores, expected in AUC_CASES:
            area = _call_area(area_under_curve, torch.tensor(scores), name)
            _expect_number(area, expected, name, _diagnose_area(area, name[1]))
        _check_too_few_points(area_under_curve)
    checks.passed("area_under_curve")


def _call_area(area_under_curve, scores, name):
    """Call the answer on a copy, check it left it alone and warned nothing; return its result as a float."""
    given = scores.clone()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        area = checks.call_with_hint(area_under_curve, given, hint=_AUC_CALL_HINT)
    checks.expect_unchanged([given], [scores], "scores")
    korean, english = name
    area = _as_number(area, (f"{korean}의 넓이", f"the area under {english}"), _SUM_HINT)
    if caught:
        _fail_on_warning(caught[0], name, constant=False)
    return area


def _diagnose_area(area, case):
    for mistake, value in AUC_MISTAKES[case].items():
        if abs(area - value) <= 1e-5:
            return _AUC_HINTS[mistake]
    return _AUC_HINTS["recipe"]


def _check_too_few_points(area_under_curve):
    """One point (or none) has no width: the area is undefined, ValueError."""
    for scores in TOO_FEW_POINTS:
        where = (f"점이 {len(scores)}개인 곡선 {scores}", f"a curve of {len(scores)} point(s) {scores}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                area = area_under_curve(torch.tensor(scores))
        except ValueError:
            continue
        except Exception as error:
            checks.fail(f"{where[0]}에는 ValueError가 나야 하는데 {particle(type(error).__name__, '이/가')} 났습니다. "
                        "점이 두 개보다 적으면 raise ValueError(...)를 쓰세요.",
                        f"{where[1]} must raise ValueError, got {type(error).__name__}: raise ValueError(...) when "
                        "there are fewer than two points")
        checks.fail(f"{where[0]}인데 오류가 나지 않았습니다 ({particle(repr(area), '을/를')} 돌려줌). 점이 두 개보다 적으면 넓이를 정할 수 "
                    "없으므로 ValueError를 내세요.",
                    f"{where[1]} raised no error (returned {area!r}): with fewer than two points there is no area, "
                    "raise ValueError")
