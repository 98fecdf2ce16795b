"""Hidden tests, the half that runs in the student's kernel: call the student's code on the grader's
inputs and hand back what it returned, as plain data.

A graded notebook runs in the student's kernel, where the student's code can change anything:
hooks, the display, exceptions, torch itself. So nothing decided there counts. A hidden-test cell
only calls `run_hidden_test(grade_id, name=function, ...)`: the probe for that test calls the
student's functions on the inputs the grader chose for this grading (the challenge, given in the
environment variable CHALLENGE_VARIABLE) and publishes each result as one display output of type
RESULT_MIME. After the notebook has run, the grader reads those outputs outside the kernel,
computes the answers with its own code and the same weights (tools/grading/hidden/), and sets the
cell's score (tools/grading/verdict.py). Forging the data would mean computing the right answer.

Outside grading (the instructor's notebooks in solutions/, which CI executes) the same call checks
itself in this kernel with the grader's code, so that the hidden tests visibly pass or fail there.

The inputs are built here from the challenge's short description (a course picture, flipped or
not, plus seeded noise; seeded random attentions; seeded maps with many ties; the toy CNN from a
seed; the trained toy CNN with a seeded classifier, synthetic pictures and blockwise saliency maps;
seeded curves), so that the grader builds the same tensors.
"""
import base64
import copy
import json
import math
import operator
import os
import types

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.hooks import count_hooks
from coursekit.images import preprocess_image, preprocess_image_vit
from coursekit.messages import bilingual
from coursekit.models import load_resnet18, load_vit
from coursekit.paths import resource_path
from coursekit.vit import expect_layer_attentions

RESULT_MIME = "application/vnd.xai-course.hidden-result+json"
CHALLENGE_VARIABLE = "XAI_GRADING_CHALLENGE"
MAX_VALUES = 1_000_000  # more numbers than any exercise returns: the record says so instead


# ---- inputs, built the same way in the kernel and by the grader ---------------------------------

def _perturbed(pixels, spec):
    """A preprocessed picture, mirrored if spec["flip"], plus noise of std spec["noise"] seeded by spec["seed"]."""
    if spec["flip"]:
        pixels = pixels.flip(-1)
    noise = torch.randn(pixels.shape, generator=torch.Generator().manual_seed(spec["seed"]))
    return pixels + spec["noise"] * noise


def challenge_image(spec):
    """The ResNet input (1, 3, 224, 224) described by spec = {image, flip, noise, seed}."""
    return _perturbed(preprocess_image(resource_path(spec["image"])), spec)


def challenge_vit_attentions(spec, model=None, processor=None):
    """The ViT's attentions (one (1, 12, 197, 197) tensor per layer) for the picture described by spec."""
    if model is None:
        model, processor = load_vit()
    pixels = _perturbed(preprocess_image_vit(resource_path(spec["image"]), processor)["pixel_values"], spec)
    with torch.no_grad():
        attentions = model(pixel_values=pixels, output_attentions=True).attentions
    expect_layer_attentions(attentions, model.config)
    return attentions


def random_attentions(spec):
    """spec["layers"] attention tensors (1, heads, tokens, tokens), rows softmax-normalised, seeded."""
    generator = torch.Generator().manual_seed(spec["seed"])
    shape = (spec["layers"], 1, spec["heads"], spec["tokens"], spec["tokens"])
    return tuple((spec["sharpness"] * torch.randn(shape, generator=generator)).softmax(dim=-1))


def random_sparse_matrices(spec):
    """spec["count"] non-negative (rows, cols) matrices, about spec["zeros"] of the entries zero, seeded;
    row spec["empty_row"] (if given) all zero."""
    generator = torch.Generator().manual_seed(spec["seed"])
    shape = (spec["count"], spec["rows"], spec["cols"])
    values = 3 * torch.rand(shape, generator=generator) ** 3
    matrices = values * (torch.rand(shape, generator=generator) >= spec["zeros"])
    if spec.get("empty_row") is not None:
        matrices[:, spec["empty_row"]] = 0
    return list(matrices)


