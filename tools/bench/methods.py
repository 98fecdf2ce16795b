"""The cost of each explanation method as a ratio to the model's own work and to other implementations.

"Ours" is the code the course teaches: coursekit.explainers, whose answer modules are written
from the solution notebooks (tools/answer_modules.py), and which notebooks 02 and 04 import.
Each comparison times its contenders in one round-robin run (timing.median_seconds) on the
same model and input.
"""
import torch

from coursekit import explainers
from coursekit.images import preprocess_image, preprocess_image_vit
from coursekit.models import load_resnet18, load_vit
from coursekit.paths import resource_path
from tools.references.rollout import rollout_map

IMAGE = "chelsea.png"


def _row(method, ours, baseline, times, target=None):
    """One line of the results: the ratio of two medians, and whether it meets its target."""
    ratio = times[ours] / times[baseline]
    return {"method": method, "ours": ours, "ours_ms": 1e3 * times[ours], "baseline": baseline,
            "baseline_ms": 1e3 * times[baseline], "ratio": ratio, "target": target,
            "met": None if target is None else ratio <= target}


def resnet_rows(measure):
    """CAM against a forward pass; Grad-CAM against forward + backward, captum and pytorch-grad-cam."""
    from captum.attr import LayerGradCam
    from pytorch_grad_cam import GradCAM as LibraryGradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model = load_resnet18()
    x = preprocess_image(resource_path(IMAGE))
    with torch.no_grad():
        target = int(model(x)[0].argmax())
    layer = model.layer4[-1].conv2

    def forward():
        with torch.no_grad():
            model(x)

    def forward_backward():
        model.zero_grad(set_to_none=True)
        model(x)[0, target].backward()

    captum = LayerGradCam(model, layer)
    with explainers.GradCAM(model, layer) as ours_gradcam, LibraryGradCAM(model, [layer]) as library:
        times = measure({
            "forward": forward,
            "CAM": lambda: explainers.compute_cam(model, x, target),
            "forward+backward": forward_backward,
            "Grad-CAM": lambda: ours_gradcam(x, target),
            "captum LayerGradCam": lambda: captum.attribute(x, target=target, relu_attributions=True),
            "pytorch-grad-cam GradCAM": lambda: library(input_tensor=x, targets=[ClassifierOutputTarget(target)]),
        })
    model.zero_grad(set_to_none=True)
    return [
        _row("CAM", "CAM", "forward", times, target=1.05),
        _row("Grad-CAM", "Grad-CAM", "forward+backward", times, target=1.10),
        _row("Grad-CAM", "Grad-CAM", "captum LayerGradCam", times, target=1.00),
        _row("Grad-CAM", "Grad-CAM", "pytorch-grad-cam GradCAM", times),
    ]


def vit_rows(measure):
    """Attention maps and rollout (each including the forward that returns the attentions) against
    the eager ViT forward alone, and rollout alone against an implementation of the paper's definition
    (tools/references/rollout.py)."""
    model, processor = load_vit()
    pixels = preprocess_image_vit(resource_path(IMAGE), processor)["pixel_values"]

    def forward(output_attentions=False):
        with torch.no_grad():
            return model(pixels, output_attentions=output_attentions)

    attentions = forward(output_attentions=True).attentions
    times = measure({
        "ViT forward": forward,
        "attention maps": lambda: explainers.obtain_attention_maps(forward(True).attentions),
        "rollout": lambda: explainers.compute_attention_rollout(forward(True).attentions),
        "rollout only": lambda: explainers.compute_attention_rollout(attentions),
        "paper rollout only": lambda: rollout_map(attentions),
    })
    return [
        _row("attention maps", "attention maps", "ViT forward", times),
        _row("attention rollout", "rollout", "ViT forward", times, target=1.05),
        _row("attention rollout", "rollout only", "paper rollout only", times),
    ]
