"""Stage 6: every figure and the table, from result files only.

One generic rule per kind (`table` is `figure` with other outputs). Each figure's input files are spelled out by its
get_<figure>_inputs in common.smk (e.g. get_fig2_inputs: the base network and the
authors' realizations); its input names, parameter class and drawing are declared
once, in rgtopo.figures.registry. Re-make them alone with the figures profile:
    snakemake --workflow-profile profiles/figures figures
"""


rule figure:
    input:
        unpack(figure_inputs),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
    log:
        "logs/figures/{figure}.log",
    wildcard_constraints:
        figure="|".join(FIGURES + STUDY_FIGURES),
    conda:
        "../envs/rgtopo.yaml"
    threads: figure_threads
    params:
        inputs=figure_input_args,
        params=figure_params,
        caption=figure_caption,
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        steps=STEPS,
    shell:
        FIGURE_SHELL


use rule figure as table with:
    output:
        md="results/figures/{figure}.md",
        html=report(
            "results/figures/{figure}.html",
            caption="../report/figure.rst",
            category="Tables",
            labels={"table": "{figure} (view)"},
        ),
        csv=report(
            "results/figures/{figure}.csv",
            caption="../report/figure.rst",
            category="Tables",
            labels={"table": "{figure} (CSV)"},
        ),
    wildcard_constraints:
        figure="|".join(TABLES + STUDY_TABLES),


rule figures:
    input:
        expand(
            "results/figures/{figure}.{ext}", figure=FIGURES, ext=("png", "pdf", "csv")
        ),
        expand(
            "results/figures/{figure}.{ext}", figure=TABLES, ext=("md", "html", "csv")
        ),
