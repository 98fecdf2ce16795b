"""Synthetic pictures whose right explanation is known: a shape decides the class, and we know where it is.

Each 64 x 64 RGB picture has a textured background, one *target* object and one or two
*distractor* objects. The class is the target's shape (circle, square, triangle, cross).
The target is the one object in a warm colour (red to yellow); the distractors are cool
(cyan to blue) and their shapes are drawn from the same four shapes, independently of the
class. So a model can only be right by finding the warm object and reading its shape, and a
map that explains it should point inside the target's box (returned with every picture).

What cannot give the class away (each is drawn independently of the class):
- colour: the target's hue, saturation and brightness come from one range for every class;
- size: each object's *area* is drawn from one range and the shape is scaled to that area,
  so a square is not simply "more warm pixels" than a triangle;
- position: every object is placed with the bounding radius of the widest shape of its area,
  so where an object can sit does not depend on its shape;
- orientation: every shape is drawn upright, the same way in every class (random rotation made the
  shapes far harder for the small ViT to learn in its time budget, and is not needed for the point);
- distractors: their number (1 or 2) and shapes are independent of the class; a distractor
  often has the target's shape or the shape of another class;
- texture: the background (smooth noise at two scales plus pixel noise, low saturation) is drawn
  the same way for every class; objects are flat colour with an anti-aliased edge.

Deterministic: the same `seed` and `n` give the same pictures (on one platform and torch
version; a boundary pixel may round differently elsewhere). `hide` renders the same draws
with the target or the distractors left out, so the background shows where they were: the
counterfactual pictures for testing what a model uses. Generation is vectorised, a chunk of
pictures at a time (about 6000 pictures a second on one core).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

IMAGE_SIZE = 64
CLASSES = ("circle", "square", "triangle", "cross")
MAX_DISTRACTORS = 2

AREA_RANGE = (120.0, 240.0)        # pixels: an equal-area disk is 12 to 17 pixels wide
TARGET_HUES = (-0.06, 0.16)        # red to yellow, in turns of the colour wheel
DISTRACTOR_HUES = (0.45, 0.70)     # cyan to blue
OBJECT_SATURATION = (0.65, 1.0)
OBJECT_VALUE = (0.65, 1.0)
GAP = 2.0                          # pixels between the bounding circles of two objects
PIXEL_NOISE = 0.04
_TEXTURE_SCALES = ((4, 0.12), (16, 0.08))   # (cells across, strength) of the smooth noise

_CROSS_ARM = 1 / 3                 # half-width of a cross's arm, relative to its half-length
# Area of each shape of "radius" 1 (disk: radius; square: half-side; triangle: circumradius; cross: half-length).
_UNIT_AREAS = torch.tensor([math.pi, 4.0, 3 * math.sqrt(3) / 4, 4 * 2 * _CROSS_ARM - (2 * _CROSS_ARM) ** 2])
# Farthest point of each unit shape from its centre.
_UNIT_REACH = torch.tensor([1.0, math.sqrt(2), 1.0, math.sqrt(1 + _CROSS_ARM ** 2)])
# Bounding radius of the widest shape per unit of sqrt(area): the placement radius of every object.
_REACH_PER_SQRT_AREA = float((_UNIT_REACH / _UNIT_AREAS.sqrt()).max())
# Half the side of the window each object is drawn in: its reach at the largest area, plus the ramp and rounding.
_HALF_WINDOW = math.ceil(_REACH_PER_SQRT_AREA * math.sqrt(AREA_RANGE[1])) + 2
_CHUNK = 512                       # pictures drawn at once (bounds the memory of the intermediates)


@dataclass
class ShapePictures:
    """A batch of pictures with what explains each one.

    images: (n, 3, 64, 64) float32 in [0, 1], ready for the toy models as they are;
    labels: (n,) int64, an index into CLASSES (the target's shape);
    target_masks: (n, 64, 64) bool, the target's pixels (also when hidden);
    boxes: (n, 4) int64, the target's box as (x0, y0, x1, y1) with x1, y1 exclusive,
        so the target lies in target_masks[i, y0:y1, x0:x1];
    distractor_masks: (n, 2, 64, 64) bool, all False for a missing second distractor.
    """
    images: torch.Tensor
    labels: torch.Tensor
    target_masks: torch.Tensor
    boxes: torch.Tensor
    distractor_masks: torch.Tensor

    def __len__(self):
        return len(self.labels)


def make_pictures(n, seed, hide=None, size_hint=0.0):
    """Generate `n` pictures from `seed`.

    `hide` is None, "target" or "distractors" (left out of the images only). `size_hint` in [0, 1]
    lets an object's area depend on its shape (1: every shape drawn at the same radius, so a square
    covers three times a triangle's area): a cue for the first steps of training only (see
    coursekit.toy_models); the default 0 keeps every area independent of the shape.
    """
    if hide not in (None, "target", "distractors"):
        raise ValueError(f"hide must be None, 'target' or 'distractors', got {hide!r}")
    if not 0 <= size_hint <= 1:
        raise ValueError(f"size_hint must be between 0 and 1, got {size_hint!r}")
    generator = torch.Generator().manual_seed(seed)
    layout = _draw_layout(n, generator, size_hint)
    colours = _draw_colours(n, generator)
    noise = _draw_background_noise(n, generator)
    shown = torch.tensor([float(hide != "target")] + [float(hide != "distractors")] * MAX_DISTRACTORS)
    images = torch.empty(n, 3, IMAGE_SIZE, IMAGE_SIZE)
    masks = torch.empty(n, 1 + MAX_DISTRACTORS, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.bool)
    # A chunk at a time: every intermediate stays small enough for the allocator to reuse its memory, where
    # whole-batch intermediates were fresh memory at every call, and the page faults took half the time.
    for start in range(0, n, _CHUNK):
        part = slice(start, start + _CHUNK)
        coverage = _coverage({name: value[part] for name, value in layout.items()})     # (m, slots, H, W)
        # The bounding circles never overlap, so the objects' coverages are disjoint and simply add up.
        flat = coverage.flatten(2)                                                      # (m, slots, H * W)
        alpha = (shown @ flat).view(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        paint = ((colours[part] * shown[:, None]).transpose(1, 2) @ flat).view(-1, 3, IMAGE_SIZE, IMAGE_SIZE)
        background = _background({name: value[part] for name, value in noise.items()})
        torch.clamp(background.mul_(1 - alpha).add_(paint), 0, 1, out=images[part])
        torch.ge(coverage, 0.5, out=masks[part])
    return ShapePictures(images=images, labels=layout["shape"][:, 0].clone(), target_masks=masks[:, 0],
                         boxes=boxes_of(masks[:, 0]), distractor_masks=masks[:, 1:])


def boxes_of(masks):
    """(n, 4) boxes (x0, y0, x1, y1), x1 and y1 exclusive, of non-empty (n, H, W) boolean masks."""
    def extent(occupied):                     # (n, L) bool -> first index, one past the last index
        index = torch.arange(occupied.shape[1])
        first = torch.where(occupied, index, occupied.shape[1]).amin(dim=1)
        last = torch.where(occupied, index, -1).amax(dim=1)
        return first, last + 1
    x0, x1 = extent(masks.any(dim=1))
    y0, y1 = extent(masks.any(dim=2))
    return torch.stack([x0, y0, x1, y1], dim=1)


def _uniform(shape, bounds, generator):
    low, high = bounds
    return low + (high - low) * torch.rand(shape, generator=generator)


def _draw_layout(n, generator, size_hint):
    """Shapes, sizes and non-overlapping centres of the 1 + MAX_DISTRACTORS object slots."""
    slots = 1 + MAX_DISTRACTORS
    shape = torch.randint(len(CLASSES), (n, slots), generator=generator)
    present = torch.ones(n, slots, dtype=torch.bool)
    present[:, 2] = torch.randint(2, (n,), generator=generator).bool()   # one or two distractors
    area = _uniform((n, slots), AREA_RANGE, generator)
    # Equal areas at size_hint 0; equal radii (the same as an area of the mean unit shape's) at size_hint 1.
    radius = (area / _UNIT_AREAS[shape] ** (1 - size_hint) / _UNIT_AREAS.mean() ** size_hint).sqrt()
    reach = _REACH_PER_SQRT_AREA * area.sqrt()      # the same for every shape of this area
    centre = _place(reach, present, generator)
    return {"shape": shape, "present": present, "radius": radius, "cx": centre[..., 0], "cy": centre[..., 1]}


def _place(reach, present, generator, tries=16):
    """(n, slots, 2) centres inside the picture whose bounding circles keep GAP apart.

    Rejection sampling, `tries` candidate layouts per picture and round: each picture takes its first
    candidate without a clash, and the rounds go on for the pictures that had none.
    """
    n, slots = reach.shape
    centre = torch.zeros(n, slots, 2)
    pending = torch.arange(n)
    apart = ~torch.eye(slots, dtype=torch.bool)
    while len(pending):
        low = reach[pending, None, :, None]                                       # (p, 1, slots, 1)
        candidate = low + (IMAGE_SIZE - 1 - 2 * low) * torch.rand(len(pending), tries, slots, 2, generator=generator)
        distance = (candidate[:, :, :, None] - candidate[:, :, None, :]).square().sum(dim=-1).sqrt()
        needed = low + low.transpose(2, 3) + GAP
        both = present[pending, None, :, None] & present[pending, None, None, :]
        fits = ~((distance < needed) & both & apart).flatten(2).any(dim=2)       # (p, tries)
        placed = fits.any(dim=1)
        first = fits.int().argmax(dim=1)
        centre[pending[placed]] = candidate[placed, first[placed]]
        pending = pending[~placed]
    return centre


def _draw_colours(n, generator):
    """(n, slots, 3) RGB colours: the first slot warm, the others cool."""
    hue = torch.cat([_uniform((n, 1), TARGET_HUES, generator),
                     _uniform((n, MAX_DISTRACTORS), DISTRACTOR_HUES, generator)], dim=1)
    saturation = _uniform(hue.shape, OBJECT_SATURATION, generator)
    value = _uniform(hue.shape, OBJECT_VALUE, generator)
    return _hsv_to_rgb(hue % 1.0, saturation, value)


def _hsv_to_rgb(hue, saturation, value):
    """Vectorised HSV -> RGB, each input (...,) in [0, 1], output (..., 3)."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + 6 * hue[..., None]) % 6
    return value[..., None] - value[..., None] * saturation[..., None] * (torch.minimum(k, 4 - k).clamp(0, 1))


