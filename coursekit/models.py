"""Load the pretrained classifiers the course explains, with a clear word when that is impossible.

The calls are the real ones (`weights="IMAGENET1K_V1"`, `from_pretrained(...)`): the
first run downloads the weights into the libraries' own caches, later runs read them
from there. Without network and without a cache, students get a short message
saying what to do instead of a network traceback. Tests and CI plant deterministic
stand-in weights in those caches (tools/standin_weights.py); the loaders notice the
stand-in marker and say so, because pictures made with them mean nothing.
"""
from pathlib import Path

import torch
from torchvision import models

from coursekit.messages import bilingual

RESNET18_CHECKPOINT = "resnet18-f37072fd.pth"
VIT_MODEL_ID = "google/vit-base-patch16-224"
# The markers of the stand-in weights, written by tools/standin_weights.py and looked for here:
STANDIN_SIDECAR_SUFFIX = ".standin"  # torchvision: a file <checkpoint>.standin beside the checkpoint
STANDIN_CONFIG_KEY = "course_standin_weights"  # Hugging Face: this key, true, in the model's config.json
STANDIN_NOTICE = bilingual(
    "※ 대체 가중치(stand-in weights) 사용 중: 테스트/CI용 무작위 가중치라 예측과 그림은 의미가 없습니다.",
    "STAND-IN weights in use (tests/CI): predictions and pictures are meaningless.")


_notice_shown = False


def _announce_standin():
    """Print the stand-in notice once per process: every figure after it is meaningless."""
    global _notice_shown
    if not _notice_shown:
        print(STANDIN_NOTICE)
        _notice_shown = True


class WeightsUnavailableError(RuntimeError):
    """The pretrained weights are neither cached nor downloadable."""


def _unavailable(model_name, cache_variable, cache_dir, cause):
    """Build the student-facing error for weights that could not be loaded."""
    return WeightsUnavailableError(bilingual(
        f"{model_name}의 사전학습 가중치를 내려받지 못했습니다 (캐시: {cache_dir}).\n"
        "  - 인터넷에 연결한 뒤 이 셀을 다시 실행하세요 (한 번만 내려받으면 이후에는 오프라인으로 동작합니다).\n"
        "  - 또는 인터넷이 되는 컴퓨터에서 코스 폴더의 `make weights` (또는 `python -m tools.fetch_weights`)를\n"
        f"    실행한 뒤, 그 캐시 폴더를 복사해 오고 환경 변수 {cache_variable}가 그 폴더를 가리키게 하세요.",
        f"Could not download the pretrained {model_name} weights and found no cached copy in {cache_dir}.\n"
        "Connect to the internet and re-run this cell (one download, then it works offline), or run\n"
        f"`make weights` on a machine that is online, copy its cache and point {cache_variable} at it.\n"
        f"(cause: {type(cause).__name__}: {cause})"))


def load_resnet18():
    """Return torchvision's ImageNet-pretrained ResNet18 in eval mode."""
    try:
        model = models.resnet18(weights="IMAGENET1K_V1")
    except OSError as err:  # URLError, socket and HTTP errors are all OSErrors
        raise _unavailable("ResNet18", "TORCH_HOME", torch.hub.get_dir(), err) from None
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / RESNET18_CHECKPOINT
    if checkpoint.with_name(checkpoint.name + STANDIN_SIDECAR_SUFFIX).exists():
        _announce_standin()
    return model.eval()


def load_vit():
    """Return (ViTForImageClassification, ViTImageProcessor) for google/vit-base-patch16-224.

    The model uses eager attention: the default SDPA kernels return no attention
    weights (transformers 5 gives an empty tuple for output_attentions=True).
    """
    from transformers import ViTForImageClassification, ViTImageProcessor
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress bars write to stderr, which nbgrader scores as failure
    hf_logging.set_verbosity_error()
    try:
        model = ViTForImageClassification.from_pretrained(VIT_MODEL_ID, attn_implementation="eager")
        processor = ViTImageProcessor.from_pretrained(VIT_MODEL_ID)
    except OSError as err:
        from huggingface_hub.constants import HF_HUB_CACHE
        raise _unavailable("ViT-B/16", "HF_HOME", HF_HUB_CACHE, err) from None
    if model.config._attn_implementation != "eager":
        raise RuntimeError(bilingual("ViT가 eager attention으로 로드되지 않아 attention 값을 얻을 수 없습니다.",
                                     "ViT was not loaded with eager attention, so it would return no attention weights."))
    if getattr(model.config, STANDIN_CONFIG_KEY, False):
        _announce_standin()
    return model.eval(), processor
