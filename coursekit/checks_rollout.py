"""Visible checks for notebook 04 (attention rollout): toy inputs whose answers are written out
below, then properties of the loaded ViT that hold for any weights.

add_identity_and_normalise (TOY_RESIDUAL_CASES), fused attention F -> A_hat = rows of (F + I) / their sums:

    rows of F sum to 1 (mean fusion): F = [[.5, .25, .25], [0, 1, 0], [.25, .25, .5]]
        every row of F + I sums to 2, so A_hat = (F + I) / 2 = [[.75, .125, .125], [0, 1, 0], [.125, .125, .75]]
    rows of F sum to 1.25, 1, 1.5 (max fusion): F = [[.5, .25, .5], [.25, .5, .25], [.75, .5, .25]]
        rows of F + I sum to 2.25, 2, 2.5: A_hat = [[2/3, 1/9, 2/9], [1/8, 3/4, 1/8], [3/10, 1/5, 1/2]]
        (dividing by `sum(dim=-1)` without keepdim scales column j by row j's total instead:
        [[2/3, 1/8, 1/5], [1/9, 3/4, 1/10], [1/3, 1/4, 1/2]], rows summing to 0.99, 0.96, 1.08)
    after discarding (4 tokens, row 1 emptied): F + I rows sum to 1.7, 1, 2, 1.2:
        A_hat = [[14/17, 0, 0, 3/17], [0, 1, 0, 0], [1/4, 0, 3/4, 0], [0, 1/6, 0, 5/6]]

compute_attention_rollout (TOY_HEADS_PERCENT): two layers of two heads over 5 tokens (CLS and a
2 x 2 grid of patches), attention in percent, every row summing to 100. With mean fusion:

    F_1 = mean of layer 1's heads (%)       A_hat_1 = (F_1 + I) / 2
        [ 7.5  27.5  24   27.5  13.5]        [0.5375 0.1375 0.12   0.1375 0.0675]
        [ 8    35    20   18    19  ]        [0.04   0.675  0.1    0.09   0.095 ]
        [ 8    25    10   35    22  ]        [0.04   0.125  0.55   0.175  0.11  ]
        [ 8.5  21.5  16.5 38.5  15  ]        [0.0425 0.1075 0.0825 0.6925 0.075 ]
        [ 5     7.5  15.5 51.5  20.5]        [0.025  0.0375 0.0775 0.2575 0.6025]
    F_2[0] = (9, 31.5, 5.5, 37.5, 16.5) %   A_hat_2[0] = (0.545, 0.1575, 0.0275, 0.1875, 0.0825)

R_2 = A_hat_2 @ A_hat_1, and only its CLS row is needed: R_2[0, 1:] = A_hat_2[0] @ A_hat_1[:, 1:]
= (0.207938, 0.118138, 0.245013, 0.118544), laid out row-major as 2 x 2. It sums to 0.689631, which is
1 - R_2[0, 0]: the CLS row of R sums to 1. The reversed product A_hat_1 @ A_hat_2, F without I, or head 0
alone give the other maps in TOY_MISTAKES; the map is not symmetric, so a transposed map differs too.

With max fusion the rows of F_1 sum to (1.44, 1.26, 1.66, 1.38, 1.30) and those of F_2 to
(1.46, 1.71, 1.44, 1.62, 1.35); with min fusion to (0.56, 0.74, 0.34, 0.62, 0.70) and
(0.54, 0.29, 0.56, 0.38, 0.65). The rows of F + I no longer share one total, so dividing by the wrong
axis changes the answer, which it cannot do with mean fusion (all totals are 2).

Discarding with mean fusion and ratio 0.4 zeroes k = int(0.4 * 25) = 10 entries of each F, chosen among
all 25: in F_1 the ten smallest are 5, 7.5 (the CLS entry [0, 0]), 7.5, 8, 8, 8.5, 10, 13.5, 15, 15.5 %,
in F_2 they are 2.5, 5.5, 6.5, 7, 9 ([0, 0]), 9.5, 11.5, 12.5, 13, 15 %. In both, nine entries become 0
and [0, 0] keeps its value. With max fusion and ratio 0.6, k = 15 and [0, 0] (13 % and 16 %) is again
among the smallest. Zeroing [0, 0] too, or zeroing the 10 (15) smallest other entries, gives the maps
in TOY_MISTAKES.

tests/test_rollout_checks.py recomputes TOY_MAPS, TOY_MISTAKES and TOY_RESIDUAL_CASES with an independent
implementation and checks that [0, 0] is among the discarded entries of the toy cases.
"""
import torch

