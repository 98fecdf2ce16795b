"""Independent references for notebook 05 (can we trust an explanation?), in plain Python and NumPy float64.

They share no code with the solution, the checks or coursekit.sanity:

- average ranks: the entries sorted by value, each run of equal values given the mean of the
  positions (1-based) it spans;
- Spearman's rank correlation: the Pearson correlation of those ranks, centred on (n + 1) / 2
  (the mean of any n average ranks, exactly), NaN when either map's ranks are all equal;
- cascading randomisation (Adebayo et al. 2018): a deep copy whose layers, from the top down,
  are re-initialised one more at each step, step i right after torch.manual_seed(seed + i), by
  calling reset_parameters() on every module of the layer that has one, the layer itself first,
  then its children depth first in the order they were added.

The keyword switches turn one step into a plausible mistake, so the tests can build the wrong
answers the hidden tests must reject: ordinal, lowest or dense ranks for ties; the textbook
formula 1 - 6 sum d^2 / (n (n^2 - 1)) or Pearson on the raw values; a fresh copy at every
step, or one seed for the whole cascade.
"""
import copy

import numpy as np
import torch


def as_numbers(values):
    """A tensor (or array) as a flat float64 NumPy array (float32 values convert exactly)."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64).ravel()


def average_ranks(values, ties="mean"):
    """Ranks 1..n of the entries, equal entries sharing the mean of their positions in sorted order.

    ties: "mean" (right), or as mistakes "ordinal" (1..n in sorted order, ties broken by position),
    "lowest" (the first position of the run) or "dense" (1, 2, 3 ... per distinct value).
    """
    numbers = as_numbers(values)
    order = sorted(range(numbers.size), key=lambda index: (numbers[index], index))
    ranks = np.empty(numbers.size)
    start, distinct = 0, 0
    while start < len(order):
        end = start  # the run of equal values is order[start .. end]
        while end + 1 < len(order) and numbers[order[end + 1]] == numbers[order[start]]:
            end += 1
        distinct += 1
        for position in range(start, end + 1):
            ranks[order[position]] = {"mean": (start + end) / 2 + 1, "ordinal": position + 1,
                                      "lowest": start + 1, "dense": distinct}[ties]
        start = end + 1
    return ranks


def _pearson(x, y, centre_x, centre_y):
    dx, dy = x - centre_x, y - centre_y
    spread = float(np.sqrt(np.sum(dx * dx) * np.sum(dy * dy)))
    return float("nan") if spread == 0 else float(np.sum(dx * dy) / spread)


def spearman(map_a, map_b, method="ranks", ties="mean"):
    """Spearman's rank correlation of two maps of the same shape (a float; NaN when either is constant).

    method: "ranks" (right: Pearson of the average ranks), or as mistakes "textbook"
    (1 - 6 sum d^2 / (n (n^2 - 1)), exact only without ties) or "raw_pearson" (Pearson of the values).
    """
    a, b = as_numbers(map_a), as_numbers(map_b)
    if a.size != b.size:
        raise ValueError("the maps have different sizes")
    size = a.size
    if method == "raw_pearson":
        return _pearson(a, b, a.mean(), b.mean())
    ranks_a, ranks_b = average_ranks(a, ties), average_ranks(b, ties)
    if method == "textbook":
        return float(1 - 6 * np.sum((ranks_a - ranks_b) ** 2) / (size * (size * size - 1)))
    return _pearson(ranks_a, ranks_b, ranks_a.mean(), ranks_b.mean()) if ties != "mean" \
        else _pearson(ranks_a, ranks_b, (size + 1) / 2, (size + 1) / 2)


def _submodule(model, name):
    """The module at a dotted path, e.g. "layer4.0.conv2", through the modules' registered children."""
    module = model
    for part in name.split("."):
        module = module._modules[part]
    return module


def _depth_first(module, seen):
    """The module, then its children's subtrees in the order they were added; each module once."""
    if id(module) in seen:
        return
    seen.add(id(module))
    yield module
    for child in module._modules.values():
        if child is not None:
            yield from _depth_first(child, seen)


def reset_layer(layer):
    """Call reset_parameters() on every module of `layer` that has it, in depth-first order."""
    for module in _depth_first(layer, set()):
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()


def cascade(model, layer_names, explain, seed=0, cumulative=True, seeding="per_step"):
    """{"original": explain(copy), name_0: ..., name_1: ...}: layer_names re-initialised one more at each step.

    cumulative=False (mistake): every step starts from a fresh copy of `model`.
    seeding="once" (mistake): torch.manual_seed(seed) once before the first step, not seed + i at step i.
    torch's global generator is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        randomised = copy.deepcopy(model)
        maps = {"original": explain(randomised)}
        if seeding == "once":
            torch.manual_seed(seed)
        for step, name in enumerate(layer_names):
            if not cumulative:
                randomised = copy.deepcopy(model)
            if seeding == "per_step":
                torch.manual_seed(seed + step)
            reset_layer(_submodule(randomised, name))
            maps[name] = explain(randomised)
    return maps
