"""Draw the course's two explanatory diagrams into resources/.

- resources/gap_diagram.png: Global Average Pooling. K feature maps f_k
  (512 x 7 x 7) are each averaged to one number F_k; the K-vector goes
  through the fc layer (weights w_k^c) to one logit S_c per class.
- resources/cam_pipeline.png: Class Activation Mapping. image -> CNN ->
  last conv maps f_k -> sum_k w_k^c f_k(x, y) -> 7 x 7 map M_c ->
  upsampled and laid over the image.

The CAM notebook shows these before the code, so students see the shapes
of the tensors and where the fc weights come from. The maps drawn are
synthetic patterns made here (no model, no weights) and the CAM diagram says
so, so it never passes for a real result. The only photo used is
resources/chelsea.png (CC0, see resources/SOURCES.md).

Labels are English only: matplotlib's default font has no Hangul.
Output is deterministic: fixed figure size (800 px wide) and dpi, no PNG
"Software" metadata and fixed patterns, so a rerun with the same matplotlib
version gives byte-identical files.

Run from the repository root:  python tools/make_diagrams.py
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle  # noqa: E402

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DPI = 100
UNIT_PX = 50  # one data unit on the canvas is 50 pixels
MAP_CMAP = "viridis"
CAM_CMAP = "jet"
TEXT_SIZE = 10
SMALL_SIZE = 8.5


def new_canvas(width, height):
    """Return (fig, ax): an axes-free canvas whose data units are UNIT_PX pixels."""
    fig = plt.figure(figsize=(width * UNIT_PX / DPI, height * UNIT_PX / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def save(fig, name):
    """Write fig to resources/name as a PNG without a timestamp or software tag."""
    path = RESOURCES / name
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {path}")


def blob(center, width=1.3, size=7):
    """A size x size Gaussian bump centred at (row, col): a stand-in activation map."""
    rows, cols = np.mgrid[0:size, 0:size]
    dist2 = (rows - center[0]) ** 2 + (cols - center[1]) ** 2
    return np.exp(-dist2 / (2 * width**2))


def draw_map(ax, values, x, y, size, cmap=MAP_CMAP, zorder=2):
    """Draw a 2-D array with values in [0, 1] as a grid of cells; (x, y) is the lower-left corner."""
    ax.imshow(values, cmap=cmap, vmin=0.0, vmax=1.0, extent=(x, x + size, y, y + size),
              interpolation="nearest", zorder=zorder)
    n = values.shape[0]
    for i in range(1, n):
        step = size * i / n
        ax.plot([x + step] * 2, [y, y + size], color="white", lw=0.5, zorder=zorder)
        ax.plot([x, x + size], [y + step] * 2, color="white", lw=0.5, zorder=zorder)
    ax.add_patch(Rectangle((x, y), size, size, fill=False, lw=1.2, edgecolor="black", zorder=zorder))


def arrow(ax, start, end):
    """Draw a plain black arrow from start to end (data coordinates)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14,
                                 lw=1.6, color="black", zorder=3))


def label(ax, x, y, text, size=TEXT_SIZE, **kwargs):
    """Centred text at (x, y)."""
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    ax.text(x, y, text, fontsize=size, zorder=4, **kwargs)


def draw_column(ax, x, y_top, colors, texts, cell=0.42, gap_after=None, edge_colors=None):
    """Draw a vertical vector of cells from y_top down; return the cells' centre y values.

    gap_after: index after which a vertical ellipsis replaces the hidden entries.
    """
    centres = []
    y = y_top
    for i, (color, text) in enumerate(zip(colors, texts)):
        edge = edge_colors[i] if edge_colors else "black"
        ax.add_patch(Rectangle((x, y - cell), cell, cell, facecolor=color, edgecolor=edge,
                               lw=2.0 if edge != "black" else 1.0, zorder=2))
        label(ax, x + cell + 0.12, y - cell / 2, text, size=SMALL_SIZE, ha="left")
        centres.append(y - cell / 2)
        y -= cell
        if i == gap_after:
            label(ax, x + cell / 2, y - 0.3, r"$\vdots$", size=TEXT_SIZE)
            y -= 0.6
    return centres


