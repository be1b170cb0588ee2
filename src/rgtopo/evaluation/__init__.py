"""Networks at work and judged: bundles, ``predict_chern``, test-set accuracy against the
baselines, the size study, the reference-label check, RG analysis and timing.
"""
