"""coursekit.messages: bilingual messages and Korean particles that fit whatever name is put before them."""
import pytest

from coursekit.messages import bilingual, particle


def test_bilingual_puts_korean_first_and_english_on_the_next_line():
    assert bilingual("맵이 비어 있습니다", "the map is empty") == "맵이 비어 있습니다\nthe map is empty"


@pytest.mark.parametrize("word, forms, expected", [
    ("맵", "은/는", "맵은"), ("텐서", "은/는", "텐서는"), ("모델", "으로/로", "모델로"), ("행렬", "이/가", "행렬이"),
    ("CAM", "은/는", "CAM은"), ("Grad-CAM", "이/가", "Grad-CAM이"), ("GradCAM", "이/가", "GradCAM이"),
    ("ViT", "은/는", "ViT는"), ("Â", "은/는", "Â는"),
    ("compute_cam", "이/가", "compute_cam이"), ("add_identity_and_normalise", "이/가", "add_identity_and_normalise가"),
    ("hook", "이/가", "hook이"), ("tuple", "을/를", "tuple을"), ("Tensor", "을/를", "Tensor를"),
    ("NoneType", "을/를", "NoneType을"), ("training", "이/가", "training이"),
    ("-2", "이어야/여야", "-2여야"), ("1", "이어야/여야", "1이어야"), ("0.125", "이어야/여야", "0.125여야"),
    ("3", "이어야/여야", "3이어야"), ("10", "이어야/여야", "10이어야"), ("7", "으로/로", "7로"),
    ((2, 3), "이어야/여야", "(2, 3)이어야"), ((14, 14), "이어야/여야", "(14, 14)여야"), ([1, 0], "이어야/여야", "[1, 0]이어야"),
    ("maps[0]", "은/는", "maps[0]은"), ("maps['layer4']", "은/는", "maps['layer4']는"),
    ("작은 모델의 CAM (클래스 1)", "은/는", "작은 모델의 CAM (클래스 1)은"),
    ("두 값 (entropies, most_concentrated)", "을/를", "두 값 (entropies, most_concentrated)을"),
])
def test_particle_fits_the_last_sound_as_a_korean_reader_says_it(word, forms, expected):
    assert particle(word, forms) == expected