def tied_values(spec):
    """A seeded map of shape spec["shape"] with many equal entries, or all spec["constant"] when that is given.

    Standard normal noise (dtype spec["dtype"]), ReLU'd if spec["relu"] (every negative entry becomes 0),
    rounded to multiples of 1 / spec["levels"] if that is not None (a few distinct values), then cubed:
    the order and the ties stay, the values spread unevenly (so correlating raw values is not correlating ranks).
    """
    dtype = getattr(torch, spec.get("dtype", "float32"))
    if spec.get("constant") is not None:
        return torch.full(tuple(spec["shape"]), float(spec["constant"]), dtype=dtype)
    generator = torch.Generator().manual_seed(spec["seed"])
    return _tied(torch.randn(tuple(spec["shape"]), generator=generator, dtype=dtype), spec)


def _tied(noise, spec):
    if spec["relu"]:
        noise = noise.relu()
    if spec["levels"] is not None:
        noise = torch.round(noise * spec["levels"]) / spec["levels"]
    return noise ** 3


def tied_map_pair(spec):
    """Two seeded maps of shape spec["shape"] correlated about spec["mix"] (in [-1, 1]) before tied_values'
    ReLU, rounding and cubing; map spec["constant"] (0 or 1, if given) all zeros instead."""
    generator = torch.Generator().manual_seed(spec["seed"])
    shape = tuple(spec["shape"])
    first = torch.randn(shape, generator=generator)
    second = spec["mix"] * first + math.sqrt(1 - spec["mix"] ** 2) * torch.randn(shape, generator=generator)
    maps = [_tied(first, spec), _tied(second, spec)]
    if spec.get("constant") is not None:
        maps[spec["constant"]] = torch.zeros(shape)
    return maps


