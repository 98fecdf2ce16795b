"""Independent references for notebook 05 (can we trust an explanation?), in plain Python and NumPy float64.

They share no code with the solution, the checks or coursekit.sanity:

- average ranks: the entries sorted by value, each run of equal values given the mean of the
  positions (1-based) it spans;
- Spearman's rank correlation: the Pearson correlation of those ranks, centred on (n + 1) / 2
  (the mean of any n average ranks, exactly), NaN when either map's ranks are all equal;
- cascading randomisation (Adebayo et al. 2018): a deep copy whose layers, from the top down,
  are re-initialised one more at each step, step i right after torch.manual_seed(seed + i), by
  calling reset_parameters() on every module of the layer that has one, the layer itself first,
  then its children depth first in the order they were added;
- the replacement curve (deletion / insertion, Petsiuk et al. 2018): the pixels put in order by
  Python's sorted() on the negated saliency (sorted is stable: equal values stay in row-major
  order), then for each k = 0..steps a copy of the image (NumPy) whose first k * n // steps
  pixels in that order, all channels, are set from the replacement; the model (torch, float32)
  gives the logits, NumPy's float64 softmax the probabilities;
- the area under a curve: the trapezoids (s_k + s_k+1) / 2 summed one by one, divided by steps.

The keyword switches turn one step into a plausible mistake, so the tests can build the wrong
answers the hidden tests must reject: ordinal, lowest or dense ranks for ties; the textbook
formula 1 - 6 sum d^2 / (n (n^2 - 1)) or Pearson on the raw values; a fresh copy at every
step, or one seed for the whole cascade; the least salient pixels first, ties in another
order, only the pixels of step k replaced at point k, ceil or round for k * n / steps, only the
first channel replaced, logits, steps points; the mean of the points, a left Riemann sum, no
division by steps or a division by steps + 1.
"""
import copy
import math

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


def pixel_order(saliency, order="descending", ties="row_major"):
    """The row-major indices of the pixels of an (H, W) map, most salient first, equal values in row-major order.

    order="ascending" (mistake): the least salient first. ties (mistakes): "reversed" (equal values in reverse
    row-major order, as a stable ascending sort flipped gives them), "column_major" (column by column).
    """
    values = as_numbers(saliency)
    width = saliency.shape[-1]
    sign = -1.0 if order == "descending" else 1.0
    if ties == "row_major":
        return sorted(range(values.size), key=lambda index: sign * values[index])  # stable: ties keep index order
    if ties == "reversed":
        return sorted(range(values.size), key=lambda index: (sign * values[index], -index))
    if ties == "column_major":
        return sorted(range(values.size), key=lambda index: (sign * values[index], index % width, index // width))
    raise ValueError(f"unknown ties {ties!r}")


def _replaced_count(k, pixels, steps, rounding):
    """How many pixels point k replaces: floor(k n / steps) (right), or as mistakes its ceiling or nearest integer."""
    if rounding == "floor":
        return k * pixels // steps
    if rounding == "ceil":
        return -(-k * pixels // steps)
    if rounding == "round":
        return round(k * pixels / steps)  # half to even, as torch.round and NumPy
    raise ValueError(f"unknown rounding {rounding!r}")


def _softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def replacement_curve(model, image, replacement, saliency, target_class, steps=16, order="descending",
                      ties="row_major", cumulative=True, rounding="floor", channels="all", output="probability",
                      points="steps+1"):
    """The probabilities of target_class as image's pixels are replaced by replacement's, most salient first (float64).

    Point k (k = 0..steps) replaces the first floor(k n / steps) pixels of pixel_order(saliency), in every channel.
    Raises ValueError when saliency is not (H, W). Mistakes: order / ties as in pixel_order; cumulative=False (point
    k replaces only the pixels of step k); rounding "ceil" or "round"; channels="first" (only channel 0);
    output="logits" (the target's logit, not its probability); points="steps" (k = 0..steps - 1 only).
    """
    start = image.detach().cpu().numpy()
    end = replacement.detach().cpu().numpy()
    height, width = start.shape[-2:]
    if tuple(saliency.shape) != (height, width):
        raise ValueError(f"saliency {tuple(saliency.shape)} is not (H, W) = {(height, width)}")
    ranked = np.array(pixel_order(saliency, order, ties), dtype=np.int64)
    pixels = height * width
    replaced_channels = {"all": slice(None), "first": slice(0, 1)}[channels]
    pictures = []
    for k in range(steps + 1 if points == "steps+1" else steps):
        first = 0 if cumulative or k == 0 else _replaced_count(k - 1, pixels, steps, rounding)
        last = _replaced_count(k, pixels, steps, rounding) if cumulative or k > 0 else 0
        rows, cols = np.divmod(ranked[first:last], width)
        picture = start[0].copy()
        picture[replaced_channels, rows, cols] = end[0][replaced_channels, rows, cols]
        pictures.append(picture)
    with torch.no_grad():
        result = model(torch.from_numpy(np.stack(pictures)))
    logits = getattr(result, "logits", result).detach().cpu().double().numpy()
    if output == "logits":
        return logits[:, target_class]
    return _softmax(logits)[:, target_class]


def area_under_curve(scores, rule="trapezoid", divide_by="steps"):
    """The trapezoid rule on len(scores) = steps + 1 equally spaced points over [0, 1] (a float).

    Raises ValueError for fewer than two points. Mistakes: rule="mean" (the mean of the points), "left" (a left
    Riemann sum: the first steps points); divide_by="none" (torch.trapezoid without dx) or "steps+1".
    """
    values = as_numbers(scores)
    if values.size < 2:
        raise ValueError(f"a curve needs at least two points, got {values.size}")
    steps = values.size - 1
    if rule == "mean":
        return float(math.fsum(values) / values.size)
    if rule == "left":
        total = math.fsum(values[:-1])
    else:
        total = math.fsum((values[k] + values[k + 1]) / 2 for k in range(steps))
    return float(total / {"steps": steps, "none": 1, "steps+1": steps + 1}[divide_by])
