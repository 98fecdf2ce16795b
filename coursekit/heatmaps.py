"""Draw explanation heatmaps (CAM, Grad-CAM, ViT attention, rollout) over an image.

Every method in the course ends with a small 2-D map: a raw CAM (7x7, may be
negative), a Grad-CAM map that may be all zeros after the ReLU, a 14x14 ViT
attention map. The notebooks hand such a map to `visualize_heatmap` (one map) or
`show_heatmap_grid` (several maps), which validate it once, min-max normalise it
per map, upsample it bilinearly to the 224x224 model input and draw it on the
image resized the same way, so what students compare is always drawn the same way.

Student-facing error messages are Korean first, then the same in English on
the next line. Text drawn on figures is English only: the default matplotlib
font has no Hangul glyphs and a missing glyph warns on stderr, which nbgrader
counts as a failure. For the same reason this module never uses `warnings`.

Images are opened by coursekit.images.open_rgb_image, the one place that turns
a file into RGB with clear errors, so the overlay shows what the model saw.
"""
from math import ceil

import matplotlib.pyplot as plt
from matplotlib.cm import ScalarMappable
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from coursekit.images import INPUT_SIZE, open_rgb_image
from coursekit.messages import bilingual

#: Colourbar label: the colours are relative within one map, not comparable across maps.
COLORBAR_LABEL = "relative importance (per-image min-max)"

# ---------------------------------------------------------------------------
# Validation and numerics
# ---------------------------------------------------------------------------

def as_2d_array(heatmap):
    """Return `heatmap` as a new 2-D float64 numpy array, or raise a clear error.

    Accepts a torch.Tensor (any dtype or device, even one requiring grad: it is
    detached and copied to the CPU), a numpy array or a nested list. Leading
    singleton dimensions are dropped, so (1, 7, 7) and (1, 1, 7, 7) outputs (e.g.
    captum's) work; any other shape is an error, because silently squeezing or
    averaging would hide a bug such as forgetting to pick one head or one image.

    Raises TypeError for non-numeric input, ValueError for a wrong shape or for
    NaN/inf entries (which would otherwise turn the whole plot blank).
    """
    array = _to_numpy(heatmap)
    original_shape = tuple(array.shape)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(bilingual(
            f"heatmap은 2차원이어야 하는데 shape이 {original_shape}입니다",
            f"heatmap must be 2-D: got shape {original_shape}"))
    if min(array.shape) < 1:
        raise ValueError(bilingual(
            f"heatmap이 비어 있습니다: 각 변이 1 이상이어야 하는데 shape이 {original_shape}입니다",
            f"heatmap is empty (each side must be at least 1): got shape {original_shape}"))
    not_finite = int(array.size - np.count_nonzero(np.isfinite(array)))
    if not_finite:
        raise ValueError(bilingual(
            f"heatmap에 유한하지 않은 값(NaN 또는 inf)이 {array.size}개 중 {not_finite}개 있습니다. "
            "0으로 나누기나 log(0)이 없는지 확인하세요",
            f"heatmap has {not_finite} non-finite entries (NaN or inf) out of {array.size}; "
            "look for a division by zero or log(0)"))
    return np.array(array, dtype=np.float64)


def _to_numpy(heatmap):
    """Convert a tensor, array or nested list to a numeric numpy array (no shape checks)."""
    if isinstance(heatmap, torch.Tensor):
        tensor = heatmap.detach().cpu()
        if tensor.is_complex():
            raise _not_numeric(heatmap, f"complex tensor ({tensor.dtype})")
        # float64 first: numpy has no bfloat16, and float16 loses precision when normalised.
        return tensor.to(torch.float64).numpy()
    try:
        array = np.asarray(heatmap)
    except ValueError as error:  # ragged nested lists
        raise ValueError(bilingual(
            "heatmap 리스트의 행 길이가 서로 다릅니다 (2차원 표 모양이어야 합니다)",
            f"heatmap list has rows of different lengths (it must be a 2-D table): {error}")) from error
    if array.dtype.kind not in "biuf":
        raise _not_numeric(heatmap, f"dtype {array.dtype}")
    return array


def _not_numeric(heatmap, detail):
    """Build the TypeError for a heatmap that is not made of real numbers."""
    kind = type(heatmap).__name__
    return TypeError(bilingual(
        f"heatmap은 실수 값의 tensor, numpy 배열 또는 리스트여야 하는데 {kind}입니다 ({detail})",
        f"heatmap must be a tensor, numpy array or list of real numbers: got {kind} ({detail})"))


def _is_flat(array, eps):
    """True when the map's values span less than `eps`: it then carries no spatial information."""
    return float(array.max() - array.min()) <= eps