def toy_cnn(spec):
    """The course's toy CNN as torch.manual_seed(spec["init_seed"]) then toy_models.build("cnn") makes it, its
    batch norms then given seeded weights, biases and running statistics (as training leaves them), so that
    re-initialising any layer changes its state. The global random generator is left as it was."""
    from coursekit import toy_models  # imports torchvision: only for the tests that need it

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec["init_seed"])
        model = toy_models.build("cnn")
    generator = torch.Generator().manual_seed(spec["init_seed"])
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.weight.copy_(1 + 0.3 * torch.randn(size, generator=generator))
                module.bias.copy_(0.3 * torch.randn(size, generator=generator))
                module.running_mean.copy_(0.5 * torch.randn(size, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(size, generator=generator))
                module.num_batches_tracked.fill_(80)
    return model


def state_fingerprint(model):
    """The `explain` of the cascading randomisation test: (entries, 2) float64, per state_dict entry in order
    the sum of its values and a position-weighted sum (weights -3, -2, ..., 3, -3, -2, ...). It records which
    layers hold which values: a layer re-initialised with another seed, or not at all, changes its rows."""
    rows = []
    for tensor in model.state_dict().values():
        values = tensor.detach().to("cpu", torch.float64).flatten()
        weights = (torch.arange(values.numel()) % 7 - 3).double()
        rows.append(torch.stack([values.sum(), (values * weights).sum()]))
    return torch.stack(rows)


class LogitsOutput(nn.Module):
    """`model` whose output is an object with the logits as `.logits` (as transformers' models return them)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixels):
        return types.SimpleNamespace(logits=self.model(pixels))


def trained_toy_cnn():
    """The course's trained toy CNN (the shipped weights), the global random generator left as it was."""
    from coursekit.toy_models import load_toy_cnn  # imports torchvision: only for the tests that need it

    with torch.random.fork_rng(devices=[]):  # building the model draws an initialisation first
        return load_toy_cnn()


def curve_model(spec, trained=None):
    """The trained toy CNN with a classifier drawn from spec["init_seed"]: fc's weights spec["gain"] times standard
    normal / sqrt(fc.in_features), its bias zero. Another model at each grading, whose probabilities move as pixels
    are replaced (a freshly initialised CNN's hardly move: its output is nearly the same for every picture).
    `trained`: trained_toy_cnn()'s model to copy instead of loading it again (not changed)."""
    model = copy.deepcopy(trained) if trained is not None else trained_toy_cnn()
    generator = torch.Generator().manual_seed(spec["init_seed"])
    with torch.no_grad():
        weight = torch.randn(model.fc.weight.shape, generator=generator)
        model.fc.weight.copy_(spec["gain"] * weight / math.sqrt(model.fc.in_features))
        model.fc.bias.zero_()
    return model


def replacement_inputs(case):
    """(image, replacement, saliency) for the replacement curve, described by case = {kind, picture_seed, size, ...}.

    The picture: the course's synthetic picture make_pictures(1, case["picture_seed"]) as the toy models take it,
    its top-left case["size"] = (H, W) pixels, plus seeded noise of std case["noise"] (seed case["seed"]).
    "deletion": image = the picture, replacement = zeros (grey); "insertion": image = the picture blurred (an
    11 x 11 box, edges replicated, as the notebook blurs), replacement = the picture. The saliency: a seeded
    (grid, grid) map, grid = case["grid"], of standard normal values floored to multiples of 1 / case["levels"]
    (a few distinct values, no -0.0), each cell spread over a block of (H / grid) x (W / grid) pixels: blocks of
    equal values, and equal blocks side by side, whose pixels only the row-major order puts in order. With
    case["saliency_shape"], seeded uniform values of that shape instead (a map of the wrong shape).
    """
    from coursekit.synthetic import make_pictures
    from coursekit.toy_models import model_input

    generator = torch.Generator().manual_seed(case["seed"])
    height, width = case["size"]
    picture = model_input(make_pictures(1, case["picture_seed"]).images)[..., :height, :width]
    picture = picture + case["noise"] * torch.randn(picture.shape, generator=generator)
    if case["kind"] == "deletion":
        image, replacement = picture, torch.zeros_like(picture)
    else:
        image, replacement = F.avg_pool2d(F.pad(picture, (5, 5, 5, 5), mode="replicate"), 11, stride=1), picture
    if case.get("saliency_shape") is not None:
        return image, replacement, torch.rand(tuple(case["saliency_shape"]), generator=generator)
    grid, levels = case["grid"], case["levels"]
    coarse = torch.floor(levels * torch.randn((grid, grid), generator=generator)) / levels
    saliency = coarse.repeat_interleave(height // grid, dim=0).repeat_interleave(width // grid, dim=1)
    return image, replacement, saliency


def random_curve(case):
    """case["points"] seeded values uniform in [0, 1) (like probabilities), of dtype case["dtype"]."""
    generator = torch.Generator().manual_seed(case["seed"])
    return torch.rand(case["points"], generator=generator, dtype=getattr(torch, case["dtype"]))


def vit_cls_maps(attentions):
    """The heads' mean CLS-to-patch attention of each layer as (14, 14) maps: the entropy exercise's input."""
    return [layer[0].mean(dim=0)[0, 1:].reshape(14, 14) for layer in attentions]


def attention_case(case, vit=None):
    """The attentions of one case of a challenge: {"vit": picture spec} or {"random": random_attentions spec}."""
    if "vit" in case:
        return challenge_vit_attentions(case["vit"], *(vit or ()))
    return random_attentions(case["random"])


# ---- what each hidden test calls: generators of (key, result) -----------------------------------

def _copies(tensors):
    return [tensor.clone() for tensor in tensors]


def _unchanged(given, originals):
    return all(torch.equal(a, b) for a, b in zip(given, originals))


def probe_compute_cam(challenge, compute_cam):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    for target_class in challenge["classes"]:
        yield f"cam[{target_class}]", compute_cam(model, image, target_class)
    yield "hooks_left", count_hooks(model)
    yield "training", model.training


def probe_top_class_cams(challenge, top_class_cams):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    classes, cams = top_class_cams(model, image, challenge["k"])
    yield "classes", [operator.index(c) for c in classes]
    yield "cams", cams
    yield "hooks_left", count_hooks(model)


def probe_gradcam_class(challenge, GradCAM):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    for case in challenge["cases"]:
        layer, target_class = case["layer"], case["class"]
        with (GradCAM(model) if layer is None else GradCAM(model, model.get_submodule(layer))) as cam:
            yield f"{layer}/map", cam(image, target_class)
            with torch.no_grad():
                yield f"{layer}/map_without_grad", cam(image, target_class)
    yield "hooks_left", count_hooks(model)
    yield "training", model.training
    yield "grads_left", any(p.grad is not None and bool(p.grad.any()) for p in model.parameters())


def probe_gradcams_at_layers(challenge, gradcams_at_layers):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    layers = {name: model.get_submodule(name) for name in challenge["layers"]}
    maps = gradcams_at_layers(model, image, challenge["class"], layers)
    yield "names", [str(name) for name in maps]
    for name in challenge["layers"]:
        yield f"{name}/map", maps[name]
    yield "hooks_left", count_hooks(model)


def probe_gradcams_for_classes(challenge, gradcams_for_classes):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    yield "maps", gradcams_for_classes(model, image, challenge["classes"], model.get_submodule(challenge["layer"]))
    yield "hooks_left", count_hooks(model)


def probe_gradcam_vs_cam(challenge, gradcam_vs_cam):
    model, image = load_resnet18(), challenge_image(challenge["image"])
    grad_cam, scaled_cam = gradcam_vs_cam(model, image, challenge["class"])
    yield "grad_cam", grad_cam
    yield "scaled_cam", scaled_cam
    yield "hooks_left", count_hooks(model)


def probe_obtain_attention_maps(challenge, obtain_attention_maps):
    for case in challenge["cases"]:
        attentions = attention_case(case)
        given = _copies(attentions)
        maps = obtain_attention_maps(given, patch_size=case["patch_size"])
        yield f"{case['name']}/is_a_list", isinstance(maps, (list, tuple))
        yield f"{case['name']}/count", len(maps)
        for layer, attention_map in enumerate(maps):
            yield f"{case['name']}/map[{layer}]", attention_map
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, attentions)


def probe_attention_entropies(challenge, attention_entropies):
    for case in challenge["cases"]:
        maps = random_sparse_matrices(case["random"]) if "random" in case else vit_cls_maps(attention_case(case))
        given = _copies(maps)
        entropies, most_concentrated = attention_entropies(given)
        yield f"{case['name']}/entropies", entropies
        yield f"{case['name']}/most_concentrated", operator.index(most_concentrated)
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, maps)


