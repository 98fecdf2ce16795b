"""Hidden tests of 03_vit_attention: attention maps of a perturbed picture and of random attentions on
another grid; entropies of the ViT's maps and of sparse random maps."""
import numpy as np

from coursekit.probes import attention_case, random_sparse_matrices, vit_cls_maps
from tools.grading.hidden.common import picture, vit
from tools.grading.hidden.expected import Close, Same
from tools.references.attention import cls_attention_maps, entropy

GRIDS = (4, 7, 8, 16)  # patches per side of random attentions; patch_size = 224 // grid
SMALLEST_GAP = 1e-4    # the two lowest entropies at least this far apart: the argmin is not decided by rounding
UNCHANGED = Same(True, "bool", ("입력이 그대로인가", "the inputs left unchanged"))


def _cases(rng, random_case):
    return [{"name": "vit", "vit": picture(rng)}, {"name": "random", **random_case}]


def obtain_attention_maps(rng):
    grid = rng.choice(GRIDS)
    random_spec = {"seed": rng.randrange(2**31), "layers": rng.randint(3, 6), "heads": rng.randint(2, 6),
                   "tokens": grid * grid + 1, "sharpness": 4.0}
    cases = [{**case, "patch_size": patch_size} for case, patch_size
             in zip(_cases(rng, {"random": random_spec}), (16, 224 // grid))]
    expected = {}
    for case, side in zip(cases, (14, grid)):
        maps = cls_attention_maps(attention_case(case, vit()), side)
        name = case["name"]
        expected[f"{name}/is_a_list"] = Same(True, "bool", (f"{name} attention의 맵을 리스트로 돌려주는가",
                                                            f"the maps returned as a list ({name})"))
        expected[f"{name}/count"] = Same(len(maps), "int", (f"{name} attention의 맵 개수", f"the number of maps ({name})"))
        expected.update({f"{name}/map[{layer}]": Close(m, (f"{name} attention의 maps[{layer}]", f"maps[{layer}] ({name})"),
                                                       atol=1e-6)
                         for layer, m in enumerate(maps)})
        expected[f"{name}/inputs_unchanged"] = UNCHANGED
    return {"cases": cases}, expected


def _entropy_expectations(name, maps):
    entropies = np.array([entropy(m) for m in maps])
    lowest = np.sort(entropies)[:2]
    if lowest[1] - lowest[0] < SMALLEST_GAP:
        return None
    return {f"{name}/entropies": Close(entropies, (f"{name} 맵들의 엔트로피", f"the entropies ({name})"), atol=1e-5),
            f"{name}/most_concentrated": Same(int(entropies.argmin()), "int",
                                              (f"{name} 맵 중 가장 집중된 층", f"the most concentrated layer ({name})")),
            f"{name}/inputs_unchanged": UNCHANGED}


def attention_entropies(rng):
    while True:
        grid = rng.choice(GRIDS)
        random_spec = {"seed": rng.randrange(2**31), "count": rng.randint(4, 8), "rows": grid, "cols": grid,
                       "zeros": 0.4}
        cases = _cases(rng, {"random": random_spec})
        parts = [_entropy_expectations("vit", vit_cls_maps(attention_case(cases[0], vit()))),
                 _entropy_expectations("random", random_sparse_matrices(random_spec))]
        if all(parts):
            return {"cases": cases}, {**parts[0], **parts[1]}


TESTS = {"obtain_attention_maps_hidden": obtain_attention_maps, "attention_entropies_hidden": attention_entropies}
