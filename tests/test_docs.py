"""The documentation cannot silently rot.

* Paths: in README.md and docs/*.md, every word inside backticks that looks like a repository
  path (it contains "/" or ends in .py, .md, .yaml, .smk or .sh) must exist, resolved from the
  repository root; a bare file name (no "/") must be the name of some tracked file. Every
  relative link target ``](target)`` must exist, resolved from the linking file's folder (the
  ``#anchor`` dropped). Ignored: URLs, outputs the workflow and the benchmarks create
  (``results/``, ``logs/``, ``benchmarks/results/fresh_cache/``),
  paths outside the checkout (``../``, ``/``, ``~``), templates and globs (``<``, ``*``, ``{``,
  ``$``, ``...``) and the examples in ``EXAMPLES``.
* Config keys: the keys ``config/README.md`` documents (first cell of each table under
  "## Keys", prefixed by the section heading; ``.x`` continues the previous key's parent; a
  section without a table documents the section itself) are exactly the schema's leaves.
* Results: the README's results table is the one in docs/results.md (the lines between
  ``<!-- results-table -->`` and ``<!-- /results-table -->`` are equal).
* Wording: no numbered work-log terms anywhere in the tracked files (see ``FORBIDDEN``).
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXTENSIONS = (".py", ".md", ".yaml", ".smk", ".sh")
GENERATED = ("results/", "logs/", "benchmarks/results/fresh_cache/",
             "benchmarks/results/agreement_cache/")
OUTSIDE = ("../", "/", "~")
TEMPLATE = ("<", "*", "{", "$", "...")
EXAMPLES = {"group/lat", "path/to/bundle", "select/cons_tres"}
WORD = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
MARKER = ("<!-- results-table -->", "<!-- /results-table -->")
# built from parts so that this file does not match itself
FORBIDDEN = "|".join(["sess" + "ion", "iss" + r"ue[ -]?[0-9]", "st" + "op [0-9]",
                      r"\bp[0-9]{1,2}_", "pro" + r"be [0-9]"])
# ordinary meanings: pytest's fixture scope, a new process group, an interpreter
ALLOWED = ('scope="sess' + 'ion"', "start_new_sess" + "ion", "Python sess" + "ion")


def tracked_names() -> set:
    """Names of the files in the checkout (git's list when there is one)."""
    if shutil.which("git") and (REPO / ".git").exists():
        files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True,
                               text=True).stdout.split()
        return {Path(f).name for f in files}
    return {p.name for p in REPO.rglob("*") if ".git" not in p.parts}


def path_words(text: str):
    """Words inside backticks that look like repository paths."""
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in span.split():
            word = word.strip("(),;:'\"")
            if "://" in word or any(t in word for t in TEMPLATE):
                continue
            if word.startswith(GENERATED + OUTSIDE) or word in EXAMPLES:
                continue
            if ("/" in word or word.endswith(EXTENSIONS)) and WORD.fullmatch(word):
                yield word


def link_targets(text: str):
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        yield target.split("#")[0]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_named_repository_path_exists(doc):
    text = doc.read_text()
    names = tracked_names()
    missing = []
    for word in path_words(text):
        exists = (REPO / word).exists() if "/" in word else word in names
        if not exists:
            missing.append(word)
    for target in link_targets(text):
        if not (doc.parent / target).exists():
            missing.append(target)
    assert not missing, f"{doc.name} names paths that do not exist: {sorted(set(missing))}"


def documented_keys() -> set:
    keys, prefix, in_keys, rows_seen = set(), None, False, True
    for line in (REPO / "config" / "README.md").read_text().splitlines():
        if line.startswith("## "):
            in_keys = line.strip() == "## Keys"
            continue
        if not in_keys:
            continue
        if line.startswith("### "):
            if prefix and not rows_seen:
                keys.add(prefix)
            names = re.findall(r"`([^`]+)`", line)
            prefix, rows_seen = (names[0] if names else ""), False
            continue
        if line.startswith("| `"):
            rows_seen = True
            last = ""
            for token in re.findall(r"`([^`]+)`", line.split("|")[1]):
                if token.startswith(".") and last:
                    token = last.rsplit(".", 1)[0] + token
                last = token
                keys.add(f"{prefix}.{token}" if prefix else token)
    if prefix and not rows_seen:
        keys.add(prefix)
    return keys


def schema_leaves(node: dict, prefix: str = "") -> set:
    out = set()
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        out |= schema_leaves(child, path + ".") if "properties" in child else {path}
    return out


def test_config_readme_documents_exactly_the_schema_keys():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    documented, leaves = documented_keys(), schema_leaves(schema)
    assert documented - leaves == set(), "documented in config/README.md, not in the schema"
    assert leaves - documented == set(), "in the schema, not documented in config/README.md"


def results_table(path: Path) -> list:
    text = path.read_text()
    start, end = text.index(MARKER[0]), text.index(MARKER[1])
    return [line for line in text[start:end].splitlines()[1:] if line.strip()]


def test_readme_results_table_is_the_one_in_docs_results():
    readme, results = results_table(REPO / "README.md"), results_table(REPO / "docs" / "results.md")
    assert len(readme) >= 3 and all(line.startswith("|") for line in readme)
    assert readme == results


def test_the_repository_speaks_only_of_the_project():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(["git", "grep", "-I", "-n", "-i", "-E", FORBIDDEN],
                           cwd=REPO, capture_output=True, text=True).stdout.splitlines()
    hits = [h for h in found if not any(a.lower() in h.lower() for a in ALLOWED)]
    assert hits == [], "\n".join(hits)