def probe_add_identity_and_normalise(challenge, add_identity_and_normalise):
    for case in challenge["cases"]:
        fused, = random_sparse_matrices(case)
        given = fused.clone()
        yield f"{case['rows']}/a_hat", add_identity_and_normalise(given)
        yield f"{case['rows']}/input_unchanged", torch.equal(given, fused)


def probe_compute_attention_rollout(challenge, compute_attention_rollout):
    for case in challenge["cases"]:
        attentions = attention_case(case)
        given = _copies(attentions)
        yield f"{case['name']}/map", compute_attention_rollout(given, discard_ratio=case["discard_ratio"],
                                                                 head_fusion=case["head_fusion"])
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, attentions)
    try:
        compute_attention_rollout(random_attentions(challenge["cases"][0]["random"]),
                                  head_fusion=challenge["unknown_fusion"])
    except ValueError:
        yield "rejects_unknown_fusion", True
    else:
        yield "rejects_unknown_fusion", False


def probe_average_ranks(challenge, average_ranks):
    all_float64 = True
    for case in challenge["cases"]:
        values = tied_values(case)
        given = values.clone()
        ranks = average_ranks(given)
        all_float64 &= isinstance(ranks, torch.Tensor) and ranks.dtype == torch.float64
        yield f"{case['name']}/ranks", ranks
        yield f"{case['name']}/input_unchanged", torch.equal(given, values)
    yield "float64", all_float64


def _raises_value_error(function, *arguments):
    try:
        function(*arguments)
    except ValueError:
        return True
    return False


def probe_spearman_rank_correlation(challenge, spearman_rank_correlation):
    for case in challenge["cases"]:
        maps = tied_map_pair(case)
        given = _copies(maps)
        yield f"{case['name']}/correlation", spearman_rank_correlation(*given)
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, maps)
    for case in challenge["mismatched"]:
        maps = [tied_values({**case, "shape": shape}) for shape in case["shapes"]]
        given = _copies(maps)
        yield f"{case['name']}/raises_value_error", _raises_value_error(spearman_rank_correlation, *given)
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, maps)


def probe_cascading_randomization(challenge, cascading_randomization):
    with torch.random.fork_rng(devices=[]):  # the student's code seeds torch's global generator
        for case in challenge["cases"]:
            model = toy_cnn(case)
            seed = {"seed": case["seed"]} if "seed" in case else {}  # no seed: the default
            maps = cascading_randomization(model, list(case["layers"]), state_fingerprint, **seed)
            yield f"{case['name']}/names", [str(name) for name in maps]
            for name in ["original", *case["layers"]]:
                yield f"{case['name']}/map[{name}]", maps[name]
            yield f"{case['name']}/model_after", state_fingerprint(model)