from coursekit import checks, explainers
from coursekit.messages import particle
from coursekit.vit import vit_attentions

CHECK_IMAGE = "astronaut.png"  # the notebook shows chelsea.png, the hidden tests use coffee.png
FUSIONS = ("mean", "max", "min")

TOY_RESIDUAL_CASES = (  # (name, F, A_hat)
    ("rows summing to 1", [[.5, .25, .25], [0, 1, 0], [.25, .25, .5]],
     [[.75, .125, .125], [0, 1, 0], [.125, .125, .75]]),
    ("rows summing to 1.25, 1, 1.5", [[.5, .25, .5], [.25, .5, .25], [.75, .5, .25]],
     [[2 / 3, 1 / 9, 2 / 9], [1 / 8, 3 / 4, 1 / 8], [3 / 10, 1 / 5, 1 / 2]]),
    ("after discarding", [[.4, 0, 0, .3], [0, 0, 0, 0], [.5, 0, .5, 0], [0, .2, 0, 0]],
     [[14 / 17, 0, 0, 3 / 17], [0, 1, 0, 0], [1 / 4, 0, 3 / 4, 0], [0, 1 / 6, 0, 5 / 6]]),
)

_KOREAN_CASE_NAMES = {"rows summing to 1": "행 합이 1인 경우", "rows summing to 1.25, 1, 1.5": "행 합이 1.25, 1, 1.5인 경우",
                      "after discarding": "항목을 버린 뒤"}

TOY_HEADS_PERCENT = (  # [layer][head][query][key]
    (((2, 41, 10, 36, 11), (7, 41, 27, 8, 17), (11, 9, 13, 62, 5), (13, 6, 15, 53, 13), (4, 8, 14, 39, 35)),
     ((13, 14, 38, 19, 16), (9, 29, 13, 28, 21), (5, 41, 7, 8, 39), (4, 37, 18, 24, 17), (6, 7, 17, 64, 6))),
    (((16, 10, 4, 41, 29), (2, 20, 7, 8, 63), (13, 6, 26, 32, 23), (3, 42, 41, 2, 12), (37, 11, 11, 6, 35)),
     ((2, 53, 7, 34, 4), (50, 10, 12, 26, 2), (10, 50, 15, 22, 3), (2, 23, 9, 64, 2), (11, 14, 2, 28, 45))),
)
TOY_ATTENTIONS = tuple(torch.tensor(layer, dtype=torch.float32)[None] / 100 for layer in TOY_HEADS_PERCENT)

TOY_MAPS = {  # (head_fusion, discard_ratio): R[0, 1:] as 2 x 2
    ("mean", 0.0): [[0.207938, 0.118138], [0.245013, 0.118544]],
    ("max", 0.0): [[0.248048, 0.132583], [0.242843, 0.136211]],
    ("min", 0.0): [[0.118573, 0.090631], [0.260156, 0.087929]],
    ("mean", 0.4): [[0.219994, 0.107011], [0.274510, 0.075459]],
    ("max", 0.6): [[0.389733, 0.092063], [0.244436, 0.000000]],
}

TOY_MISTAKES = {  # the maps plausible mistakes give on the toy input
    ("mean", 0.0): {"reversed_order": [[0.207081, 0.112994], [0.225844, 0.126550]],
                    "no_identity": [[0.241750, 0.177550], [0.330050, 0.174175]],
                    "one_head": [[0.167000, 0.072575], [0.297700, 0.147850]]},
    ("max", 0.0): {"columns": [[0.242755, 0.117878], [0.235592, 0.139524]]},
    ("min", 0.0): {"columns": [[0.121560, 0.107536], [0.277197, 0.085320]]},
    ("mean", 0.4): {"columns": [[0.228512, 0.111471], [0.286689, 0.083692]],
                    "cls_zeroed": [[0.226844, 0.108867], [0.284005, 0.079120]],
                    "cls_skipped": [[0.243033, 0.097236], [0.289250, 0.017512]],
                    "not_discarded": [[0.207938, 0.118138], [0.245013, 0.118544]]},
    ("max", 0.6): {"columns": [[0.453006, 0.086738], [0.238329, 0.000000]],
                   "cls_zeroed": [[0.412649, 0.091105], [0.256495, 0.000000]],
                   "cls_skipped": [[0.408357, 0.109325], [0.157218, 0.000000]],
                   "not_discarded": [[0.248048, 0.132583], [0.242843, 0.136211]]},
}

