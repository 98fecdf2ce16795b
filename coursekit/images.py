"""Turn an image file into model input, with clear errors for files that are not usable photos.

Both models see the photo resized to 224 x 224 without cropping, so a heatmap
computed on the input lines up with the picture `visualize_heatmap` draws.
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from torchvision import transforms

from coursekit.messages import bilingual

INPUT_SIZE = (224, 224)
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision ResNet normalisation
IMAGENET_STD = (0.229, 0.224, 0.225)

_RESNET_TRANSFORM = transforms.Compose([
    transforms.Resize(INPUT_SIZE),
    transforms.ToTensor(),
    transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
])


# Image file suffixes listed when an image path is wrong.
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

# Modes with more than 8 bits per pixel; PIL's own convert("RGB") clips these at 255.
_HIGH_BIT_DEPTH_MODES = {"I", "F", "I;16", "I;16L", "I;16B", "I;16N"}

# Modes that carry an alpha channel.
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _check_image_path(image_path):
    """Return `image_path` as an absolute Path to an existing file, or raise a clear error."""
    if not isinstance(image_path, (str, Path)):
        raise TypeError(bilingual(
            f"image_path는 파일 경로 (str 또는 pathlib.Path)여야 합니다: 받은 {type(image_path).__name__}",
            f"image_path must be a file path (str or pathlib.Path): got {type(image_path).__name__}"))
    path = Path(image_path).expanduser().resolve()
    if path.is_file():
        return path
    if path.is_dir():
        raise IsADirectoryError(bilingual(
            f"이미지 파일이 아니라 폴더입니다: {path}",
            f"this is a folder, not an image file: {path}"))
    if path.parent.is_dir():
        images = sorted(p.name for p in path.parent.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        where_ko = f"같은 폴더의 이미지: {images[:10]}"
        where_en = f"images in that folder: {images[:10]}"
    else:
        where_ko = f"폴더 {path.parent} 도 없습니다"
        where_en = f"the folder {path.parent} does not exist either"
    raise FileNotFoundError(bilingual(
        f"이미지 파일을 찾을 수 없습니다: {path} — 파일 이름과 경로를 확인하세요 ({where_ko})",
        f"image file not found: {path} — check the file name and folder ({where_en})"))


def _high_bit_depth_to_l(image, path):
    """Scale a 16-bit, 32-bit or float grayscale image to 8-bit "L" instead of clipping it.

    PIL's convert("RGB") clips such values at 255, turning most 16-bit images
    white. The file's mode does not say which range was used, so the values do:
    floats in 0..1 are scaled by 255, values in 0..255 are kept, values in
    0..65535 (16-bit files, opened as "I;16" or "I") are divided by 257, and
    anything else is stretched from its min..max to 0..255; a constant image of
    such values has no range to stretch and becomes black. NaN or infinite
    pixels are an error: they have no grey level.
    """
    values = np.asarray(image, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(bilingual(
            f"이미지에 NaN 또는 무한대인 픽셀 값이 있어 밝기로 바꿀 수 없습니다: {path}",
            f"the image has NaN or infinite pixel values, which have no grey level: {path}"))
    low, high = float(values.min()), float(values.max())
    if image.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255.0
    elif low >= 0 and high <= 255:
        scaled = values
    elif low >= 0 and high <= 65535:
        scaled = values / 257.0
    elif high > low:
        scaled = (values - low) / (high - low) * 255.0
    else:
        scaled = np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _to_rgb(image, path):
    """Convert a PIL image of any mode to "RGB"; transparent pixels become white."""
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        image = _high_bit_depth_to_l(image, path)
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    try:
        if has_alpha:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        return image.convert("RGB")
    except ValueError as error:
        raise ValueError(bilingual(
            f"이 이미지의 색 형식({image.mode})은 RGB로 바꿀 수 없습니다: {path}",
            f"cannot convert this image's colour mode ({image.mode}) to RGB: {path}")) from error


def open_rgb_image(image_path):
    """Open an image file as a PIL image in mode "RGB", at its original size.

    The one place the course opens image files, so every notebook gets the same
    errors and conversions: any mode (L, RGBA, P, LA, I;16, CMYK, ...) becomes RGB,
    transparent pixels are put on white, 16-bit images are scaled rather than
    clipped, and the EXIF orientation of phone photos is applied.

    Raises FileNotFoundError (with the absolute path tried and the images next
    to it), IsADirectoryError, TypeError for a path that is not str/Path, and
    ValueError when the file is not a readable image.
    """
    path = _check_image_path(image_path)
    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
    except UnidentifiedImageError as error:
        raise ValueError(bilingual(
            f"이미지 파일이 아닙니다 (PIL이 읽을 수 없는 형식): {path}",
            f"not an image file (PIL cannot identify it): {path}")) from error
    except PermissionError:
        raise
    except (OSError, SyntaxError) as error:  # truncated or corrupt data; PIL raises both
        raise ValueError(bilingual(
            f"이미지 파일이 손상되어 읽을 수 없습니다: {path}",
            f"the image file is damaged and cannot be read: {path} ({error})")) from error
    return _to_rgb(image, path)


def preprocess_image(image_path):
    """Return the ResNet input for an image file: a float tensor (1, 3, 224, 224), ImageNet-normalised."""
    return _RESNET_TRANSFORM(open_rgb_image(image_path)).unsqueeze(0)


def preprocess_image_vit(image_path, image_processor):
    """Return the ViT input for an image file: the processor's dict with pixel_values (1, 3, 224, 224).

    The ViT processor normalises with mean = std = 0.5, not the ImageNet statistics.
    """
    return image_processor(images=open_rgb_image(image_path), return_tensors="pt")

