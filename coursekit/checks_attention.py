"""Visible checks for notebook 03 (ViT attention maps): toy inputs with written-out answers, then
properties of the loaded ViT that hold for any weights.

Toy attention (TOY_ATTENTIONS): two layers of shape (1, 2, 5, 5), i.e. one image, two heads and five
tokens: the CLS token and 4 patches, as if a 224 x 224 image were cut into 112 x 112 patches
(TOY_PATCH_SIZE), a 2 x 2 grid. Every row sums to 1. A layer's map is the mean of the two heads' CLS
rows (query 0) over the patch keys 1..4, laid out row-major:

    layer 0: CLS rows (0.2 | 0.4, 0.1, 0.2, 0.1) and (0.4 | 0.2, 0.3, 0.0, 0.1)
             mean (0.3 | 0.3, 0.2, 0.1, 0.1) -> [[0.3, 0.2], [0.1, 0.1]], sum 0.7 = 1 - 0.3
    layer 1: CLS rows (0.1 | 0.1, 0.5, 0.3, 0.0) and (0.3 | 0.0, 0.1, 0.1, 0.5)
             mean (0.2 | 0.05, 0.3, 0.2, 0.25) -> [[0.05, 0.3], [0.2, 0.25]], sum 0.8 = 1 - 0.2

The maps are not symmetric and the other rows differ from the CLS row, so the key column, a
column-major layout, a slice that keeps the CLS key, one head, the heads' sum or max, a mean over
queries or over layers, and a renormalised map all give other numbers.

Toy maps for the entropy (TOY_ENTROPY_MAPS), each divided by its sum p = m / sum(m), H = -sum p ln p:

    [[0.2, 0.2], [0.2, 0.2]]  sum 0.8, p = (1/4, 1/4, 1/4, 1/4)   H = ln 4             = 1.386294
    [[0.0, 0.6], [0.0, 0.0]]  sum 0.6, p = (0, 1, 0, 0)           H = 0 (0 ln 0 = 0)
    [[0.4, 0.2], [0.2, 0.0]]  sum 0.8, p = (1/2, 1/4, 1/4, 0)     H = 1.5 ln 2         = 1.039721

so the most concentrated map is number 1. Without dividing by the sum the first would give
-0.8 ln 0.2 = 1.2876, with log2 it would give 2, and a softmax would not make the second one-hot.
"""
import math
import torch

from coursekit import checks, explainers
from coursekit.messages import particle
from coursekit.vit import vit_attentions

CHECK_IMAGE = "chelsea.png"
TOY_PATCH_SIZE = 112
TOY_ATTENTIONS = (
    torch.tensor([[[[0.2, 0.4, 0.1, 0.2, 0.1],
                    [0.1, 0.5, 0.2, 0.1, 0.1],
                    [0.3, 0.1, 0.4, 0.1, 0.1],
                    [0.0, 0.2, 0.2, 0.5, 0.1],
                    [0.1, 0.1, 0.1, 0.1, 0.6]],
                   [[0.4, 0.2, 0.3, 0.0, 0.1],
                    [0.2, 0.2, 0.2, 0.2, 0.2],
                    [0.5, 0.1, 0.1, 0.2, 0.1],
                    [0.1, 0.3, 0.1, 0.4, 0.1],
                    [0.3, 0.0, 0.2, 0.1, 0.4]]]]),
    torch.tensor([[[[0.1, 0.1, 0.5, 0.3, 0.0],
                    [0.4, 0.3, 0.1, 0.1, 0.1],
                    [0.2, 0.2, 0.2, 0.2, 0.2],
                    [0.1, 0.0, 0.3, 0.3, 0.3],
                    [0.2, 0.1, 0.1, 0.2, 0.4]],
                   [[0.3, 0.0, 0.1, 0.1, 0.5],
                    [0.1, 0.6, 0.1, 0.1, 0.1],
                    [0.0, 0.3, 0.3, 0.2, 0.2],
                    [0.2, 0.2, 0.1, 0.4, 0.1],
                    [0.1, 0.2, 0.3, 0.0, 0.4]]]]),
)
TOY_ATTENTION_MAPS = (torch.tensor([[0.3, 0.2], [0.1, 0.1]]), torch.tensor([[0.05, 0.3], [0.2, 0.25]]))