def normalize_heatmap(heatmap, eps=1e-8):
    """Min-max normalise one map to [0, 1]: (x - min) / (max - min + eps).

    Per map, because CAM, Grad-CAM and attention values have arbitrary scales;
    only the relative pattern within one map is meaningful. `eps` keeps the
    division finite. A map whose values span no more than `eps` (a constant map,
    including all zeros) becomes all zeros instead of amplified rounding noise;
    the figures say so in words (`visualize_heatmap`). The input is never modified.
    """
    array = as_2d_array(heatmap)
    if _is_flat(array, eps):
        return np.zeros_like(array)
    low, high = array.min(), array.max()
    return (array - low) / (high - low + eps)


def _check_size(size):
    """Return `size` as a (height, width) tuple of positive ints, or raise ValueError."""
    ok = (isinstance(size, (tuple, list)) and len(size) == 2
          and all(isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side > 0
                  for side in size))
    if not ok:
        raise ValueError(bilingual(
            f"size는 양의 정수 두 개 (높이, 너비)여야 하는데 {size!r}입니다",
            f"size must be two positive ints (height, width): got {size!r}"))
    return int(size[0]), int(size[1])


def upsample_heatmap(heatmap, size=INPUT_SIZE):
    """Upsample a 2-D map to `size` = (height, width) by bilinear interpolation.

    Uses torch.nn.functional.interpolate(mode="bilinear", align_corners=False),
    as the Grad-CAM paper's code and pytorch-grad-cam do, so the course's maps
    look like the ones students will meet elsewhere. Returns float64 numpy.
    """
    height, width = _check_size(size)
    tensor = torch.from_numpy(as_2d_array(heatmap))[None, None]
    upsampled = F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)
    return upsampled[0, 0].numpy()


def _flat_map_notes(heatmap, eps=1e-8):
    """Return (Korean note, short English note) for a map without spatial information, else None."""
    array = as_2d_array(heatmap)
    if not np.any(array):
        return ("모든 값이 0 (all zeros): 이 클래스에 대한 양(+)의 근거가 없습니다",
                "all zeros: no positive evidence")
    if _is_flat(array, eps):
        value = f"{float(array.mean()):.3g}"
        return (f"상수 맵 (constant map): 모든 값이 {value}, 공간 정보가 없습니다",
                f"constant map ({value}): no spatial information")
    return None


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

def load_display_image(image_path, size=INPUT_SIZE):
    """Return the image as a uint8 (height, width, 3) array resized to `size` = (height, width).

    A plain bilinear resize without cropping, like the model's input, so that a
    heatmap upsampled to the same size lines up with what the model saw.
    """
    height, width = _check_size(size)
    image = open_rgb_image(image_path).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------

