"""Notebook 01_cam's answers, as solutions/01_cam/01_cam.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
import torch

from ImageNet_utils import check_class_index

__all__ = ["compute_cam"]


def compute_cam(model, image_tensor, target_class):
    """Return the raw class activation map M_c of one image at `model.layer4`.

    Args:
        model: a ResNet-style classifier whose `layer4` is the last convolutional stage and
            whose `fc` follows global average pooling; it is left as it was given.
        image_tensor: the preprocessed image, shape (1, 3, H, W).
        target_class: the index c of the class to explain.

    Returns:
        torch.Tensor (h, w): M_c(x, y) = sum_k w_k^c f_k(x, y), without ReLU or normalisation.
    """
    target_class = check_class_index(target_class, model.fc.out_features)

    features = []
    handle = model.layer4.register_forward_hook(lambda module, inputs, output: features.append(output.detach()))
    try:
        with torch.no_grad():
            model(image_tensor)
    finally:
        handle.remove()
    feature_map = features[0][0]                       # (K, h, w)
    class_weights = model.fc.weight[target_class].detach()  # (K,)
    cam = torch.einsum("k,khw->hw", class_weights, feature_map)
    return cam