TOY_ENTROPY_MAPS = (torch.tensor([[0.2, 0.2], [0.2, 0.2]]),
                    torch.tensor([[0.0, 0.6], [0.0, 0.0]]),
                    torch.tensor([[0.4, 0.2], [0.2, 0.0]]))
TOY_ENTROPIES = torch.tensor([math.log(4), 0.0, 1.5 * math.log(2)], dtype=torch.float64)
TOY_MOST_CONCENTRATED = 1

_RECIPE = ("축은 (batch, heads, query, key)입니다: 헤드 평균 → CLS query 행(0) → 패치 key(1:) → 행 우선(row-major) reshape.",
           "the axes are (batch, heads, query, key): mean over heads, the CLS query row (0), the patch keys (1:), "
           "reshaped row-major")

# Maps that plausible mistakes give for one toy layer (as 4 values in patch order), with the hint each deserves.
_MISTAKES = (
    (lambda layer: layer[0].mean(dim=0)[1:, 0],
     ("CLS가 query인 행 [0, 1:]을 써야 합니다. [1:, 0]은 각 패치가 CLS를 보는 key 열(column)입니다.",
      "use the row where CLS is the query, [0, 1:]; [1:, 0] is the key column: each patch attending to CLS")),
    (lambda layer: layer[0].mean(dim=0)[0, 1:].reshape(2, 2).T.flatten(),
     ("패치는 행 우선(row-major) 순서입니다: 패치 p는 (p // 격자, p % 격자) 칸입니다. 전치(.T)나 order='F' 없이 reshape하세요.",
      "patches are in row-major order, patch p sits at (p // grid, p % grid): reshape without .T or order='F'")),
    (lambda layer: layer[0].mean(dim=0)[0, :-1],
     ("key 0은 CLS 토큰입니다. 패치는 key 1부터이므로 [0, 1:]로 잘라야 합니다.",
      "key 0 is the CLS token; the patches are keys 1 onwards, so slice [0, 1:]")),
    (lambda layer: layer[0, 0, 0, 1:],
     ("헤드 하나만 썼습니다. 모든 헤드의 평균(헤드 축, dim=1)을 구하세요.",
      "that is one head only: average over all heads (the heads axis, dim=1)")),
    (lambda layer: layer[0].sum(dim=0)[0, 1:],
     ("헤드를 더했습니다. 합이 아니라 평균을 구하세요.", "the heads were summed: take their mean")),
    (lambda layer: layer[0].mean(dim=1)[0, 1:],
     ("query 축으로 평균을 구했습니다. 평균은 헤드 축(dim=1)으로 구합니다.",
      "you averaged over the query axis: the mean is over the heads axis (dim=1)")),
    (lambda layer: layer[0].mean(dim=0)[0, 1:] / layer[0].mean(dim=0)[0, 1:].sum(),
     ("맵을 다시 정규화하지 마세요: CLS→CLS 몫이 빠졌으므로 합이 1보다 작은 것이 맞습니다.",
      "do not renormalise the map: without the CLS-to-CLS share it rightly sums to less than 1")),
)

_ENTROPY_NAN_HINT = ("0 × log 0은 0으로 쳐야 합니다: torch.xlogy(p, p)나 torch.special.entr(p)를 쓰거나 p > 0인 항만 더하세요.",
                     "0 x log 0 counts as 0: use torch.xlogy(p, p) or torch.special.entr(p), or sum only where p > 0")
_ENTROPY_HINT = ("맵을 그 합으로 나눠 확률분포 p(합 1)를 만든 뒤 H = -Σ p ln p를 자연로그(nats)로 계산하세요. softmax가 아니라 합으로 나눕니다.",
                 "divide each map by its sum to get a distribution p (summing to 1), then H = -sum p ln p with the "
                 "natural log (nats); divide by the sum, do not apply softmax")
