"""The workflow's own steps (``python -m rgtopo.workflow.steps``): one call per Snakemake rule,
apart from the user's command line (``rgtopo.cli``).
"""