def _draw_background_noise(n, generator):
    """The random draws of n backgrounds (see _background): a grey level, grain, coarse noise at two scales, a tint."""
    return {"grey": _uniform((n, 1, 1, 1), (0.3, 0.6), generator),
            "grain": torch.randn(n, 1, IMAGE_SIZE, IMAGE_SIZE, generator=generator),
            **{f"cells{cells}": torch.randn(n, 1, cells, cells, generator=generator) for cells, _ in _TEXTURE_SCALES},
            "tint": torch.randn(n, 3, 1, 1, generator=generator)}


def _background(noise):
    """(m, 3, H, W) low-saturation texture from _draw_background_noise: a grey level, smooth blobs at two scales,
    a faint tint, grain."""
    texture = PIXEL_NOISE * noise["grain"]
    for cells, strength in _TEXTURE_SCALES:
        upsample = _bilinear_upsampling(cells).T                        # (cells, H)
        texture += strength * ((noise[f"cells{cells}"] @ upsample).transpose(2, 3) @ upsample).transpose(2, 3)
    return noise["grey"] + texture + 0.03 * noise["tint"]


def _bilinear_upsampling(cells):
    """The (H, cells) matrix M with M @ X @ M.T = bilinear upsampling of a (cells, cells) X to (H, H)."""
    return F.interpolate(torch.eye(cells)[None], size=IMAGE_SIZE, mode="linear", align_corners=False)[0].T


