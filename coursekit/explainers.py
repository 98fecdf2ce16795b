"""The course's explanation methods, shared by the notebooks that build on earlier ones.

Notebook 02 compares Grad-CAM with notebook 01's CAM, and notebook 04 puts
notebook 02's Grad-CAM beside attention rollout; both import them from here
instead of re-typing them, and the benchmarks time them. These are the answers of
earlier exercises, exactly as the solution notebooks teach them (coursekit/answers/,
a module per assignment, written from the notebooks by `make student`), so the checks
of those exercises refuse an answer that only calls them (coursekit.checks.refusing_reference).
A student's release of an assignment ships only the answers of the assignments before it.
"""
# One import per answer module: a module that the release withholds is skipped (its names are then
# missing here and from __all__); any other import error is raised.
__all__ = []
try:
    from coursekit.answers.cam import compute_cam
    __all__ += ["compute_cam"]
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.cam":
        raise
try:
    from coursekit.answers.gradcam import GradCAM
    __all__ += ["GradCAM"]
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.gradcam":
        raise
try:
    from coursekit.answers.attention import obtain_attention_maps
    __all__ += ["obtain_attention_maps"]
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.attention":
        raise
try:
    from coursekit.answers.rollout import add_identity_and_normalise, compute_attention_rollout
    __all__ += ["add_identity_and_normalise", "compute_attention_rollout"]
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.rollout":
        raise
try:
    from coursekit.answers.trust import (area_under_curve, average_ranks, cascading_randomization,
                                         replacement_curve, spearman_rank_correlation)
    __all__ += ["area_under_curve", "average_ranks", "cascading_randomization", "replacement_curve",
                "spearman_rank_correlation"]
except ModuleNotFoundError as missing:
    if missing.name != "coursekit.answers.trust":
        raise
