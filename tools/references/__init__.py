"""Independent reference implementations of what the course's exercises compute.

Written from the papers' definitions without the solutions' code, in plain torch or NumPy
(cam, attention, rollout): the tests compare the solutions with them, and the benchmark
times against them. libraries.py adds captum's and pytorch-grad-cam's maps (development
packages only). None of this ships to students.
"""
