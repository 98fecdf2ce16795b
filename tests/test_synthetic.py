"""The synthetic pictures: deterministic, well-formed, and no cue but the target's shape tells the class."""
import pytest
import torch

from coursekit import synthetic
from coursekit.synthetic import CLASSES, IMAGE_SIZE, MAX_DISTRACTORS, ShapePictures, boxes_of, make_pictures


@pytest.fixture(scope="module")
def pictures():
    return make_pictures(4000, seed=7)


def test_the_same_seed_gives_the_same_pictures_and_another_seed_others():
    first, again, other = make_pictures(300, 3), make_pictures(300, 3), make_pictures(300, 4)
    for field in ShapePictures.__dataclass_fields__:
        assert torch.equal(getattr(first, field), getattr(again, field)), field
    assert not torch.equal(first.images, other.images)
    assert not torch.equal(first.labels, other.labels)


def test_drawing_in_chunks_does_not_change_the_pictures(monkeypatch):
    """Objects are drawn a chunk of pictures at a time, to bound memory; the chunk size must not matter."""
    whole = make_pictures(300, 5)
    monkeypatch.setattr(synthetic, "_CHUNK", 128)
    chunked = make_pictures(300, 5)
    assert torch.equal(whole.images, chunked.images) and torch.equal(whole.target_masks, chunked.target_masks)


def test_shapes_types_and_ranges(pictures):
    n = len(pictures)
    assert pictures.images.shape == (n, 3, IMAGE_SIZE, IMAGE_SIZE) and pictures.images.dtype == torch.float32
    assert 0 <= pictures.images.min() and pictures.images.max() <= 1
    assert pictures.labels.dtype == torch.int64 and set(pictures.labels.tolist()) == set(range(len(CLASSES)))
    assert pictures.target_masks.shape == (n, IMAGE_SIZE, IMAGE_SIZE) and pictures.target_masks.dtype == torch.bool
    assert pictures.distractor_masks.shape == (n, MAX_DISTRACTORS, IMAGE_SIZE, IMAGE_SIZE)
    assert pictures.boxes.shape == (n, 4)


def test_each_box_is_the_extent_of_its_target_mask(pictures):
    """Every target pixel lies in its box, and each of the box's four edges has a target pixel on it."""
    masks, boxes = pictures.target_masks, pictures.boxes
    assert masks.flatten(1).any(dim=1).all(), "every picture has a target"
    index = torch.arange(IMAGE_SIZE)
    x0, y0, x1, y1 = (boxes[:, i, None] for i in range(4))
    in_columns, in_rows = (x0 <= index) & (index < x1), (y0 <= index) & (index < y1)     # (n, 64) each
    assert not (masks & ~(in_rows[:, :, None] & in_columns[:, None, :])).any()
    columns_used, rows_used = masks.any(dim=1), masks.any(dim=2)
    for used, first, last in ((columns_used, x0, x1 - 1), (rows_used, y0, y1 - 1)):
        assert used.gather(1, first).all() and used.gather(1, last).all()


def test_boxes_of_a_hand_made_mask():
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    mask[0, 2:5, 3] = True
    mask[0, 4, 6] = True
    assert boxes_of(mask).tolist() == [[3, 2, 7, 5]]


def test_one_or_two_distractors_that_never_touch_the_target(pictures):
    counts = pictures.distractor_masks.flatten(2).any(dim=2).sum(dim=1)
    assert set(counts.tolist()) == {1, 2}
    assert pictures.distractor_masks[:, 0].flatten(1).any(dim=1).all(), "the first distractor is always there"
    assert not (pictures.distractor_masks & pictures.target_masks[:, None]).any()
    assert not (pictures.distractor_masks[:, 0] & pictures.distractor_masks[:, 1]).any()


def _red_is_largest(rgb):
    """The warm hues the target is drawn in (red to yellow) have red as their largest channel; cyan to blue do not."""
    return rgb[..., 0] > rgb[..., 1:].amax(dim=-1)


