"""The answers of exercises that later notebooks build on, one module per assignment.

coursekit.explainers gathers them for the notebooks and the benchmark. A student's release
of an assignment holds only the modules of the assignments before it
(tools/grading/release.py), so the answers of the current exercises are not handed out.
"""
BY_ASSIGNMENT = {  # assignment -> the module here that holds its answers, in course order
    "01_cam": "cam",
    "02_gradcam": "gradcam",
    "03_vit_attention": "attention",
    "04_attention_rollout": "rollout",
    "05_trust": "trust",
}
