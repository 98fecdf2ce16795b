"""Guided Backpropagation (Springenberg et al. 2015): the method notebook 05's sanity check exposes.

Backpropagation from a class score to the pixels, except that every ReLU also blocks negative
gradients on the way back: the gradient passes a ReLU only where its input was positive (the
ordinary rule) AND the gradient arriving from above is positive. The maps look sharp, yet Adebayo
et al. (2018) showed they hardly change when the model's top layers are randomised.

As in notebook 02, hook bookkeeping is kept apart from the formula: `guided_relus` registers the
hooks and always removes them, and it turns in-place ReLUs off while it runs (torchvision's
BasicBlock reuses one ReLU(inplace=True), on which a backward hook fails), restoring them after.
"""
from contextlib import contextmanager

import torch
from torch import nn


def positive_gradient_only(module, grad_input, grad_output):
    """Backward hook of a ReLU: keep only the positive part of the gradient it passes down."""
    return (grad_input[0].clamp(min=0),)


@contextmanager
def guided_relus(model):
    """Within the `with` body, every nn.ReLU of `model` passes only positive gradients back."""
    relus = [module for module in model.modules() if isinstance(module, nn.ReLU)]
    in_place = [relu.inplace for relu in relus]
    handles = []
    try:
        for relu in relus:
            relu.inplace = False
            handles.append(relu.register_full_backward_hook(positive_gradient_only))
        yield model
    finally:
        for handle in handles:
            handle.remove()
        for relu, flag in zip(relus, in_place):
            relu.inplace = flag


def guided_backprop(model, x, target_class):
    """(H, W) Guided Backpropagation map of the first image in x for target_class (pre-softmax score).

    The map is the largest absolute gradient over the colour channels at each pixel, as in the
    sanity-check paper. The model is left as it was (no hooks, same in-place flags, no .grad).
    """
    pixels = x[:1].detach().clone().requires_grad_(True)
    with torch.enable_grad(), guided_relus(model):
        output = model(pixels)
        score = getattr(output, "logits", output)[0, target_class]
        gradient, = torch.autograd.grad(score, pixels)
    return gradient[0].abs().amax(dim=0)