_COLUMNS_HINT = ("각 열(column)을 나눈 결과입니다: 행 i는 자기 행의 합으로 나눠야 합니다 (sum(dim=-1, keepdim=True)). "
                 "keepdim이 없으면 (N,) 모양의 합이 (1, N)으로 broadcast되어 열 j가 행 j의 합으로 나뉩니다.",
                 "that is what scaling the COLUMNS gives: divide row i by its own total (sum(dim=-1, keepdim=True)); "
                 "without keepdim the (N,) totals broadcast as (1, N) and column j is divided by row j's total")
_HINTS = {
    "reversed_order": ("곱의 순서가 반대입니다: 새 층의 행렬이 왼쪽에 옵니다, R_l = Â_l · R_(l-1) (R = Â @ R).",
                       "the product is reversed: the new layer's matrix goes on the left, R_l = A_hat_l @ R_(l-1)"),
    "no_identity": ("잔차 연결의 단위행렬 I가 빠졌습니다: Â는 F + I의 각 행을 그 합으로 나눈 것입니다.",
                    "the identity for the residual connection is missing: A_hat is F + I with each row divided by its sum"),
    "one_head": ("헤드 0 하나만 쓴 것과 같습니다: (1, H, N, N)의 헤드 축(dim=1)으로 헤드들을 융합하세요.",
                 "that equals head 0 alone: fuse the heads over the heads axis (dim=1 of (1, H, N, N))"),
    "columns": _COLUMNS_HINT,
    "cls_zeroed": ("CLS→CLS 항목 [0, 0]까지 0이 되었습니다: 가장 작은 k개에 들어 있어도 [0, 0]은 값을 유지합니다.",
                   "the CLS-to-CLS entry [0, 0] was zeroed too: it keeps its value even when among the k smallest"),
    "cls_skipped": ("[0, 0]을 뺀 나머지에서 k개를 골랐습니다: 전체 N² 항목 중 가장 작은 k개를 고른 뒤 그중 [0, 0]만 남기세요.",
                    "you chose k entries among those other than [0, 0]: take the k smallest of all N * N entries, "
                    "then spare [0, 0] if it is one of them"),
    "not_discarded": ("discard_ratio가 무시되었습니다: 각 층의 F에서 가장 작은 int(discard_ratio · N²)개를 0으로 만드세요.",
                      "discard_ratio was ignored: zero the int(discard_ratio * N * N) smallest entries of each layer's F"),
    "transposed": ("맵이 전치되었습니다: R[0, 1:]을 행 우선(row-major)으로 reshape하세요 (.T 없이).",
                   "the map is transposed: reshape R[0, 1:] row-major, without .T"),
    "rescaled": ("맵을 다시 정규화하지 마세요 (최댓값 1 또는 합 1): R의 CLS 행은 [0, 0]까지 합해 1이라 패치 부분의 합은 1보다 작습니다.",
                 "do not rescale the map (max 1 or sum 1): the CLS row of R sums to 1 including [0, 0], so its "
                 "patch part sums to less than 1"),
}
_CASE_HINTS = {
    "mean": ("헤드 평균 F → Â = (F + I)의 행 정규화 → R = Â @ R (R은 I에서 시작) → R[0, 1:]을 행 우선 reshape, 재정규화 없음.",
             "mean over heads F -> A_hat = F + I with rows normalised -> R = A_hat @ R (R starts as I) -> "
             "R[0, 1:] reshaped row-major, not rescaled"),
    "max": ("mean은 통과했나요? 그렇다면 max/min 융합(amax/amin, dim=1)과 정규화 축을 확인하세요.",
            "did mean pass? then check the max/min fusion (amax/amin over dim=1) and the normalisation axis"),
    "discard": ("버릴 항목은 I를 더하기 전의 F 전체(행마다가 아니라)에서 가장 작은 k = int(discard_ratio · N²)개이고, [0, 0]은 남깁니다.",
                "discard the k = int(discard_ratio * N * N) smallest entries of the whole F (not per row), before "
                "adding I, sparing [0, 0]"),
}
_HARD_CODED_HINT = ("확인용 작은 attention의 토큰은 5개(CLS + 2×2 패치)입니다. 197, 196, 14를 코드에 고정하지 말고 shape에서 얻으세요.",
                    "the toy attention has 5 tokens (CLS + 2 x 2 patches): take sizes from the shapes, "
                    "do not hard-code 197, 196 or 14")


def check_add_identity_and_normalise(add_identity_and_normalise):
    """Visible checks for `add_identity_and_normalise(fused)` -> rows of (fused + I) divided by their sums."""
    _check_residual_cases(add_identity_and_normalise)
    checks.passed("add_identity_and_normalise")