def gap_feature_maps():
    """Four synthetic 7x7 maps with different means, standing in for A^1 .. A^K."""
    centres = [(1, 5), (3, 3), (5, 1), (2, 2)]
    widths = [1.0, 1.8, 1.2, 0.8]
    return [blob(c, w) for c, w in zip(centres, widths)]


def draw_gap_diagram():
    """Feature maps -> GAP -> K-vector -> fc -> class logits, saved as gap_diagram.png."""
    fig, ax = new_canvas(16, 6.4)
    cmap = plt.get_cmap(MAP_CMAP)
    maps = gap_feature_maps()

    # Stack of maps, back to front, each shifted up-right.
    size, shift = 2.2, 0.32
    x0, y0 = 0.5, 1.7
    for depth in reversed(range(len(maps))):
        draw_map(ax, maps[depth], x0 + depth * shift, y0 + depth * shift, size, zorder=2 + len(maps) - depth)
    label(ax, x0 + size / 2 + 0.5, y0 - 0.45, r"feature maps $f_k$")
    label(ax, x0 + size / 2 + 0.5, y0 - 0.9, r"(512 $\times$ 7 $\times$ 7)", size=SMALL_SIZE)
    label(ax, x0 + size / 2 + 0.5, y0 + size + 1.35, "k = 1 \u2026 512 (4 drawn)", size=SMALL_SIZE)

    # GAP arrow.
    arrow(ax, (4.1, 3.1), (6.0, 3.1))
    label(ax, 5.05, 3.75, "GAP: mean\nover 7$\\times$7", size=SMALL_SIZE)
    label(ax, 5.05, 2.3, r"$F_k=\frac{1}{49}\sum_{x,y}f_k(x,y)$")

    # K-vector, each cell coloured by its map's mean.
    means = [m.mean() for m in maps]
    span = max(means) - min(means)
    vec_colors = [cmap(0.15 + 0.8 * (m - min(means)) / span) for m in means]
    vec_x = 6.4
    vec_y = draw_column(ax, vec_x, 5.0, vec_colors, [r"$F_1$", r"$F_2$", r"$F_3$", r"$F_{512}$"], gap_after=2)
    label(ax, vec_x + 0.3, 5.55, r"$F$ (512)")

    # Logit column; class c highlighted.
    out_x = 10.6
    grey = "#dddddd"
    out_colors = [grey, grey, "#f4a582", grey]
    out_edges = ["black", "black", "#b2182b", "black"]
    out_y = draw_column(ax, out_x, 5.0, out_colors, [r"$S_1$", r"$S_2$", r"$S_c$", r"$S_{1000}$"],
                        gap_after=1, edge_colors=out_edges)
    label(ax, out_x + 0.4, 5.55, r"logits $S$ (1000)")

    # Fully connected layer: every F_k feeds every S_c; the lines into S_c are drawn red.
    for yv in vec_y:
        for j, yo in enumerate(out_y):
            highlight = j == 2
            ax.plot([vec_x + 0.42 + 0.55, out_x - 0.08], [yv, yo], lw=1.3 if highlight else 0.6,
                    color="#b2182b" if highlight else "#999999", zorder=1)
    label(ax, 8.75, 5.55, r"fc weights $w_k^c$")

    # What a logit is.
    label(ax, 13.9, 3.4, r"$S_c=\sum_{k} w_k^c\,F_k + b_c$", size=13)
    label(ax, 13.9, 2.55, "one logit per ImageNet class", size=SMALL_SIZE)
    label(ax, 13.9, 2.15, "softmax  ->  class probabilities", size=SMALL_SIZE)
    save(fig, "gap_diagram.png")


def cam_feature_maps():
    """Three synthetic 7x7 maps f_1, f_2, f_K and the weights w^c used to combine them."""
    maps = [blob((3, 3), 1.4), blob((2, 4), 0.9), blob((5, 1), 1.0)]
    weights = [0.9, 0.6, -0.4]
    return maps, weights


def cat_crop():
    """A square crop of resources/chelsea.png around the cat's face, as floats in [0, 1]."""
    image = plt.imread(RESOURCES / "chelsea.png")
    return image[:, 60:360, :3]


