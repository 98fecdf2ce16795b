"""Notebook 05_trust's answers, as solutions/05_trust/05_trust.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
import copy

import torch

from coursekit.sanity import reinitialise

__all__ = ["average_ranks", "spearman_rank_correlation", "cascading_randomization", "replacement_curve", "area_under_curve"]


def average_ranks(values):
    """Ranks 1..n of the entries of a 1-D tensor; equal entries share the mean of the ranks they span.

    Args:
        values: (n,) tensor; not modified.

    Returns:
        torch.Tensor (n,) float64: the smallest entry has rank 1, the largest rank n, and e.g.
        [10, 20, 20, 30] -> [1, 2.5, 2.5, 4].
    """
    values = values.detach().double()
    ordered = values.sort().values
    smaller = torch.searchsorted(ordered, values, side="left")
    smaller_or_equal = torch.searchsorted(ordered, values, side="right")
    ranks = (smaller + 1 + smaller_or_equal).double() / 2
    return ranks


def spearman_rank_correlation(map_a, map_b):
    """Spearman's rank correlation of two maps of the same shape: the Pearson correlation of their ranks.

    Args:
        map_a, map_b: tensors of the same shape (e.g. two (8, 8) heatmaps); not modified.

    Returns:
        float in [-1, 1]; float("nan") when either map is constant (a constant map orders nothing).

    Raises:
        ValueError: the maps' shapes differ.
    """
    if map_a.shape != map_b.shape:
        raise ValueError(f"the maps' shapes differ: {tuple(map_a.shape)} and {tuple(map_b.shape)}")
    ranks_a = average_ranks(map_a.flatten())
    ranks_b = average_ranks(map_b.flatten())
    centred_a, centred_b = ranks_a - ranks_a.mean(), ranks_b - ranks_b.mean()
    spread = centred_a.norm() * centred_b.norm()
    if spread == 0:
        return float("nan")
    rho = float((centred_a * centred_b).sum() / spread)
    return rho


def cascading_randomization(model, layer_names, explain, seed=0):
    """Adebayo et al.'s cascading randomisation: re-initialise layers from the top down, explaining after each.

    Args:
        model: the trained model; never changed (the layers of a copy are re-initialised).
        layer_names: names of `model`'s submodules (for model.get_submodule), from the output towards the input.
        explain: function(model) -> a map (tensor); called once per step.
        seed: step i re-initialises layer_names[i] with reinitialise() right after torch.manual_seed(seed + i).

    Returns:
        dict {"original": explain(copy of model), layer_names[0]: the map with that layer re-initialised,
        layer_names[1]: the map with the first two re-initialised, ...}, in that order.
    """
    randomised = copy.deepcopy(model)
    maps = {"original": explain(randomised)}
    for step, name in enumerate(layer_names):
        torch.manual_seed(seed + step)
        reinitialise(randomised.get_submodule(name))
        maps[name] = explain(randomised)
    return maps


def replacement_curve(model, image, replacement, saliency, target_class, steps=16):
    """Probabilities of target_class as the pixels of `image` are replaced by those of `replacement`, most salient first.

    Args:
        model: classifier returning (batch, classes) logits (or an output with .logits); not modified.
        image, replacement: (1, C, H, W) tensors of the same shape; not modified.
        saliency: (H, W) map; pixels are replaced in descending order of it, equal values in row-major order.
        target_class: the class whose softmax probability is recorded.
        steps: the curve has steps + 1 points; point k has the first k * H * W // steps pixels replaced.

    Returns:
        torch.Tensor (steps + 1,): point 0 is `image` as it is, point `steps` is `replacement`.

    Raises:
        ValueError: saliency is not (H, W).
    """
    height, width = image.shape[-2:]
    if tuple(saliency.shape) != (height, width):
        raise ValueError(f"saliency must be (H, W) = {(height, width)} like the image, got {tuple(saliency.shape)}")
    pixels = height * width
    order = saliency.detach().flatten().argsort(descending=True, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(pixels, device=order.device)
    counts = torch.tensor([k * pixels // steps for k in range(steps + 1)], device=order.device)
    replaced = (rank[None, :] < counts[:, None]).reshape(steps + 1, 1, height, width)
    pictures = torch.where(replaced.to(image.device), replacement, image)
    with torch.no_grad():
        output = model(pictures)
    scores = getattr(output, "logits", output).softmax(dim=1)[:, target_class]
    return scores


def area_under_curve(scores):
    """Area under a curve sampled at steps + 1 equally spaced points from 0 to 1, by the trapezoid rule.

    Args:
        scores: (steps + 1,) tensor, steps >= 1; not modified.

    Returns:
        float.

    Raises:
        ValueError: fewer than two points.
    """
    steps = scores.numel() - 1
    if steps < 1:
        raise ValueError(f"a curve needs at least two points, got {scores.numel()}")
    area = float((scores[:-1] + scores[1:]).sum() / (2 * steps))
    return area
