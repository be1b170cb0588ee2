"""Reproduction of Margalit, Lesser, Pereg-Barnea, Oreg, PRB 105, 205139 (2022).

The workflow itself is workflow/Snakefile (the Snakemake layout's entry point, also usable as
a module); this file lets `snakemake` run from the checkout's root.
"""


include: "workflow/Snakefile"


# An include keeps the including file's default target; the run's default is the workflow's `all`.
workflow.default_target = "all"