def _check_residual_cases(add_identity_and_normalise):
    for name, fused, expected in TOY_RESIDUAL_CASES:
        original = torch.tensor(fused)
        given = original.clone()
        a_hat = checks.call_with_hint(add_identity_and_normalise, given, hint=(
            "확인용 행렬은 3×3과 4×4입니다. 197을 코드에 고정하지 마세요.",
            "the toy matrices are 3 x 3 and 4 x 4: do not hard-code 197"))
        checks.expect_unchanged([given], [original], "fused")
        names = (f"Â ({_KOREAN_CASE_NAMES[name]})", f"Â ({name})")
        checks.expect_shape(a_hat, original.shape, names)
        hint = _COLUMNS_HINT if _scales_columns(a_hat, original) else ("", "")
        _expect_rows_sum_to_one(a_hat, names, hint)
        checks.expect_close(a_hat, expected, names, atol=1e-6, hint=hint)


def _scales_columns(a_hat, fused):
    """True if `a_hat` is F + I with column j divided by row j's total: the widely copied mistake."""
    mixed = fused.double() + torch.eye(len(fused), dtype=torch.float64)
    return torch.allclose(a_hat.detach().double(), mixed / mixed.sum(dim=-1), atol=1e-6)


def _expect_rows_sum_to_one(matrix, name, hint):
    """Every row of a row-normalised matrix sums to 1."""
    totals = matrix.detach().double().sum(dim=-1)
    worst = int((totals - 1).abs().argmax())
    if abs(float(totals[worst]) - 1) > 1e-5:
        (korean, english), (korean_hint, english_hint) = checks.name_pair(name), hint
        checks.fail(f"{korean}의 각 행의 합은 1이어야 하는데 행 {worst}의 합이 {float(totals[worst]):.5g}입니다. "
                    f"{korean_hint}".rstrip(),
                    f"each row of {english} must sum to 1, but row {worst} sums to {float(totals[worst]):.5g}. "
                    f"{english_hint}".rstrip())


def check_compute_attention_rollout(compute_attention_rollout):
    """Visible checks for `compute_attention_rollout(attentions, discard_ratio, head_fusion)` -> (side, side) map."""
    with checks.refusing_reference(compute_attention_rollout, explainers, "compute_attention_rollout"), \
            checks.blaming_earlier_exercise(compute_attention_rollout, "add_identity_and_normalise",
                                            _check_residual_cases, exercise=1):
        for (fusion, ratio), expected in TOY_MAPS.items():
            _expect_toy_map(compute_attention_rollout, fusion, ratio, expected)
        _expect_unknown_fusion_rejected(compute_attention_rollout)
        _check_vit_rollout(compute_attention_rollout)
    checks.passed("compute_attention_rollout")


def _expect_toy_map(compute_attention_rollout, fusion, ratio, expected):
    given = checks.snapshot_tensors(TOY_ATTENTIONS)
    rollout = checks.call_with_hint(compute_attention_rollout, given, discard_ratio=ratio, head_fusion=fusion,
                                    hint=_HARD_CODED_HINT)
    checks.expect_unchanged(given, TOY_ATTENTIONS, "attentions")
    settings = f"head_fusion={fusion!r}, discard_ratio={ratio}"
    name = (f"작은 입력의 rollout ({settings})", f"toy rollout ({settings})")
    checks.expect_shape(rollout, (2, 2), name)
    checks.expect_close(rollout, expected, name, atol=1e-5, rtol=0, hint=_diagnose(rollout, fusion, ratio))


def _diagnose(rollout, fusion, ratio):
    """The hint (ko, en) for the mistake that gives this toy map, or the recipe of the case."""
    got = rollout.detach().double()
    expected = torch.tensor(TOY_MAPS[fusion, ratio], dtype=torch.float64)
    for mistake, values in TOY_MISTAKES[fusion, ratio].items():
        if torch.allclose(got, torch.tensor(values, dtype=torch.float64), atol=1e-5):
            return _HINTS[mistake]
    if torch.allclose(got, expected.T, atol=1e-5):
        return _HINTS["transposed"]
    if abs(float(got.max()) - 1) < 1e-5 or abs(float(got.sum()) - 1) < 1e-5:
        return _HINTS["rescaled"]
    return _CASE_HINTS["discard" if ratio else "mean" if fusion == "mean" else "max"]


