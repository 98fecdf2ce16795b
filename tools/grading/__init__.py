"""The instructor's grading workflow over nbgrader: release, collect, sandboxed autograding, feedback.

nbgrader_config.py wires these modules into nbgrader, and the Makefile's
instructor targets call their command-line entry points.
"""
