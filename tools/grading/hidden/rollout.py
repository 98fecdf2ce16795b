"""Hidden tests of 04_attention_rollout: the residual step on random sparse matrices (one row empty),
and rollout of random attentions and of a perturbed picture with random head fusions and discard ratios."""
import numpy as np

from coursekit.probes import attention_case, random_sparse_matrices
from tools.grading.hidden.attention import UNCHANGED
from tools.grading.hidden.common import picture, vit
from tools.grading.hidden.expected import Close, Same
from tools.references.rollout import residual_step, rollout_map

FUSIONS = ("mean", "max", "min")
DISCARD_RATIOS = (0.0, 0.5, 0.7, 0.9)
UNKNOWN_FUSIONS = ("average", "median", "sum", "Mean")


def add_identity_and_normalise(rng):
    cases, expected = [], {}
    for size in (rng.randint(3, 12), 197):
        case = {"seed": rng.randrange(2**31), "count": 1, "rows": size, "cols": size, "zeros": 0.6,
                "empty_row": rng.randrange(size)}
        fused, = random_sparse_matrices(case)
        cases.append(case)
        expected[f"{size}/a_hat"] = Close(residual_step(fused.double().numpy()),
                                          (f"{size}×{size} 행렬의 Â", f"A_hat of the {size} x {size} matrix"), atol=1e-5)
        expected[f"{size}/input_unchanged"] = UNCHANGED
    return {"cases": cases}, expected


def _random_case(rng, name):
    side = rng.randint(3, 5)
    return {"name": name, "random": {"seed": rng.randrange(2**31), "layers": rng.randint(2, 4),
                                     "heads": rng.randint(2, 4), "tokens": side * side + 1, "sharpness": 2.0}}


# Plausible mistakes in the discard step. Random inputs do not always tell them from the right answer (with
# discard_ratio 0, or when the CLS entry is not among the lowest, or when the entry a mistake zeroes is too small to
# move the map), so inputs are drawn until each mistake misses one case's map by MISTAKE_MARGIN times the test's
# tolerance: no rounding of a student's float32 computation can then turn it into a pass.
DISCARD_MISTAKES = ({"cls_entry": "zeroed"}, {"cls_entry": "skipped"}, {"discard_ratio": 0.0})
MAP_RTOL = 1e-3
MISTAKE_MARGIN = 2.0


def _misses(mistake, cases):
    """Whether `mistake` misses the expected map (a Close) of at least one case by MISTAKE_MARGIN times the error
    that Close accepts; `cases` holds (attentions, fusion, discard_ratio, Close)."""
    return any(np.abs(rollout_map(attentions, **{"fusion": fusion, "discard_ratio": ratio, **mistake})
                      - expected.reference).max() > MISTAKE_MARGIN * expected.bound()
               for attentions, fusion, ratio, expected in cases)


def compute_attention_rollout(rng):
    while True:
        cases = [_random_case(rng, "random"), _random_case(rng, "random2"), {"name": "vit", "vit": picture(rng)}]
        expected, computed = {}, []
        for case in cases:
            case.update(head_fusion=rng.choice(FUSIONS), discard_ratio=rng.choice(DISCARD_RATIOS))
            settings = f"head_fusion={case['head_fusion']!r}, discard_ratio={case['discard_ratio']}"
            attentions = attention_case(case, vit())
            rollout = Close(rollout_map(attentions, case["head_fusion"], case["discard_ratio"]),
                            (f"{case['name']} attention의 rollout ({settings})",
                             f"the rollout of the {case['name']} attentions ({settings})"), rtol=MAP_RTOL)
            expected[f"{case['name']}/map"] = rollout
            expected[f"{case['name']}/inputs_unchanged"] = UNCHANGED
            computed.append((attentions, case["head_fusion"], case["discard_ratio"], rollout))
        if all(_misses(mistake, computed) for mistake in DISCARD_MISTAKES):
            break
    unknown = rng.choice(UNKNOWN_FUSIONS)
    expected["rejects_unknown_fusion"] = Same(True, "bool", (f"head_fusion={unknown!r}에 ValueError를 냈는가",
                                                             f"ValueError for head_fusion={unknown!r}"))
    return {"cases": cases, "unknown_fusion": unknown}, expected


TESTS = {"add_identity_and_normalise_hidden": add_identity_and_normalise,
         "compute_attention_rollout_hidden": compute_attention_rollout}