def test_the_target_is_the_warm_object_and_the_distractors_are_cool(pictures):
    pixels = pictures.images.permute(0, 2, 3, 1)                        # (n, H, W, 3)
    assert _red_is_largest(pixels[pictures.target_masks]).float().mean() > 0.95
    assert _red_is_largest(pixels[pictures.distractor_masks.any(dim=1)]).float().mean() < 0.01


def test_hiding_an_object_changes_only_its_own_pixels():
    shown, no_target, no_distractors = (make_pictures(200, 11, hide=hide) for hide in (None, "target", "distractors"))
    for hidden in (no_target, no_distractors):
        assert torch.equal(hidden.labels, shown.labels) and torch.equal(hidden.boxes, shown.boxes)
    changed = (shown.images != no_target.images).any(dim=1)
    near_target = _grown(shown.target_masks)
    assert changed.any() and not (changed & ~near_target).any()
    changed = (shown.images != no_distractors.images).any(dim=1)
    assert changed.any() and not (changed & ~_grown(shown.distractor_masks.any(dim=1))).any()


def _grown(masks):
    """Masks grown by two pixels: the anti-aliased edge of an object reaches past its mask (up to a pixel at a tip)."""
    return torch.nn.functional.max_pool2d(masks[:, None].float(), 5, stride=1, padding=2)[:, 0] > 0


def test_hide_must_name_what_to_hide():
    with pytest.raises(ValueError, match="hide"):
        make_pictures(2, 0, hide="distractor")


def _target_features(pictures):
    """What a shortcut could use instead of the shape: {name: (n,) values}."""
    masks = pictures.target_masks
    area = masks.flatten(1).sum(dim=1).float()
    rows, columns = torch.meshgrid(torch.arange(IMAGE_SIZE), torch.arange(IMAGE_SIZE), indexing="ij")
    colour = (pictures.images * masks[:, None]).flatten(2).sum(dim=2) / area[:, None]
    features = {"area": area,
                "centre x": (masks * columns).flatten(1).sum(dim=1) / area,
                "centre y": (masks * rows).flatten(1).sum(dim=1) / area,
                "distractors": pictures.distractor_masks.flatten(2).any(dim=2).sum(dim=1).float(),
                "distractor area": pictures.distractor_masks.flatten(1).sum(dim=1).float(),
                "background": pictures.images.mean(dim=(1, 2, 3))}
    features.update({f"colour {channel}": colour[:, i] for i, channel in enumerate("RGB")})
    return features


def _class_spread(values, labels):
    """(largest - smallest class mean) / standard deviation of `values`: how well a feature alone tells classes apart."""
    class_means = torch.stack([values[labels == c].mean() for c in range(len(CLASSES))])
    return ((class_means.max() - class_means.min()) / values.std()).item()


def test_no_colour_size_position_or_count_tells_the_class(pictures):
    """Each non-shape feature has nearly the same mean in every class (within 0.15 standard deviations).

    With about 1000 pictures per class the means' own noise is about 0.03 standard deviations, while a
    feature that told the classes apart would differ by far more (the two tests below show the measure can see one).
    """
    for name, values in _target_features(pictures).items():
        spread = _class_spread(values, pictures.labels)
        assert spread < 0.15, f"{name}: class means differ by {spread:.2f} std"


def test_the_shape_itself_does_tell_the_class(pictures):
    """The fraction of its box a target fills differs between classes: the measure above can see a real cue."""
    boxes = pictures.boxes
    box_area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).float()
    fill = pictures.target_masks.flatten(1).sum(dim=1) / box_area
    assert _class_spread(fill, pictures.labels) > 1


def test_the_size_hint_is_a_cue_the_measure_sees():
    """size_hint=1 draws every shape at one radius, so area tells the class (a square covers most): caught above."""
    hinted = make_pictures(1000, seed=7, size_hint=1.0)
    assert _class_spread(_target_features(hinted)["area"], hinted.labels) > 1
    with pytest.raises(ValueError, match="size_hint"):
        make_pictures(2, 0, size_hint=1.5)