def _coverage(layout):
    """(m, slots, H, W) anti-aliased coverage in [0, 1] of each object: 1 inside, 0 outside, a 1-pixel ramp.

    Computed in a window around each object's centre and pasted into the picture (far cheaper than
    evaluating every object at every pixel).
    """
    offset = torch.arange(2 * _HALF_WINDOW) - _HALF_WINDOW
    corner_x, corner_y = layout["cx"].floor().long(), layout["cy"].floor().long()
    dx = (corner_x[..., None] + offset - layout["cx"][..., None])[..., None, :]      # (m, slots, 1, w)
    dy = (corner_y[..., None] + offset - layout["cy"][..., None])[..., :, None]      # (m, slots, w, 1)
    radius = layout["radius"][..., None, None]
    u, v = torch.broadcast_tensors(dx / radius, dy / radius)                         # unit-shape coordinates
    distance = torch.empty_like(u)
    for shape, signed_distance in enumerate(_UNIT_SIGNED_DISTANCES):
        chosen = layout["shape"] == shape
        distance[chosen] = signed_distance(u[chosen], v[chosen])
    window = (0.5 - distance * radius).clamp(0, 1) * layout["present"][..., None, None]  # pixels -> coverage
    # Every object lies inside the picture (its centre is at least its reach from the border), so the window's
    # pixels outside the picture have zero coverage: they all go to one spare slot past the end, then dropped.
    rows = (corner_y[..., None] + offset)[..., :, None]
    columns = (corner_x[..., None] + offset)[..., None, :]
    inside = (rows >= 0) & (rows < IMAGE_SIZE) & (columns >= 0) & (columns < IMAGE_SIZE)
    index = torch.where(inside, rows * IMAGE_SIZE + columns, IMAGE_SIZE * IMAGE_SIZE)
    canvas = torch.zeros(*window.shape[:2], IMAGE_SIZE * IMAGE_SIZE + 1)
    canvas.scatter_(2, index.flatten(2), window.flatten(2))
    return canvas[..., :-1].view(*window.shape[:2], IMAGE_SIZE, IMAGE_SIZE)


def _disk(u, v):
    return (u * u + v * v).sqrt() - 1


def _square(u, v):
    return torch.maximum(u.abs(), v.abs()) - 1


def _triangle(u, v):
    edges = [u * math.cos(a) + v * math.sin(a) for a in (math.pi / 2, math.pi * 7 / 6, math.pi * 11 / 6)]
    return torch.maximum(torch.maximum(edges[0], edges[1]), edges[2]) - 0.5


def _cross(u, v):
    across = torch.maximum(u.abs() - 1, v.abs() - _CROSS_ARM)
    down = torch.maximum(v.abs() - 1, u.abs() - _CROSS_ARM)
    return torch.minimum(across, down)


# Approximate signed distance (negative inside, in units of the radius) to each unit shape, in CLASSES order:
# disk of radius 1, square of half-side 1, equilateral triangle of circumradius 1, cross of two bars of half-length 1.
_UNIT_SIGNED_DISTANCES = (_disk, _square, _triangle, _cross)
