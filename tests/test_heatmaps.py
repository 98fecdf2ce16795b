"""Tests for coursekit.heatmaps: validation, normalisation, upsampling, images and figures."""
import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from coursekit.heatmaps import (  # noqa: E402
    COLORBAR_LABEL,
    as_2d_array,
    load_display_image,
    normalize_heatmap,
    overlay_heatmap,
    show_heatmap_grid,
    upsample_heatmap,
    visualize_heatmap,
)

from coursekit.images import open_rgb_image  # noqa: E402

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opened, so figures never pile up between tests."""
    yield
    plt.close("all")


@pytest.fixture
def rgb_path(tmp_path):
    """A small non-square RGB image: left half red, right half blue."""
    pixels = np.zeros((30, 40, 3), dtype=np.uint8)
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    path = tmp_path / "cat.png"
    Image.fromarray(pixels).save(path)
    return path


def printed_note(heatmap, image_path, capsys):
    """What visualize_heatmap prints about a map drawn blank (Korean line, English line), or None."""
    capsys.readouterr()
    visualize_heatmap(image_path, heatmap)
    return capsys.readouterr().out.rstrip("\n") or None


def assert_bilingual(error):
    """The message is one Korean line, then one English line."""
    lines = str(error).splitlines()
    assert len(lines) == 2, lines
    assert HANGUL.search(lines[0]), lines[0]
    assert not HANGUL.search(lines[1]), lines[1]


def overlay_image(ax):
    """The heatmap AxesImage drawn over the photo on `ax` (the one with a colormap, 2-D data)."""
    images = [im for im in ax.get_images() if im.get_array().ndim == 2]
    assert len(images) == 1
    return images[0]


def peaked_map(size, row, col):
    """A map of zeros with a single 1.0 at (row, col)."""
    heat = np.zeros((size, size))
    heat[row, col] = 1.0
    return heat


# --- as_2d_array ---------------------------------------------------------

def test_tensor_input_becomes_float64_array():
    tensor = torch.arange(49, dtype=torch.float32).reshape(7, 7)
    array = as_2d_array(tensor)
    assert isinstance(array, np.ndarray) and array.dtype == np.float64
    np.testing.assert_array_equal(array, np.arange(49).reshape(7, 7))


def test_tensor_requiring_grad_is_accepted():
    weights = torch.rand(7, 7, requires_grad=True)
    cam = weights * 2  # a non-leaf tensor, as a CAM computed from a model would be
    np.testing.assert_allclose(as_2d_array(cam), (weights * 2).detach().numpy())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16, torch.int64])
def test_tensor_dtypes_are_accepted(dtype):
    tensor = torch.tensor([[0, 1], [2, 4]], dtype=dtype)
    array = as_2d_array(tensor)
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[0, 1], [2, 4]])


def test_numpy_and_list_inputs():
    np.testing.assert_array_equal(as_2d_array(np.eye(3, dtype=np.float32)), np.eye(3))
    array = as_2d_array([[1, 2], [3, 4]])
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])


def test_result_is_a_copy():
    source = np.ones((3, 3))
    as_2d_array(source)[0, 0] = 5.0
    assert source[0, 0] == 1.0


@pytest.mark.parametrize("shape", [(1, 7, 7), (1, 1, 7, 7)])
def test_leading_singleton_dims_are_squeezed(shape):
    heat = torch.rand(shape)
    array = as_2d_array(heat)
    assert array.shape == (7, 7)
    np.testing.assert_allclose(array, heat.reshape(7, 7).numpy())


def test_one_by_n_map_is_2d_already():
    assert as_2d_array(np.ones((1, 7))).shape == (1, 7)


@pytest.mark.parametrize("heat, shape_text", [
    (torch.rand(2, 7, 7), "(2, 7, 7)"),
    (torch.rand(7, 7, 1), "(7, 7, 1)"),
    (np.ones(7), "(7,)"),
    (np.float64(3.0), "()"),
    (torch.tensor(3.0), "()"),
    (np.ones((0, 7)), "(0, 7)"),
    (np.ones((1, 0, 7)), "(1, 0, 7)"),
])
def test_wrong_shapes_are_rejected_with_the_shape(heat, shape_text):
    with pytest.raises(ValueError) as error:
        as_2d_array(heat)
    assert str(error.value).count(shape_text) == 2  # in the Korean and the English line
    assert_bilingual(error.value)


def test_example_message_for_a_batch_of_maps():
    with pytest.raises(ValueError) as error:
        as_2d_array(torch.zeros(2, 7, 7))
    assert str(error.value) == ("heatmap은 2차원이어야 하는데 shape이 (2, 7, 7)입니다\n"
                                "heatmap must be 2-D: got shape (2, 7, 7)")


def test_nan_and_inf_are_rejected_with_a_count():
    heat = np.ones((7, 7))
    heat[0, 0] = np.nan
    heat[1, 1] = np.inf
    heat[2, 2] = -np.inf
    with pytest.raises(ValueError) as error:
        as_2d_array(heat)
    assert "3 non-finite" in str(error.value)
    assert "49개 중 3개" in str(error.value)
    assert_bilingual(error.value)


def test_nan_in_a_tensor_is_rejected():
    heat = torch.zeros(7, 7)
    heat[3, 3] = float("nan")
    with pytest.raises(ValueError, match="1 non-finite"):
        as_2d_array(heat)


@pytest.mark.parametrize("bad", ["a heatmap", None, [["a", "b"]], np.ones((2, 2), dtype=complex),
                                 torch.ones(2, 2, dtype=torch.complex64), {"cam": 1}])
def test_non_numeric_input_is_a_type_error(bad):
    with pytest.raises(TypeError) as error:
        as_2d_array(bad)
    assert_bilingual(error.value)


# --- normalize_heatmap ----------------------------------------------------

def test_normalised_range_is_zero_to_one():
    heat = np.random.default_rng(0).normal(size=(7, 7)) * 30 + 100
    norm = normalize_heatmap(heat)
    assert norm.min() == 0.0
    assert norm.max() == pytest.approx(1.0, abs=1e-6)
    assert np.unravel_index(norm.argmax(), norm.shape) == np.unravel_index(heat.argmax(), heat.shape)


def test_normalisation_formula():
    norm = normalize_heatmap([[2.0, 4.0], [3.0, 6.0]], eps=0.0)
    np.testing.assert_allclose(norm, [[0.0, 0.5], [0.25, 1.0]])


def test_normalisation_is_per_map():
    heat = np.random.default_rng(1).random((7, 7))
    rescaled = 1000 * heat + 42  # a positive affine rescaling: same pattern, other units
    np.testing.assert_allclose(normalize_heatmap(rescaled), normalize_heatmap(heat), atol=1e-6)
    assert not np.allclose(normalize_heatmap(rescaled), normalize_heatmap(-heat))


def test_negative_raw_cam_is_handled(rgb_path, capsys):
    raw_cam = np.linspace(-5, -1, 49).reshape(7, 7)  # raw CAM before any ReLU can be all negative
    norm = normalize_heatmap(raw_cam)
    assert norm[0, 0] == 0.0 and norm[-1, -1] == pytest.approx(1.0, abs=1e-6)
    assert printed_note(raw_cam, rgb_path, capsys) is None


def test_all_zero_map_becomes_zeros_with_a_note(rgb_path, capsys):
    zeros = torch.zeros(7, 7)
    norm = normalize_heatmap(zeros)
    assert not np.isnan(norm).any()
    np.testing.assert_array_equal(norm, np.zeros((7, 7)))
    note = printed_note(zeros, rgb_path, capsys)
    assert note.splitlines()[0] == "모든 값이 0 (all zeros): 이 클래스에 대한 양(+)의 근거가 없습니다"
    assert "all zeros" in note.splitlines()[1]
    assert_bilingual(note)


def test_constant_map_becomes_zeros_with_a_note(rgb_path, capsys):
    constant = np.full((14, 14), 0.7)
    np.testing.assert_array_equal(normalize_heatmap(constant), np.zeros((14, 14)))
    note = printed_note(constant, rgb_path, capsys)
    assert note.startswith("상수 맵 (constant map)")
    assert "0.7" in note
    assert_bilingual(note)


def test_rounding_noise_counts_as_constant(rgb_path, capsys):
    noisy = np.full((7, 7), 0.25)
    noisy[3, 3] += 1e-10  # far below eps: not a pattern worth stretching to [0, 1]
    np.testing.assert_array_equal(normalize_heatmap(noisy), np.zeros((7, 7)))
    assert printed_note(noisy, rgb_path, capsys).startswith("상수 맵")


def test_map_with_a_pattern_has_no_note(rgb_path, capsys):
    assert printed_note(peaked_map(7, 3, 3), rgb_path, capsys) is None


def test_normalize_does_not_modify_its_input():
    heat = np.array([[1.0, 3.0], [5.0, 9.0]])
    normalize_heatmap(heat)
    np.testing.assert_array_equal(heat, [[1.0, 3.0], [5.0, 9.0]])


# --- upsample_heatmap -----------------------------------------------------

@pytest.mark.parametrize("side", [7, 14, 28, 56])
def test_upsample_output_shape(side):
    assert upsample_heatmap(torch.rand(side, side)).shape == (224, 224)
    assert upsample_heatmap(torch.rand(side, side), size=(30, 40)).shape == (30, 40)


def test_upsample_is_bilinear_without_aligned_corners():
    # align_corners=False: output pixel i samples input position i/2 - 0.25, clamped to [0, 1],
    # i.e. positions 0, 0.25, 0.75, 1 -> weights (1, 0), (.75, .25), (.25, .75), (0, 1).
    heat = [[0.0, 4.0],
            [8.0, 12.0]]
    expected = [[0.0, 1.0, 3.0, 4.0],
                [2.0, 3.0, 5.0, 6.0],
                [6.0, 7.0, 9.0, 10.0],
                [8.0, 9.0, 11.0, 12.0]]
    np.testing.assert_allclose(upsample_heatmap(heat, size=(4, 4)), expected)


def test_upsampled_constant_map_stays_constant():
    np.testing.assert_allclose(upsample_heatmap(np.full((7, 7), 0.3)), np.full((224, 224), 0.3))


@pytest.mark.parametrize("size", [224, (224,), (0, 224), (224.0, 224), "224"])
def test_upsample_rejects_bad_sizes(size):
    with pytest.raises(ValueError):
        upsample_heatmap(np.ones((7, 7)), size=size)


# --- images ---------------------------------------------------------------

def test_open_rgb_image_keeps_the_original_size(rgb_path):
    image = open_rgb_image(rgb_path)
    assert image.mode == "RGB" and image.size == (40, 30)


def test_load_display_image_resizes_without_cropping(rgb_path):
    image = load_display_image(str(rgb_path))
    assert image.shape == (224, 224, 3) and image.dtype == np.uint8
    # a crop would lose one colour; a plain resize keeps red on the left and blue on the right
    assert tuple(image[112, 5]) == (255, 0, 0)
    assert tuple(image[112, 218]) == (0, 0, 255)
    assert load_display_image(rgb_path, size=(10, 20)).shape == (10, 20, 3)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA", "I;16", "I", "CMYK", "1"])
def test_other_image_modes_are_converted_to_rgb(tmp_path, mode):
    suffix = {"CMYK": "jpg", "I": "tif"}.get(mode, "png")  # formats that can store the mode
    path = tmp_path / f"image_{mode.replace(';', '')}.{suffix}"
    grey = 102  # in PIL's web palette, so mode "P" keeps it exactly
    Image.new("RGB", (16, 12), (grey, grey, grey)).convert(mode).save(path)
    image = load_display_image(path)
    assert image.shape == (224, 224, 3) and image.dtype == np.uint8
    if mode != "1":  # bilevel images are dithered to black and white
        assert np.abs(image.astype(int) - grey).max() <= 3


def test_exif_orientation_of_phone_photos_is_applied(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright, rotate 90 degrees to display
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path, exif=exif)
    assert open_rgb_image(path).size == (30, 40)


def test_grayscale_values_are_kept(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (8, 8), 100).save(path)
    assert (load_display_image(path) == 100).all()


def test_transparent_pixels_become_white(tmp_path):
    pixels = np.zeros((8, 8, 4), dtype=np.uint8)
    pixels[:, :4] = (0, 128, 0, 255)  # opaque green
    pixels[:, 4:] = (0, 0, 0, 0)  # fully transparent (black underneath)
    path = tmp_path / "transparent.png"
    Image.fromarray(pixels, mode="RGBA").save(path)
    image = np.asarray(open_rgb_image(path))
    assert tuple(image[0, 0]) == (0, 128, 0)
    assert tuple(image[0, 7]) == (255, 255, 255)


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    path = tmp_path / "sixteen.png"
    Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16)).save(path)
    image = np.asarray(open_rgb_image(path))
    np.testing.assert_array_equal(image[0, :, 0], [0, 128, 255])


def test_float_images_in_zero_one_are_scaled(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32)).save(path)
    image = np.asarray(open_rgb_image(path))
    np.testing.assert_array_equal(image[0, :, 0], [0, 128, 255])


def test_missing_image_names_the_path(tmp_path, rgb_path):
    missing = tmp_path / "dgo.png"
    with pytest.raises(FileNotFoundError) as error:
        load_display_image(missing)
    message = str(error.value)
    assert str(missing.resolve()) in message
    assert "파일 이름과 경로를 확인하세요" in message and "check the file name and folder" in message
    assert "cat.png" in message  # the images that are there, to spot a typo
    assert_bilingual(error.value)


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_rgb_image(str(tmp_path / "no_such_folder" / "dog.png"))


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        open_rgb_image(tmp_path)


def test_text_file_named_png_is_a_value_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    with pytest.raises(ValueError) as error:
        load_display_image(path)
    assert str(path.resolve()) in str(error.value)
    assert_bilingual(error.value)


def test_truncated_image_is_a_value_error(tmp_path, rgb_path):
    path = tmp_path / "broken.png"
    path.write_bytes(rgb_path.read_bytes()[:60])
    with pytest.raises(ValueError):
        open_rgb_image(path)


def test_image_path_must_be_a_path(rgb_path):
    with pytest.raises(TypeError):
        open_rgb_image(Image.open(rgb_path))


# --- overlay and figures --------------------------------------------------

def test_overlay_draws_the_normalised_upsampled_map(rgb_path):
    fig, ax = plt.subplots()
    image = load_display_image(rgb_path)
    heat = peaked_map(7, 1, 5) * 3 - 1
    drawn = overlay_heatmap(ax, image, heat, alpha=0.4)
    expected = normalize_heatmap(upsample_heatmap(heat))
    np.testing.assert_allclose(np.asarray(drawn.get_array()), expected)
    assert drawn.get_alpha() == 0.4
    assert drawn.get_clim() == (0.0, 1.0)
    assert not ax.axison
    photo = [im for im in ax.get_images() if im is not drawn]
    np.testing.assert_array_equal(np.asarray(photo[0].get_array()), image)


def test_overlay_rejects_a_non_rgb_image():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError):
        overlay_heatmap(ax, np.zeros((224, 224)), np.ones((7, 7)))


@pytest.mark.parametrize("side", [7, 14, 56])
def test_visualize_heatmap_returns_a_figure(rgb_path, side):
    heat = torch.tensor(peaked_map(side, side // 4, 3 * side // 4))
    fig = visualize_heatmap(rgb_path, heat, title="Grad-CAM: tabby cat")
    assert isinstance(fig, Figure)
    assert fig._suptitle.get_text() == "Grad-CAM: tabby cat"
    image_ax, overlay_ax = fig.axes[0], fig.axes[1]
    drawn = np.asarray(overlay_image(overlay_ax).get_array())
    np.testing.assert_allclose(drawn, normalize_heatmap(upsample_heatmap(heat)))
    assert drawn.shape == (224, 224)
    # the peak is in the top-right quarter, where it was in the small map
    row, col = np.unravel_index(drawn.argmax(), drawn.shape)
    assert row < 112 and col > 112
    assert np.asarray(image_ax.get_images()[0].get_array()).shape == (224, 224, 3)


def test_visualize_heatmap_has_a_labelled_colourbar(rgb_path):
    fig = visualize_heatmap(rgb_path, torch.rand(7, 7))
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "relative importance (per-image min-max)" in labels
    assert len(fig.axes) == 3  # image, overlay, colourbar
    assert fig.axes[2].get_ylim() == (0.0, 1.0)  # the fixed 0..1 scale of a normalised map


def test_visualize_heatmap_title_can_be_a_class_index(rgb_path):
    fig = visualize_heatmap(rgb_path, torch.rand(7, 7), title=0)
    assert fig._suptitle.get_text() == "0"


def test_visualize_heatmap_without_title(rgb_path):
    fig = visualize_heatmap(rgb_path, torch.rand(7, 7))
    assert fig._suptitle is None or fig._suptitle.get_text() == ""


def test_visualize_heatmap_does_not_draw_an_ordinary_map_with_a_note(rgb_path, capsys):
    fig = visualize_heatmap(rgb_path, peaked_map(7, 3, 3))
    assert fig.axes[1].get_title() == "heatmap overlay"
    assert capsys.readouterr().out == ""


@pytest.mark.filterwarnings("error")  # a missing-glyph warning would go to stderr in nbgrader
def test_all_zero_map_is_drawn_with_an_english_note(rgb_path, capsys):
    fig = visualize_heatmap(rgb_path, torch.relu(-torch.rand(1, 1, 7, 7)), title="Grad-CAM")
    fig.canvas.draw()  # render the text: Hangul in the figure would warn here
    overlay_ax = fig.axes[1]
    assert "all zeros" in overlay_ax.get_title()
    assert not HANGUL.search(overlay_ax.get_title())
    drawn = np.asarray(overlay_image(overlay_ax).get_array())
    assert not np.isnan(drawn).any() and (drawn == 0).all()
    printed = capsys.readouterr()
    assert "모든 값이 0" in printed.out and "all zeros" in printed.out
    assert printed.err == ""


def test_visualize_heatmap_bad_map_fails_before_opening_a_figure(rgb_path):
    with pytest.raises(ValueError, match=r"\(2, 7, 7\)"):
        visualize_heatmap(rgb_path, torch.rand(2, 7, 7))
    assert plt.get_fignums() == []


def test_visualize_heatmap_missing_image(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.jpg"):
        visualize_heatmap(tmp_path / "nowhere.jpg", torch.rand(7, 7))
    assert plt.get_fignums() == []


@pytest.mark.parametrize("alpha", [-0.1, 1.5, "0.5"])
def test_bad_alpha_is_rejected(rgb_path, alpha):
    with pytest.raises(ValueError):
        visualize_heatmap(rgb_path, torch.rand(7, 7), alpha=alpha)


@pytest.mark.filterwarnings("error")
def test_grid_of_twelve_layers(rgb_path):
    maps = [peaked_map(14, layer, 13 - layer) for layer in range(12)]
    titles = [f"layer {layer}" for layer in range(12)]
    fig = show_heatmap_grid(rgb_path, maps, titles, suptitle="ViT attention")
    fig.canvas.draw()
    overlay_axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in overlay_axes] == titles
    for ax, heat in zip(overlay_axes, maps):
        np.testing.assert_allclose(np.asarray(overlay_image(ax).get_array()),
                                   normalize_heatmap(upsample_heatmap(heat)))
    assert [ax.get_ylabel() for ax in fig.axes].count(COLORBAR_LABEL) == 1  # one shared colourbar
    assert len(fig.axes) == 12 + 1
    assert fig._suptitle.get_text() == "ViT attention"
    assert fig.axes[3].get_position().y0 == pytest.approx(fig.axes[0].get_position().y0)  # 4 per row
    assert fig.axes[4].get_position().y0 < fig.axes[0].get_position().y0


def test_grid_accepts_a_stacked_tensor_and_fills_empty_cells(rgb_path):
    heads = torch.rand(5, 14, 14)
    fig = show_heatmap_grid(rgb_path, heads, [f"head {h}" for h in range(5)], ncols=3)
    grid_axes = [ax for ax in fig.axes if ax.get_ylabel() != COLORBAR_LABEL]
    assert len(grid_axes) == 6  # 2 rows x 3 columns
    assert sum(bool(ax.get_images()) for ax in grid_axes) == 5
    np.testing.assert_allclose(np.asarray(overlay_image(grid_axes[4]).get_array()),
                               normalize_heatmap(upsample_heatmap(heads[4])))


def test_grid_as_one_row_replaces_side_by_side(rgb_path):
    maps = [torch.rand(7, 7), torch.rand(7, 7)]
    fig = show_heatmap_grid(rgb_path, maps, ["CAM", "Grad-CAM"], ncols=len(maps))
    first, second = fig.axes[0].get_position(), fig.axes[1].get_position()
    assert first.y0 == pytest.approx(second.y0) and first.x0 < second.x0


def test_grid_notes_flat_maps_in_their_titles(rgb_path, capsys):
    fig = show_heatmap_grid(rgb_path, [torch.zeros(7, 7), np.full((7, 7), 2.0), torch.rand(7, 7)],
                            ["layer1\nlogit -3.2", "layer2", "layer3"])
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles[0].startswith("layer1\nlogit -3.2\n") and "all zeros" in titles[0]
    assert titles[1].startswith("layer2\n") and "constant map" in titles[1]
    assert titles[2] == "layer3"
    printed = capsys.readouterr().out
    assert "[layer1] 모든 값이 0" in printed and "[layer2] 상수 맵" in printed


@pytest.mark.parametrize("titles", [["only one"], [f"t{i}" for i in range(13)]])
def test_grid_titles_must_match_maps(rgb_path, titles):
    with pytest.raises(ValueError) as error:
        show_heatmap_grid(rgb_path, [torch.rand(7, 7)] * 12, titles)
    assert "12" in str(error.value)
    assert_bilingual(error.value)
    assert plt.get_fignums() == []


def test_grid_error_names_the_bad_map(rgb_path):
    maps = [torch.rand(7, 7), torch.rand(7, 7), torch.rand(3, 7, 7)]
    with pytest.raises(ValueError) as error:
        show_heatmap_grid(rgb_path, maps, ["a", "b", "c"])
    lines = str(error.value).splitlines()
    assert all(line.startswith("heatmaps[2]: ") for line in lines) and len(lines) == 2
    assert "(3, 7, 7)" in lines[1]


def test_grid_rejects_a_single_map_and_empty_lists(rgb_path):
    with pytest.raises(ValueError):
        show_heatmap_grid(rgb_path, torch.rand(7, 7), ["x"] * 7)
    with pytest.raises(ValueError):
        show_heatmap_grid(rgb_path, [], [])
    with pytest.raises(TypeError):
        show_heatmap_grid(rgb_path, [torch.rand(7, 7)], "x")
    with pytest.raises(ValueError):
        show_heatmap_grid(rgb_path, [torch.rand(7, 7)], ["x"], ncols=0)
