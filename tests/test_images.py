"""Preprocessing for both models, and ImageNet_utils' class names and index checks."""
import numpy as np
import pytest
import torch
from PIL import Image

from ImageNet_utils import (NUM_CLASSES, ImageNetLookupError, check_class_index, clsidx_to_labels,
                            label_to_index)
from coursekit.images import IMAGENET_MEAN, IMAGENET_STD, open_rgb_image, preprocess_image, preprocess_image_vit
from coursekit.models import load_vit
from coursekit.paths import resource_path
from tools import compose_photos

RGB = (200, 100, 50)


def _save(tmp_path, mode, colour, size=(300, 200), name="img.png"):
    path = tmp_path / name
    Image.new(mode, size, colour).save(path)
    return path


def test_resnet_input_shape_and_normalisation(tmp_path):
    x = preprocess_image(_save(tmp_path, "RGB", RGB))
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    expected = [(v / 255 - m) / s for v, m, s in zip(RGB, IMAGENET_MEAN, IMAGENET_STD)]
    assert torch.allclose(x[0, :, 100, 100], torch.tensor(expected), atol=1e-5)


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg",
                                  "grace_hopper.jpg", "cat_and_coffee.png"])
def test_every_course_image_preprocesses(name):
    x = preprocess_image(resource_path(name))
    assert x.shape == (1, 3, 224, 224) and torch.isfinite(x).all()


def test_the_two_object_picture_is_what_its_script_composes():
    """resources/cat_and_coffee.png is tools/compose_photos.py's output, pixel for pixel (see SOURCES.md)."""
    committed = np.asarray(Image.open(resource_path(compose_photos.OUTPUT)))
    composed = np.asarray(compose_photos.compose())
    assert committed.shape == composed.shape == (448, 448, 3)
    assert np.array_equal(committed, composed), "run `make diagrams` and commit resources/cat_and_coffee.png"


def test_grayscale_picture_is_converted_not_rejected(tmp_path):
    x = preprocess_image(_save(tmp_path, "L", 128))
    assert x.shape == (1, 3, 224, 224)
    expected = [(128 / 255 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    assert torch.allclose(x[0, :, 5, 5], torch.tensor(expected), atol=1e-5)


def test_rgba_picture_is_put_on_white(tmp_path):
    x = preprocess_image(_save(tmp_path, "RGBA", (10, 20, 30, 0)))
    expected = [(1.0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    assert torch.allclose(x[0, :, 5, 5], torch.tensor(expected), atol=1e-5)


def _float_image(tmp_path, values):
    """A 32-bit float ("F") grayscale TIFF with the given rows of values."""
    path = tmp_path / "float.tif"
    Image.fromarray(np.asarray(values, dtype=np.float32), mode="F").save(path)
    return path


@pytest.mark.filterwarnings("error")  # 0 / 0 warns before it casts NaN to uint8
@pytest.mark.parametrize("value", [-1.0, 70000.0, -3.5e9])
def test_constant_float_image_outside_every_known_range_becomes_black(tmp_path, value):
    grey = np.asarray(open_rgb_image(_float_image(tmp_path, np.full((6, 8), value))))
    assert grey.shape == (6, 8, 3) and not grey.any()


def test_float_image_outside_every_known_range_is_stretched_from_min_to_max(tmp_path):
    grey = np.asarray(open_rgb_image(_float_image(tmp_path, [[-1.0, 1.0], [3.0, -1.0]])))[..., 0]
    np.testing.assert_array_equal(grey, [[0, 128], [255, 0]])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_float_image_with_nan_or_inf_pixels_is_a_clear_error(tmp_path, bad):
    path = _float_image(tmp_path, [[0.5, bad], [0.25, 0.0]])
    with pytest.raises(ValueError, match="(?s)NaN 또는 무한대.*NaN or infinite pixel values"):
        preprocess_image(path)


def test_missing_image_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="이미지 파일을 찾을 수 없습니다"):
        preprocess_image(tmp_path / "cat.jpg")


def test_missing_resource_lists_the_available_images():
    with pytest.raises(FileNotFoundError, match="chelsea.png"):
        resource_path("chelsey.png")


def test_vit_input_uses_mean_and_std_one_half(tmp_path):
    _, processor = load_vit()
    inputs = preprocess_image_vit(_save(tmp_path, "L", 255), processor)
    x = inputs["pixel_values"]
    assert x.shape == (1, 3, 224, 224)
    assert torch.allclose(x, torch.ones_like(x), atol=1e-5)  # (1 - 0.5) / 0.5


def test_there_are_a_thousand_class_names():
    assert len(clsidx_to_labels) == NUM_CLASSES == 1000
    assert clsidx_to_labels[281] == "tabby"
    assert clsidx_to_labels[967] == "espresso"


@pytest.mark.parametrize("bad", [1000, -1, "cat"])
def test_unknown_class_index_says_the_range(bad):
    with pytest.raises(ImageNetLookupError, match=r"0 이상 999 이하"):
        clsidx_to_labels[bad]


def test_label_to_index():
    assert label_to_index("Tabby ") == 281
    with pytest.raises(ImageNetLookupError, match="tabby"):
        label_to_index("tabby ca")
    assert label_to_index("crane") == 517 and label_to_index("crane bird") == 134  # torchvision renamed the bird


@pytest.mark.parametrize("good", [0, 999, np.int64(281), torch.tensor(281)])
def test_check_class_index_accepts_integers(good):
    assert check_class_index(good) == int(good)


@pytest.mark.parametrize("bad, error", [(1000, IndexError), (-1, IndexError), (2.0, TypeError),
                                        (True, TypeError), ("281", TypeError), (None, TypeError)])
def test_check_class_index_rejects_bad_indices(bad, error):
    with pytest.raises(error, match="클래스 인덱스"):
        check_class_index(bad)
