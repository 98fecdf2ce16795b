"""The pointing game (Zhang et al., ECCV 2016): does a map's maximum fall on the object that decides the class?

Played at the map's own resolution, so no upsampling choice can move the maximum: the picture is
cut into the map's grid of equal cells, and the target's box covers every cell it overlaps by at
least one pixel. A map hits when its largest cell is one of those. A constant map has no maximum
and misses. A uniformly random cell hits with probability (cells the box covers) / (all cells):
`chance_rate` is the mean of that over the pictures, the score of a map that knows nothing.
"""
import torch

from coursekit.synthetic import IMAGE_SIZE


def box_cells(boxes, grid, image_size=IMAGE_SIZE):
    """(n, grid, grid) bool: the cells that boxes (n, 4) = (x0, y0, x1, y1), x1 and y1 exclusive, overlap."""
    if image_size % grid:
        raise ValueError(f"the picture ({image_size} pixels) must split into {grid} equal cells")
    cell = image_size // grid
    start = torch.arange(grid) * cell                                   # first pixel of each cell
    x0, y0, x1, y1 = (boxes[:, i, None] for i in range(4))
    columns = (start < x1) & (start + cell > x0)                        # (n, grid)
    rows = (start < y1) & (start + cell > y0)
    return rows[:, :, None] & columns[:, None, :]


def pointing_hits(maps, boxes, image_size=IMAGE_SIZE):
    """(n,) bool: whether the largest cell of each (grid, grid) map lies in its box's cells (constant maps miss)."""
    maps = torch.as_tensor(maps)
    flat = maps.flatten(1)
    cells = box_cells(boxes, maps.shape[-1], image_size).flatten(1)
    hits = cells.gather(1, flat.argmax(dim=1, keepdim=True))[:, 0]
    return hits & (flat.amax(dim=1) > flat.amin(dim=1))


def chance_rate(boxes, grid, image_size=IMAGE_SIZE):
    """The expected pointing-game score of a uniformly random cell: mean fraction of cells the boxes cover."""
    return box_cells(boxes, grid, image_size).flatten(1).float().mean().item()


def maps_of(explain, images, classes):
    """(n, h, w): `explain(image, class)` for each picture, given as (1, 3, H, W), and its class (an int)."""
    return torch.stack([explain(image[None], int(c)) for image, c in zip(images, classes)])