def _check_alpha(alpha):
    """Return `alpha` as a float in [0, 1], or raise ValueError."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) \
            or not 0 <= alpha <= 1:
        raise ValueError(bilingual(
            f"alpha(투명도)는 0과 1 사이의 수여야 하는데 {alpha!r}입니다",
            f"alpha (opacity) must be a number between 0 and 1: got {alpha!r}"))
    return float(alpha)


def overlay_heatmap(ax, image_rgb, heatmap, alpha=0.5, cmap="jet"):
    """Draw `image_rgb` on `ax`, then `heatmap` upsampled to its size and normalised to [0, 1].

    Upsampling happens before normalisation, so the drawn map spans exactly
    [0, 1] and vmin/vmax are fixed: every overlay shares one colour scale, which
    is what lets `show_heatmap_grid` use a single colourbar. Returns the
    heatmap's AxesImage (its cmap and norm define the colourbar). Turns the axis off.
    """
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(bilingual(
            f"image_rgb는 (높이, 너비, 3) 배열이어야 하는데 shape이 {tuple(image.shape)}입니다",
            f"image_rgb must be a (height, width, 3) array: got shape {tuple(image.shape)}"))
    alpha = _check_alpha(alpha)
    heat = normalize_heatmap(upsample_heatmap(heatmap, size=image.shape[:2]))
    ax.imshow(image)
    drawn = ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=0.0, vmax=1.0)
    ax.axis("off")
    return drawn


def add_colorbar(fig, drawn, axes):
    """Add the relative-importance colourbar for `drawn` next to `axes`.

    Built from an opaque copy of the overlay's colormap and 0..1 scale: with the
    overlay's alpha the legend's colours would look washed out.
    """
    legend = ScalarMappable(norm=drawn.norm, cmap=drawn.get_cmap())
    colorbar = fig.colorbar(legend, ax=axes)
    colorbar.set_label(COLORBAR_LABEL, fontsize=8)  # small enough to fit beside a single row
    return colorbar


def _title_text(title):
    """Return str(title), or "" for None; 0 (a class index) stays "0"."""
    return "" if title is None else str(title)


def report_flat_map(heatmap, label):
    """Print the Korean+English note for a flat map (stdout, not warnings) and return the English note."""
    notes = _flat_map_notes(heatmap)
    if notes is None:
        return None
    korean, english = notes
    prefix = f"[{label.splitlines()[0]}] " if label else ""  # first line of a multi-line title
    print(f"{prefix}{korean}\n{prefix}{english}")
    return english


def visualize_heatmap(image_path, heatmap, title="", alpha=0.5):
    """Show the 224x224 image and the heatmap overlaid on it side by side; return the Figure.

    `heatmap` is any small 2-D map (see `as_2d_array`); `title` (a str, or e.g. a
    class index) becomes the figure's suptitle. When the map is all zeros or
    constant, a short English note is added to the overlay's title and a
    Korean+English note is printed.

    The figure is left open and not shown: in Jupyter the inline backend draws
    it at the end of the cell. Write `fig = visualize_heatmap(...)` or end the
    line with `;`, otherwise the returned figure is displayed a second time.
    """
    label = _title_text(title)
    as_2d_array(heatmap)  # fail on a bad map or alpha before reading the file or opening a figure
    _check_alpha(alpha)
    image = load_display_image(image_path)
    note = report_flat_map(heatmap, label)

    fig, (ax_image, ax_overlay) = plt.subplots(1, 2, figsize=(9, 4.4), layout="constrained")
    ax_image.imshow(image)
    ax_image.set_title(f"input image ({image.shape[0]}x{image.shape[1]})")
    ax_image.axis("off")
    drawn = overlay_heatmap(ax_overlay, image, heatmap, alpha=alpha)
    ax_overlay.set_title("heatmap overlay" + (f"\n{note}" if note else ""))
    add_colorbar(fig, drawn, ax_overlay)
    if label:
        fig.suptitle(label)
    return fig


def _check_heatmap_list(heatmaps, titles):
    """Validate a grid's maps and titles; return the maps as 2-D arrays, errors naming the index."""
    if isinstance(heatmaps, (torch.Tensor, np.ndarray)) and heatmaps.ndim == 2:
        raise ValueError(bilingual(
            "heatmaps에는 맵 하나가 아니라 맵들의 목록이 필요합니다. 맵 하나는 visualize_heatmap을 쓰세요",
            "heatmaps must be a list of maps, not one map; use visualize_heatmap for a single map"))
    if isinstance(titles, str):
        raise TypeError(bilingual(
            "titles는 문자열 하나가 아니라 맵마다 하나씩인 제목 목록이어야 합니다",
            "titles must be a list with one title per map, not a single string"))
    if len(heatmaps) == 0:
        raise ValueError(bilingual("heatmaps가 비어 있습니다", "heatmaps is empty"))
    if len(titles) != len(heatmaps):
        raise ValueError(bilingual(
            f"titles와 heatmaps의 개수가 같아야 하는데 제목은 {len(titles)}개, 맵은 {len(heatmaps)}개입니다",
            f"titles and heatmaps must have the same length: {len(titles)} titles, {len(heatmaps)} maps"))
    arrays = []
    for index, heatmap in enumerate(heatmaps):
        try:
            arrays.append(as_2d_array(heatmap))
        except (TypeError, ValueError) as error:
            lines = "\n".join(f"heatmaps[{index}]: {line}" for line in str(error).splitlines())
            raise type(error)(lines) from error
    return arrays


def show_heatmap_grid(image_path, heatmaps, titles, ncols=4, alpha=0.5, suptitle=""):
    """Overlay several maps on the same image in a grid with one shared colourbar; return the Figure.

    For comparing maps: the 12 layers or 12 heads of a ViT, ResNet layer1-4,
    CAM vs Grad-CAM. `heatmaps` is a list of 2-D maps (or a stacked tensor such
    as (12, 14, 14)) and `titles` has one entry per map. Each map is normalised
    on its own, so one colourbar (0 = least, 1 = most important within that map)
    serves all panels; flat maps get an English note in their panel title.

    For a single row, e.g. CAM next to Grad-CAM, use ncols=len(heatmaps).
    As with `visualize_heatmap`, the figure is returned open, not shown.
    """
    arrays = _check_heatmap_list(heatmaps, titles)
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(bilingual(
            f"ncols는 1 이상의 정수여야 하는데 {ncols!r}입니다",
            f"ncols must be an integer >= 1: got {ncols!r}"))
    _check_alpha(alpha)
    image = load_display_image(image_path)

    ncols = min(int(ncols), len(arrays))
    nrows = ceil(len(arrays) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.8 * ncols + 1.2, max(2.9 * nrows + 0.6, 3.8)),
                             layout="constrained", squeeze=False)
    for ax, heatmap, title in zip(axes.flat, arrays, titles):
        label = _title_text(title)
        note = report_flat_map(heatmap, label)
        drawn = overlay_heatmap(ax, image, heatmap, alpha=alpha)
        ax.set_title(label + (f"\n{note}" if note else ""), fontsize=10)
    for ax in axes.flat[len(arrays):]:
        ax.axis("off")
    add_colorbar(fig, drawn, axes)
    if _title_text(suptitle):
        fig.suptitle(_title_text(suptitle))
    return fig
