"""Grad-CAM test cases: ResNet18 layers (with and without an in-place op after them) and the
comparison of a Grad-CAM class with captum's and pytorch-grad-cam's maps (tools/references/libraries.py)."""
import torch

from coursekit import checks
from coursekit.images import preprocess_image
from coursekit.paths import resource_path
from tools.references.libraries import captum_gradcam, library_gradcam

# name: (how to find the layer in a ResNet18, whether pytorch-grad-cam is a valid reference there, image)
LAYERS = {
    "default": (lambda model: None, True, "coffee.png"),
    "layer4": (lambda model: model.layer4, True, "astronaut.png"),
    "layer3": (lambda model: model.layer3, True, "rocket.jpg"),
    "layer1": (lambda model: model.layer1, True, "chelsea.png"),
    "layer2[0].conv1": (lambda model: model.layer2[0].conv1, True, "grace_hopper.jpg"),
    "layer4[1].bn1 (in-place ReLU after it)": (lambda model: model.layer4[1].bn1, False, "coffee.png"),
    "layer3[0].bn2 (in-place += after it)": (lambda model: model.layer3[0].bn2, False, "astronaut.png"),
}


def expect_same_map(actual, reference):
    """Equal up to float32 rounding, relative to the map's largest value."""
    assert actual.shape == reference.shape
    torch.testing.assert_close(actual.detach().double(), reference,
                               atol=1e-5 * float(reference.max()) + 1e-12, rtol=1e-4)


def two_classes(model, image):
    """The top class and the class ranked 500th: a strong and a weak case."""
    with torch.no_grad():
        order = model(image)[0].argsort(descending=True)
    return int(order[0]), int(order[500])


def expect_matches_references(gradcam_class, model, layer_name):
    """A Grad-CAM class (notebook 02's interface) agrees with both references at one of LAYERS, for two classes.

    It must also give the same map twice and leave the model as it was: no hooks, eval mode,
    the same weights and statistics, no .grad.
    """
    find_layer, library_is_valid, image_name = LAYERS[layer_name]
    layer = find_layer(model)
    reference_layer = model.layer4[-1].conv2 if layer is None else layer
    image = preprocess_image(resource_path(image_name))
    top, other = two_classes(model, image)
    state = checks.snapshot_state(model)
    with gradcam_class(model, layer) as cam:
        maps = {c: cam(image, c) for c in (top, other)}
        again = cam(image, top)
    checks.expect_no_hooks(model)
    checks.expect_eval_mode(model)
    checks.expect_state_unchanged(model, state)
    checks.expect_no_grad(model)
    torch.testing.assert_close(again, maps[top], atol=0, rtol=0)
    for target_class, heatmap in maps.items():
        expect_same_map(heatmap, captum_gradcam(model, reference_layer, image, target_class))
        if library_is_valid:
            expect_same_map(heatmap, library_gradcam(model, reference_layer, image, target_class))
    assert float(maps[top].max()) > 0, "a degenerate case: the top class's map is all zero"
