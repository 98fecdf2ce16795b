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
    rho = _as_number(rho, name)
    if caught:
        _fail_on_warning(caught[0], name, constant=error_hint is not None)
    return rho


def _as_number(value, name):
    """What the answer returned, as a float: a number, or a tensor or array of one element."""
    korean, english = checks.name_pair(name)
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) > 1:
        checks.fail(f"{korean}: 숫자 하나를 돌려줘야 하는데 원소가 {math.prod(shape)}개인 {shape} 모양의 "
                    f"{type(value).__name__}입니다. torch.corrcoef는 2×2 행렬을 주므로 [0, 1]을 고르세요.",
                    f"{english}: return one number, got a {type(value).__name__} of {math.prod(shape)} elements, "
                    f"shape {shape} (torch.corrcoef gives a 2 x 2 matrix: take [0, 1])")
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
