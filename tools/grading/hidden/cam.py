"""Hidden tests of 01_cam: CAMs of random classes of a perturbed picture; the top k classes and their CAMs."""
import torch

from coursekit.probes import challenge_image
from tools.grading.hidden.common import EVAL_MODE, NO_HOOKS, picture, resnet
from tools.grading.hidden.expected import Close, Same
from tools.references.cam import cams_by_stages

TOLERANCE = {"atol": 1e-3, "rtol": 1e-3}
SMALLEST_GAP = 1e-3  # logits of the top k + 1 classes at least this far apart: no ranking decided by rounding


def compute_cam(rng):
    challenge = {"image": picture(rng), "classes": rng.sample(range(1000), 2)}
    cams = cams_by_stages(resnet(), challenge_image(challenge["image"]), challenge["classes"])
    expected = {f"cam[{c}]": Close(cam.numpy(), (f"클래스 {c}의 CAM", f"the CAM of class {c}"), **TOLERANCE)
                for c, cam in zip(challenge["classes"], cams)}
    return challenge, {**expected, "hooks_left": NO_HOOKS, "training": EVAL_MODE}


def top_class_cams(rng):
    model = resnet()
    while True:
        challenge = {"image": picture(rng), "k": rng.randint(2, 6)}
        image = challenge_image(challenge["image"])
        with torch.no_grad():
            top = model(image)[0].topk(challenge["k"] + 1)
        if float((top.values[:-1] - top.values[1:]).min()) >= SMALLEST_GAP:
            break
    classes = top.indices[:-1].tolist()
    cams = Close(cams_by_stages(model, image, classes).numpy(),
                 (f"상위 {challenge['k']}개 클래스의 CAM", f"the CAMs of the top {challenge['k']} classes"), **TOLERANCE)
    return challenge, {"classes": Same(classes, "ints", ("점수가 높은 순서의 클래스", "the classes, highest score first")),
                       "cams": cams, "hooks_left": NO_HOOKS}


TESTS = {"compute_cam_hidden": compute_cam, "top_class_cams_hidden": top_class_cams}
