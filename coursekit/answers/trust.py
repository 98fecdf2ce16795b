"""Notebook 05_trust's answers, as solutions/05_trust/05_trust.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
import copy

import torch

from coursekit.sanity import reinitialise

__all__ = ["average_ranks", "spearman_rank_correlation", "cascading_randomization"]


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
