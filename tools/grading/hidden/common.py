"""What the hidden tests of several assignments share: the pictures, the grader's own models, the usual expectations."""
from functools import lru_cache

from coursekit.models import load_resnet18, load_vit
from tools.grading.hidden.expected import Same

PICTURES = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "grace_hopper.jpg")
NOISE = 0.2  # std of the noise added to a normalised picture: small beside its spread of about 1


def picture(rng):
    """A course picture, mirrored or not, with seeded noise: a description that probes.challenge_image builds."""
    return {"image": rng.choice(PICTURES), "flip": rng.random() < 0.5, "noise": NOISE, "seed": rng.randrange(2**31)}


@lru_cache(maxsize=1)
def resnet():
    """The grader's ResNet18, loaded once per process from the same cache the kernel reads."""
    return load_resnet18()


@lru_cache(maxsize=1)
def vit():
    """The grader's (ViT, processor), loaded once per process."""
    return load_vit()


NO_HOOKS = Same(0, "int", ("모델에 남은 hook 수", "hooks left on the model"))
EVAL_MODE = Same(False, "bool", ("모델이 train 모드인가", "model left in train mode"))
