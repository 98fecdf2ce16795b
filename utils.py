"""The course's helpers in one import, shared by every notebook.

    from utils import load_resnet18, preprocess_image, visualize_heatmap, resource_path

Each helper lives in a small module of `coursekit/` (models, images, heatmaps,
hooks, paths, vit); this file only gathers the ones students call.
"""
from coursekit.heatmaps import load_display_image, show_heatmap_grid, visualize_heatmap
from coursekit.hooks import capture_outputs, count_hooks
from coursekit.images import open_rgb_image, preprocess_image, preprocess_image_vit
from coursekit.models import WeightsUnavailableError, load_resnet18, load_vit
from coursekit.paths import COURSE_ROOT, resource_path
from coursekit.vit import expect_layer_attentions

__all__ = [
    "COURSE_ROOT", "WeightsUnavailableError", "capture_outputs", "count_hooks", "expect_layer_attentions",
    "load_display_image", "load_resnet18", "load_vit", "open_rgb_image", "preprocess_image", "preprocess_image_vit",
    "resource_path", "show_heatmap_grid", "visualize_heatmap",
]
