"""Figures of notebook 05: toy pictures with their target's box, maps over them, and curves per step.

The toy pictures are tensors (coursekit.synthetic), not files, so these draw from tensors; the
overlays are coursekit.heatmaps' (per-map min-max, one colour scale, a note for a flat map).
Every function returns the Figure open, as the other course figures do.
"""
from math import ceil

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from coursekit.heatmaps import add_colorbar, overlay_heatmap, report_flat_map


def _picture_rgb(picture):
    """(H, W, 3) array in [0, 1] of one (3, H, W) toy picture."""
    return picture.detach().permute(1, 2, 0).clamp(0, 1).cpu().numpy()


def _draw_box(ax, box):
    x0, y0, x1, y1 = (int(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor="white", linewidth=1.5))


def show_toy_panels(pictures, maps, titles, boxes=None, ncols=4, alpha=0.5, suptitle=""):
    """One panel per entry: pictures[i] alone (maps[i] is None) or with maps[i] over it; boxes[i] drawn in white.

    pictures: (3, H, W) tensors in [0, 1]; maps: 2-D maps of any resolution or None; boxes: (x0, y0, x1, y1) or None.
    """
    count = len(pictures)
    if not (len(maps) == len(titles) == count) or (boxes is not None and len(boxes) != count):
        raise ValueError(f"pictures, maps, titles (and boxes) need one entry per panel: got {count}, {len(maps)}, "
                         f"{len(titles)}" + ("" if boxes is None else f", {len(boxes)}"))
    ncols = min(ncols, count)
    fig, axes = plt.subplots(ceil(count / ncols), ncols, figsize=(2.3 * ncols + 1.0, 2.5 * ceil(count / ncols) + 0.4),
                             layout="constrained", squeeze=False)
    drawn = None
    for index, (ax, picture, heatmap, title) in enumerate(zip(axes.flat, pictures, maps, titles)):
        if heatmap is None:
            ax.imshow(_picture_rgb(picture))
            ax.axis("off")
            note = None
        else:
            note = report_flat_map(heatmap, title)
            drawn = overlay_heatmap(ax, _picture_rgb(picture), heatmap, alpha=alpha)
        if boxes is not None and boxes[index] is not None:
            _draw_box(ax, boxes[index])
        ax.set_title(title + (f"\n{note}" if note else ""), fontsize=9)
    for ax in axes.flat[count:]:
        ax.axis("off")
    if drawn is not None:
        add_colorbar(fig, drawn, axes)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_per_step(values, steps, ylabel, title=""):
    """Lines of {name: one value per step} over the step names (e.g. Spearman correlation per randomised layer)."""
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    for name, series in values.items():
        ax.plot(range(len(steps)), series, marker="o", label=name)
    ax.set_xticks(range(len(steps)), steps, rotation=30)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.legend()
    ax.set_title(title)
    return fig


def plot_rates(rates, ylabel, title=""):
    """Bars of {name: rate in [0, 1]} labelled in percent (e.g. the pointing game per method)."""
    fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    bars = ax.bar(list(rates), [100 * rate for rate in rates.values()], color="tab:blue")
    ax.bar_label(bars, fmt="%.1f %%", fontsize=9)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 110)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=20)
    return fig
