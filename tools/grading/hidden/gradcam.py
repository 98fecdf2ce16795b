"""Hidden tests of 02_gradcam: Grad-CAM at random layers (always one that an in-place operation follows,
where a stored activation that is not a copy goes wrong) and random classes of a perturbed picture."""
import torch

from coursekit.probes import challenge_image
from tools.grading.hidden.common import EVAL_MODE, NO_HOOKS, picture, resnet
from tools.grading.hidden.expected import Close, Same
from tools.references.cam import cam_by_stages
from tools.references.gradcam import gradcam_maps

DEFAULT_LAYER = "layer4.1.conv2"  # GradCAM(model) without a target layer: the exercise's contract
# Layers whose output an in-place operation changes afterwards: BasicBlock's ReLU after bn1, `+=` after bn2.
IN_PLACE_AFTER = ("layer1.0.bn1", "layer2.1.bn1", "layer3.1.bn1", "layer4.0.bn1", "layer2.1.bn2", "layer3.0.bn2",
                  "layer4.1.bn2")
OTHER_LAYERS = ("layer1", "layer2", "layer3", "layer4", "layer4.1", "layer2.0.conv1", "layer3.1.conv1", DEFAULT_LAYER)
TOLERANCE = {"atol": 1e-5, "rtol": 1e-3}
SMALLEST_PEAK = 1e-4  # a map whose largest value is below this would let an all-zero answer pass
ATTEMPTS = 50


def _informative(reference):
    """Whether an all-zero or constant answer is far from this map."""
    return float(reference.max()) >= SMALLEST_PEAK and int((reference > 0).sum()) >= 2


def _classes_with_maps(rng, image, layers, count):
    """`count` random classes whose Grad-CAMs at every layer are informative, with those maps."""
    model, found = resnet(), {}
    modules = {name: model.get_submodule(name) for name in layers}
    for _ in range(ATTEMPTS):
        target_class = rng.randrange(1000)
        maps = gradcam_maps(model, modules, image, [target_class])
        if target_class not in found and all(_informative(m) for m in maps.values()):
            found[target_class] = {name: maps[name, target_class] for name in layers}
            if len(found) == count:
                return found
    raise RuntimeError(f"no {count} classes with informative Grad-CAMs at {layers} in {ATTEMPTS} tries")


def _map(reference, korean, english):
    return Close(reference.numpy(), (korean, english), **TOLERANCE)


def gradcam_class(rng):
    image_spec = picture(rng)
    image = challenge_image(image_spec)
    cases, expected = [], {}
    for layer in (rng.choice(IN_PLACE_AFTER), rng.choice([None, *OTHER_LAYERS])):
        name = DEFAULT_LAYER if layer is None else layer
        (target_class, maps), = _classes_with_maps(rng, image, [name], 1).items()
        cases.append({"layer": layer, "class": target_class})
        where = "GradCAM(model)" if layer is None else f"GradCAM(model, model.get_submodule('{layer}'))"
        expected[f"{layer}/map"] = _map(maps[name], f"{where}의 클래스 {target_class} 지도",
                                        f"the map of class {target_class} from {where}")
        expected[f"{layer}/map_without_grad"] = _map(
            maps[name], f"torch.no_grad() 안에서 부른 {where}의 클래스 {target_class} 지도",
            f"the map of class {target_class} from {where}, called under torch.no_grad()")
    no_grad_left = Same(False, "bool", ("매개변수에 .grad가 남았는가", "a .grad left on the parameters"))
    return ({"image": image_spec, "cases": cases},
            {**expected, "hooks_left": NO_HOOKS, "training": EVAL_MODE, "grads_left": no_grad_left})


def gradcams_at_layers(rng):
    image_spec = picture(rng)
    layers = [rng.choice(IN_PLACE_AFTER), *rng.sample(OTHER_LAYERS, rng.randint(1, 2))]
    rng.shuffle(layers)
    (target_class, maps), = _classes_with_maps(rng, challenge_image(image_spec), layers, 1).items()
    expected = {f"{name}/map": _map(maps[name], f"maps['{name}']", f"maps['{name}']") for name in layers}
    names = Same(layers, "texts", ("돌려준 dict의 키 (순서대로)", "the keys of the returned dict, in order"))
    return ({"image": image_spec, "layers": layers, "class": target_class},
            {"names": names, **expected, "hooks_left": NO_HOOKS})


def gradcams_for_classes(rng):
    image_spec = picture(rng)
    layer = rng.choice(IN_PLACE_AFTER)  # one layer only: it must be one where a stored activation that is not a copy goes wrong
    found = _classes_with_maps(rng, challenge_image(image_spec), [layer], rng.randint(2, 3))
    classes = list(found)
    maps = torch.stack([found[c][layer] for c in classes])
    return ({"image": image_spec, "layer": layer, "classes": classes},
            {"maps": _map(maps, f"클래스 {classes}의 지도", f"the maps of classes {classes}"), "hooks_left": NO_HOOKS})


def gradcam_vs_cam(rng):
    model = resnet()
    for _ in range(ATTEMPTS):
        challenge = {"image": picture(rng), "class": rng.randrange(1000)}
        cam = cam_by_stages(model, challenge_image(challenge["image"]), challenge["class"])
        scaled = torch.relu(cam) / cam.numel()
        if _informative(scaled) and float(cam.min()) < 0:  # a forgotten ReLU shows
            break
    else:
        raise RuntimeError(f"no class with an informative ReLU(CAM) in {ATTEMPTS} tries")
    target_class = challenge["class"]
    return challenge, {
        "grad_cam": _map(scaled, f"layer4의 클래스 {target_class} Grad-CAM", f"the layer4 Grad-CAM of class {target_class}"),
        "scaled_cam": _map(scaled, f"클래스 {target_class}의 ReLU(CAM) / (h·w)", f"ReLU(CAM) / (h * w) of class {target_class}"),
        "hooks_left": NO_HOOKS}


TESTS = {"gradcam_class_hidden": gradcam_class, "gradcams_at_layers_hidden": gradcams_at_layers,
         "gradcams_for_classes_hidden": gradcams_for_classes, "gradcam_vs_cam_hidden": gradcam_vs_cam}