def probe_replacement_curve(challenge, replacement_curve):
    for case in challenge["cases"]:
        model = curve_model(case)
        inputs = replacement_inputs(case)
        given = _copies(inputs)
        steps = {"steps": case["steps"]} if "steps" in case else {}  # no steps: the default
        called = LogitsOutput(model) if case["logits_attribute"] else model
        yield f"{case['name']}/curve", replacement_curve(called, *given, case["class"], **steps)
        yield f"{case['name']}/model_after", state_fingerprint(model)
        yield f"{case['name']}/inputs_unchanged", _unchanged(given, inputs)
    for case in challenge["wrong_shapes"]:
        yield f"{case['name']}/raises_value_error", _raises_value_error(
            replacement_curve, curve_model(case), *replacement_inputs(case), case["class"], case["steps"])


def probe_area_under_curve(challenge, area_under_curve):
    for case in challenge["cases"]:
        scores = random_curve(case)
        given = scores.clone()
        yield f"{case['name']}/area", area_under_curve(given)
        yield f"{case['name']}/input_unchanged", torch.equal(given, scores)
    for case in challenge["too_short"]:
        yield f"{case['name']}/raises_value_error", _raises_value_error(area_under_curve, random_curve(case))


PROBES = {
    "compute_cam_hidden": probe_compute_cam,
    "top_class_cams_hidden": probe_top_class_cams,
    "gradcam_class_hidden": probe_gradcam_class,
    "gradcams_at_layers_hidden": probe_gradcams_at_layers,
    "gradcams_for_classes_hidden": probe_gradcams_for_classes,
    "gradcam_vs_cam_hidden": probe_gradcam_vs_cam,
    "obtain_attention_maps_hidden": probe_obtain_attention_maps,
    "attention_entropies_hidden": probe_attention_entropies,
    "add_identity_and_normalise_hidden": probe_add_identity_and_normalise,
    "compute_attention_rollout_hidden": probe_compute_attention_rollout,
    "average_ranks_hidden": probe_average_ranks,
    "spearman_rank_correlation_hidden": probe_spearman_rank_correlation,
    "cascading_randomization_hidden": probe_cascading_randomization,
    "replacement_curve_hidden": probe_replacement_curve,
    "area_under_curve_hidden": probe_area_under_curve,
}


# ---- results as plain data ---------------------------------------------------------------------

def encode(value):
    """A result as JSON-safe data: a flag, an integer, a list of integers or of texts, or numbers as float64.

    Numbers travel as the little-endian bytes of a float64 array (base64), so NaN and infinity
    arrive as they are; "type" says what the student's code returned (a tensor, a list ...).
    """
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return {"texts": [str(v) for v in value]}
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return {"ints": [int(v) for v in value]}
    kind = "tensor" if isinstance(value, torch.Tensor) else type(value).__name__
    if isinstance(value, float):  # a Python float as it is (torch.as_tensor would round it to float32)
        array = np.array(value, dtype="<f8")
    else:
        # np.require keeps a 0-d result 0-d (np.ascontiguousarray would make it (1,))
        array = np.require(torch.as_tensor(value).detach().to("cpu", torch.float64).numpy(), "<f8", "C")
    if array.size > MAX_VALUES:
        raise ValueError(f"a result of {array.size} numbers is larger than any answer ({MAX_VALUES})")
    return {"type": kind, "shape": list(array.shape), "float64": base64.b64encode(array.tobytes()).decode()}


def records(grade_id, challenge, functions):
    """The records a hidden test publishes: one per result, or an error record where the student's code raised."""
    results = []
    try:
        for key, value in PROBES[grade_id](challenge, **functions):
            results.append({"test": grade_id, "key": key, **encode(value)})
    except Exception as error:  # the student's code may raise anything; the grader reports it
        results.append({"test": grade_id, "key": "error", "error": f"{type(error).__name__}: {error}"[:2000]})
    return results


def run_hidden_test(grade_id, **functions):
    """Run one hidden test: in grading, publish the records for the grader; elsewhere, check them here."""
    challenge = os.environ.get(CHALLENGE_VARIABLE)
    if challenge is None:
        return _check_here(grade_id, functions)
    from IPython.display import publish_display_data

    for record in records(grade_id, json.loads(challenge)[grade_id], functions):
        publish_display_data({RESULT_MIME: record})


def _check_here(grade_id, functions):
    """Outside grading: judge the records in this process with the grader's code (instructors' copy only)."""
    try:
        from tools.grading import hidden
    except ImportError:
        raise RuntimeError(bilingual("숨은 테스트는 과제를 채점할 때에만 실행됩니다.",
                                     "hidden tests run only when the notebook is graded")) from None
    hidden.check_here(grade_id, functions)
