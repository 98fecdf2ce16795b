"""`make bench`: what each explanation costs, against the model's own work and well-known libraries.

Run with `python -m tools.bench`; see tools/bench/__main__.py for the output.
"""