_LAYER_HINT = ("가장 집중된 층은 엔트로피가 가장 *작은* 층이고, 인덱스는 0부터 셉니다.",
               "the most concentrated layer has the SMALLEST entropy; indices count from 0")


def _expect_map_list(maps, count, shape, where):
    """One tensor of `shape` per layer, in a list (or tuple)."""
    korean, english = checks.name_pair(where)
    if not isinstance(maps, (list, tuple)):
        checks.fail(f"{korean}: 층마다 맵 하나씩 담은 리스트를 돌려줘야 하는데 {type(maps).__name__}입니다 "
                    "(torch.stack 하지 마세요).",
                    f"{english}: return a list with one map per layer (do not torch.stack them), "
                    f"got {type(maps).__name__}")
    if len(maps) != count:
        checks.fail(f"{korean}: 층이 {count}개이므로 맵도 {count}개여야 하는데 {len(maps)}개입니다.",
                    f"{english}: one map per layer: expected {count} maps, got {len(maps)}")
    for index, attention_map in enumerate(maps):
        checks.expect_shape(attention_map, shape, (f"{korean}의 maps[{index}]", f"{english} maps[{index}]"))


def _diagnose(layer, attention_map):
    """The hint (ko, en) of the mistake that gives this toy map, or the whole recipe if none does."""
    got = attention_map.detach().double().flatten()
    for mistake, hint in _MISTAKES:
        if torch.allclose(got, mistake(layer).double(), atol=1e-6):
            return hint
    return _RECIPE


def check_obtain_attention_maps(obtain_attention_maps):
    """Visible checks for `obtain_attention_maps(attentions, patch_size=16)` -> list of (grid, grid) maps."""
    with checks.refusing_reference(obtain_attention_maps, explainers, "obtain_attention_maps"):
        _check_toy_attention_maps(obtain_attention_maps)
        _check_vit_attention_maps(obtain_attention_maps)
    checks.passed("obtain_attention_maps")


def _check_toy_attention_maps(obtain_attention_maps):
    given = checks.snapshot_tensors(TOY_ATTENTIONS)
    maps = checks.call_with_hint(obtain_attention_maps, given, patch_size=TOY_PATCH_SIZE, hint=(
        "확인용 작은 attention은 토큰 5개(CLS + 2×2 패치, patch_size=112)입니다. 14나 196을 코드에 고정하지 마세요.",
        "the toy attention has 5 tokens (CLS + 2 x 2 patches, patch_size=112): do not hard-code 14 or 196"))
    checks.expect_unchanged(given, TOY_ATTENTIONS, "attentions")
    _expect_map_list(maps, len(TOY_ATTENTIONS), (2, 2), ("작은 attention", "toy attention"))
    for index, (layer, attention_map, expected) in enumerate(zip(TOY_ATTENTIONS, maps, TOY_ATTENTION_MAPS)):
        checks.expect_close(attention_map, expected, (f"작은 attention의 maps[{index}]", f"toy maps[{index}]"),
                            atol=1e-6, hint=_diagnose(layer, attention_map))


def _check_vit_attention_maps(obtain_attention_maps):
    attentions = vit_attentions(CHECK_IMAGE)
    given = checks.snapshot_tensors(attentions)
    maps = obtain_attention_maps(given)
    checks.expect_unchanged(given, attentions, "outputs.attentions")
    _expect_map_list(maps, len(attentions), (14, 14), "ViT")
    for index, (layer, attention_map) in enumerate(zip(attentions, maps)):
        checks.expect_finite(attention_map, (f"ViT의 maps[{index}]", f"ViT maps[{index}]"))
        total = float(attention_map.detach().double().sum())
        patch_share = 1 - float(layer[0, :, 0, 0].double().mean())
        if abs(total - patch_share) > 1e-4:
            checks.fail(f"ViT의 maps[{index}]의 합은 1 - (CLS→CLS attention의 헤드 평균) = "
                        f"{particle(f'{patch_share:.5f}', '이어야/여야')} 하는데 {total:.5f}입니다. {_RECIPE[0]}",
                        f"ViT maps[{index}] must sum to 1 - (heads' mean CLS-to-CLS attention) = {patch_share:.5f}, "
                        f"got {total:.5f}; {_RECIPE[1]}")


