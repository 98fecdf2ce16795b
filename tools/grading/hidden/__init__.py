"""Hidden tests, the half the grader runs outside the student's kernel: choose the inputs, compute the answers, judge.

For every hidden-test cell (by its grade_id) a module here prepares one grading of it: it chooses
inputs at random (the challenge the kernel receives: a picture with a flip and seeded noise, random
classes and layers, seeded random attentions) and computes what a correct answer returns, with
the independent references in tools/references/ and the weights the kernel loads. A copied answer
table does not help when the inputs change at every grading. judge() then compares the records
the kernel published (coursekit/probes.py) with them.
"""
import random

from coursekit import probes
from tools.grading.hidden import attention, cam, gradcam, rollout, trust
from tools.grading.hidden.expected import judge

TESTS = {**cam.TESTS, **gradcam.TESTS, **attention.TESTS, **rollout.TESTS, **trust.TESTS}


def prepare(grade_ids, seed):
    """{grade_id: (challenge, expected)} for one grading, chosen by `seed`; grade_ids without a hidden test are left out."""
    rng = random.Random(seed)
    return {grade_id: TESTS[grade_id](rng) for grade_id in grade_ids if grade_id in TESTS}


def check_here(grade_id, functions, seed=None):
    """Run a hidden test in this process (the instructors' notebooks): raise AssertionError with the problems."""
    (challenge, expected), = prepare([grade_id], seed).values()
    problems = judge(grade_id, expected, probes.records(grade_id, challenge, functions))
    if problems:
        raise AssertionError("\n".join(problems))
    print(f"숨은 테스트 통과 / hidden test passed: {grade_id}")