def _expect_unknown_fusion_rejected(compute_attention_rollout):
    """An unknown head_fusion must raise ValueError whose message names the allowed values."""
    try:
        compute_attention_rollout(checks.snapshot_tensors(TOY_ATTENTIONS), discard_ratio=0.0, head_fusion="median")
    except ValueError as error:
        if any(name not in str(error) for name in FUSIONS):
            checks.fail(f"ValueError의 메시지에 허용되는 값 {FUSIONS}를 모두 적어 주세요. 지금 메시지는 {str(error)!r}입니다.",
                        f"the ValueError's message should name the allowed values {FUSIONS}, got {str(error)!r}")
        return
    except Exception as error:
        korean, english = ("`raise \"문자열\"`은 그 자체로 TypeError입니다 (예외는 BaseException을 상속해야 합니다). ",
                           "`raise \"text\"` is itself a TypeError (exceptions must derive from BaseException); "
                           ) if "BaseException" in str(error) else ("", "")
        checks.fail(f"head_fusion='median'에는 ValueError가 나야 하는데 {particle(type(error).__name__, '이/가')} 났습니다. {korean}"
                    "raise ValueError(f\"...{head_fusion!r}...\")를 쓰세요.",
                    f"head_fusion='median' must raise ValueError, got {type(error).__name__}: {english}"
                    "use raise ValueError(f\"...{head_fusion!r}...\")")
    checks.fail("head_fusion='median'(알 수 없는 값)인데 오류가 나지 않았습니다. 'mean', 'max', 'min'이 아니면 ValueError를 내세요.",
                "head_fusion='median' (unknown) raised no error: raise ValueError unless it is 'mean', 'max' or 'min'")


def _single_layer_map(layer, fusion):
    """Rollout of one layer is A_hat itself: its CLS row over the patches, F[0, 1:] / (1 + sum_j F[0, j])."""
    heads = layer[0].double()
    fused = {"mean": heads.mean(dim=0), "max": heads.amax(dim=0), "min": heads.amin(dim=0)}[fusion]
    row = fused[0]
    side = int(round((row.numel() - 1) ** 0.5))
    return (row[1:] / (1 + row.sum())).reshape(side, side)


def _check_vit_rollout(compute_attention_rollout):
    attentions = vit_attentions(CHECK_IMAGE)
    for fusion in ("mean", "max"):
        name = (f"마지막 층 하나만 넣은 ViT rollout ({fusion})", f"ViT rollout of the last layer alone ({fusion})")
        rollout = compute_attention_rollout(checks.snapshot_tensors(attentions[-1:]), head_fusion=fusion)
        checks.expect_shape(rollout, (14, 14), name)
        checks.expect_close(rollout, _single_layer_map(attentions[-1], fusion), name, atol=1e-6, rtol=1e-4, hint=(
                                "층이 하나면 R = Â이므로 맵은 F[0, 1:] / (1 + Σ_j F[0, j])입니다.",
                                "with one layer R = A_hat, so the map is F[0, 1:] / (1 + sum_j F[0, j])"))
    given = checks.snapshot_tensors(attentions)
    rollout = compute_attention_rollout(given)
    checks.expect_unchanged(given, attentions, "outputs.attentions")
    checks.expect_shape(rollout, (14, 14), "ViT rollout")
    checks.expect_finite(rollout, "ViT rollout")
    if float(rollout.min()) < 0:
        checks.fail(f"rollout에 음수 값이 있습니다 (최솟값 {float(rollout.min()):.3g}). attention의 곱과 합에서는 음수가 나올 수 없습니다.",
                    f"the rollout has negative values (min {float(rollout.min()):.3g}); products and sums of "
                    "attention weights cannot be negative")
    _expect_patch_share(rollout, len(attentions))


def _expect_patch_share(rollout, layers):
    """The map is the CLS row of R without R[0, 0]: it sums to 1 - R[0, 0], which lies in (0, 1 - 2^-L].

    With mean fusion A_hat_l[0, 0] = (F_l[0, 0] + 1) / 2 >= 1/2, and R[0, 0] >= the product of these
    (the path that stays on the CLS token), so R[0, 0] >= 2^-L for any weights.
    """
    total = float(rollout.detach().double().sum())
    bound = 1 - 2.0 ** -layers
    if total > bound + 1e-6:
        checks.fail(f"mean 융합 rollout 맵의 합 1 - R[0, 0]은 1 - 2^-{layers} = {bound:.6f} 이하여야 하는데 {total:.6f}입니다. "
                    f"{_HINTS['rescaled'][0]}",
                    f"the mean-fusion rollout map sums to 1 - R[0, 0] <= 1 - 2^-{layers} = {bound:.6f}, "
                    f"got {total:.6f}; {_HINTS['rescaled'][1]}")
    if total <= 0:
        checks.fail("rollout 맵이 모두 0입니다. R의 CLS 행(R[0, 1:])을 돌려주세요.",
                    "the rollout map is all zeros: return the CLS row of R over the patches, R[0, 1:]")