def draw_cnn(ax, x, y, width, height):
    """A trapezoid labelled CNN, narrowing to the right like a shrinking spatial size."""
    inset = height * 0.28
    ax.add_patch(Polygon([(x, y), (x + width, y + inset), (x + width, y + height - inset), (x, y + height)],
                         closed=True, facecolor="#c6dbef", edgecolor="black", lw=1.2, zorder=2))
    label(ax, x + width / 2, y + height / 2, "CNN", size=TEXT_SIZE, weight="bold")


def draw_cam_pipeline():
    """Image -> CNN -> f_k -> weighted sum -> M_c -> overlay, saved as cam_pipeline.png."""
    fig, ax = new_canvas(16, 7.0)
    mid = 3.6
    photo = cat_crop()

    # Input image and CNN.
    img_size = 2.3
    ax.imshow(photo, extent=(0.2, 0.2 + img_size, mid - img_size / 2, mid + img_size / 2), zorder=2)
    label(ax, 0.2 + img_size / 2, mid - img_size / 2 - 0.35, "input image")
    arrow(ax, (2.65, mid), (3.2, mid))
    draw_cnn(ax, 3.3, mid - 1.0, 1.2, 2.0)
    arrow(ax, (4.6, mid), (5.15, mid))

    # Last conv feature maps, one per row, with their fc weights.
    maps, weights = cam_feature_maps()
    map_size, map_x = 1.25, 5.3
    rows_y = [mid + 1.45, mid - map_size / 2, mid - 1.45 - map_size]
    names = ["1", "2", "K"]
    for values, weight, name, y in zip(maps, weights, names, rows_y):
        draw_map(ax, values, map_x, y, map_size)
        label(ax, map_x + map_size + 0.55, y + map_size / 2, rf"$\times\,w_{name}^c$")
        ax.plot([map_x + map_size + 1.05, 8.25], [y + map_size / 2, mid], color="#666666", lw=1.0, zorder=1)
    label(ax, map_x + map_size / 2, mid - 1.05, r"$\vdots$", size=TEXT_SIZE)
    label(ax, map_x + map_size / 2 + 0.45, 6.75, r"last conv maps $f_k$ (512$\times$7$\times$7)")
    label(ax, map_x + map_size / 2 + 0.45, 0.22, r"$w_k^c$: fc weights of class $c$", size=SMALL_SIZE)

    # Weighted sum.
    ax.add_patch(Circle((8.6, mid), 0.35, facecolor="white", edgecolor="black", lw=1.2, zorder=2))
    label(ax, 8.6, mid, r"$\Sigma$", size=13)
    label(ax, 8.75, mid - 1.5, r"$\sum_k w_k^c f_k(x,y)$", size=SMALL_SIZE)

    # Class activation map M_c.
    cam = sum(w * m for w, m in zip(weights, maps))
    cam = (cam - cam.min()) / (cam.max() - cam.min())
    arrow(ax, (8.95, mid), (9.55, mid))
    cam_size = 1.9
    draw_map(ax, cam, 9.65, mid - cam_size / 2, cam_size, cmap=CAM_CMAP)
    label(ax, 9.65 + cam_size / 2, mid + cam_size / 2 + 0.35, r"$M_c$ (7$\times$7)")

    # Upsample and overlay.
    arrow(ax, (11.7, mid), (13.05, mid))
    label(ax, 12.37, mid + 0.6, "upsample\n& overlay", size=SMALL_SIZE)
    extent = (13.2, 13.2 + img_size, mid - img_size / 2, mid + img_size / 2)
    ax.imshow(photo, extent=extent, zorder=2)
    ax.imshow(cam, cmap=CAM_CMAP, alpha=0.45, extent=extent, interpolation="bilinear", zorder=3)
    label(ax, 13.2 + img_size / 2, mid - img_size / 2 - 0.35, r"CAM for class $c$")

    label(ax, 15.9, 0.22, "maps are synthetic patterns, not model output",
          size=SMALL_SIZE, ha="right", style="italic", color="#555555")
    save(fig, "cam_pipeline.png")


def main():
    draw_gap_diagram()
    draw_cam_pipeline()


if __name__ == "__main__":
    main()