def check_attention_entropies(attention_entropies):
    """Visible checks for `attention_entropies(attention_maps)` -> (entropies (L,), most concentrated layer)."""
    given = checks.snapshot_tensors(TOY_ENTROPY_MAPS)
    result = checks.call_with_hint(attention_entropies, given, hint=(
        "확인용 맵은 2×2 맵 3개입니다. 196이나 12를 코드에 고정하지 마세요.",
        "the toy input is three 2 x 2 maps: do not hard-code 196 or 12"))
    checks.expect_unchanged(given, TOY_ENTROPY_MAPS, "attention_maps")
    toy = ("작은 맵", "toy maps")
    entropies, layer = _expect_entropy_result(result, len(TOY_ENTROPY_MAPS), toy)
    checks.expect_finite(entropies, ("작은 맵의 엔트로피", "toy entropies"), hint=_ENTROPY_NAN_HINT)
    checks.expect_close(entropies, TOY_ENTROPIES, ("작은 맵의 엔트로피", "toy entropies"), atol=1e-5,
                        hint=_ENTROPY_HINT)
    _expect_layer(layer, TOY_MOST_CONCENTRATED, toy)

    maps = _one_head_cls_maps(vit_attentions(CHECK_IMAGE))
    given = checks.snapshot_tensors(maps)
    entropies, layer = _expect_entropy_result(attention_entropies(given), len(maps), "ViT")
    checks.expect_unchanged(given, maps, "attention_maps")
    checks.expect_finite(entropies, ("ViT의 엔트로피", "ViT entropies"), hint=_ENTROPY_NAN_HINT)
    uniform = math.log(maps[0].numel())
    if float(entropies.min()) < -1e-6 or float(entropies.max()) > uniform + 1e-5:
        checks.fail(f"엔트로피는 0(한 패치에 집중)과 ln {maps[0].numel()} = {uniform:.4f}(고르게 퍼짐) 사이여야 하는데 "
                    f"{float(entropies.min()):.4f} ~ {float(entropies.max()):.4f}입니다. {_ENTROPY_HINT[0]}",
                    f"entropies must lie between 0 (one patch) and ln {maps[0].numel()} = {uniform:.4f} (uniform), "
                    f"got {float(entropies.min()):.4f} to {float(entropies.max()):.4f}; {_ENTROPY_HINT[1]}")
    _expect_layer(layer, int(entropies.argmin()), "ViT")
    checks.passed("attention_entropies")


def _one_head_cls_maps(attentions):
    """Real ViT maps made without exercise 1's answer: each layer's first head, CLS row over the patches.

    They are views of `attentions`, a copy that vit_attentions made for this check alone.
    """
    side = math.isqrt(attentions[0].shape[-1] - 1)
    return [layer[0, 0, 0, 1:].reshape(side, side) for layer in attentions]


def _expect_entropy_result(result, count, where):
    """The answer must be (entropies tensor of shape (count,), layer index); return them."""
    korean, english = checks.name_pair(where)
    entropies, layer = checks.expect_pair(result, "(entropies, most_concentrated)", where)
    checks.expect_shape(entropies, (count,), (f"{korean}의 entropies", f"{english} entropies"))
    return entropies.detach().double(), layer


def _expect_layer(layer, expected, where):
    """The returned layer must be the index of the smallest entropy."""
    korean, english = checks.name_pair(where)
    got = checks.expect_index(layer, (f"{korean}: 가장 집중된 층", f"{english}: most concentrated layer"))
    if got != expected:
        checks.fail(f"{korean}: 가장 집중된 층은 {particle(expected, '이어야/여야')} 하는데 {got}입니다. {_LAYER_HINT[0]}",
                    f"{english}: the most concentrated layer is {expected}, got {got}; {_LAYER_HINT[1]}")
