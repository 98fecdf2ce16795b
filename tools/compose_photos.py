"""Compose resources/cat_and_coffee.png: the cat and the espresso cup side by side in one picture.

Class-specific explanations (CAM, Grad-CAM) give a different map for each class, class-agnostic
ones (attention rollout) give one map for the image; to see the difference the picture needs two
objects of different classes in different places. The course's photos each show one, so this
script puts two of them side by side (both CC0, see resources/SOURCES.md):

- a square crop of chelsea.png around the cat's face, and a square crop of coffee.png around the
  cup and saucer, each resized to 224 x 224 (Lanczos);
- side by side in the middle of a 448 x 448 canvas, because both models resize any picture to
  224 x 224 without cropping: a square picture keeps each object's shape;
- the canvas's top and bottom quarters are the ImageNet mean colour, which the ResNet's
  normalisation maps to about zero.

Deterministic: the same Pillow version writes the same bytes (no metadata, no timestamp).
Run from the repository root:  python -m tools.compose_photos   (make diagrams runs it too)
"""
from PIL import Image

from coursekit.images import IMAGENET_MEAN
from coursekit.paths import RESOURCES

OUTPUT = "cat_and_coffee.png"
TILE = 224
CROPS = (  # (photo in resources/, square crop box (left, upper, right, lower) in its pixels)
    ("chelsea.png", (95, 0, 395, 300)),
    ("coffee.png", (80, 0, 480, 400)),
)


def compose():
    """Return the two-object picture as an RGB image of 2 TILE x 2 TILE pixels."""
    background = tuple(round(255 * mean) for mean in IMAGENET_MEAN)
    canvas = Image.new("RGB", (2 * TILE, 2 * TILE), background)
    for index, (name, box) in enumerate(CROPS):
        with Image.open(RESOURCES / name) as photo:
            tile = photo.convert("RGB").crop(box).resize((TILE, TILE), Image.Resampling.LANCZOS)
        canvas.paste(tile, (index * TILE, TILE // 2))
    return canvas


def main():
    path = RESOURCES / OUTPUT
    compose().save(path, format="PNG")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
