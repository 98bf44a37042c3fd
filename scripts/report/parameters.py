"""The parameters and software versions of a run, for the report.

Snakemake rule: ``report_parameters`` (``workflow/rules/report.smk``).
Outputs: ``results/report/parameters.yaml`` (the whole configuration after
validation, defaults filled in, keys sorted), ``results/report/software.tsv``
(package and version) and an HTML page of each for the report viewer.

Both are params of the rule, so the files are rewritten exactly when the
configuration or an installed version changes.
"""

from __future__ import annotations

import platform
from importlib import metadata

import yaml

from scripts import COMPUTING_LIBRARIES
from scripts.report import html as report_html
from scripts.imaging import write_text
from scripts.runtime.jobs import job_log

#: Distributions whose versions are recorded: the workflow engine, the
#: libraries that compute the outputs, and those that draw the report and
#: read the configuration (see requirements*.txt).
PACKAGES = ("snakemake", *COMPUTING_LIBRARIES, "matplotlib", "pyyaml", "jsonschema")


def software_versions(packages=PACKAGES):
    """{name: version} of Python and each installed distribution
    ("not installed" for a missing one)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def parameters_yaml(config):
    """The configuration as YAML text, keys sorted."""
    return yaml.safe_dump(
        config, sort_keys=True, allow_unicode=True, default_flow_style=False
    )


def software_tsv(versions):
    """Tab-separated ``package``, ``version``, one row per package."""
    lines = ["package\tversion"] + [f"{name}\t{version}" for name, version in versions.items()]
    return "\n".join(lines) + "\n"


def run(output, params, log):
    """Snakemake entry point: config and versions -> YAML, TSV and HTML."""
    with job_log(log[0], "report_parameters", "configuration") as note:
        text = parameters_yaml(params.config)
        write_text(output.yaml, text)
        write_text(
            output.yaml_html,
            report_html.page(
                "Parameters of this run (results/report/parameters.yaml)",
                report_html.paragraph(
                    "The configuration after validation, with every default "
                    "filled in (config/README.md explains each key); the same "
                    "as results/config.yaml, which snakemake --configfile takes."
                )
                + report_html.download_link("parameters.yaml", text, "text/yaml")
                + report_html.preformatted(text),
            ),
        )
        write_text(output.tsv, software_tsv(params.software))
        write_text(
            output.tsv_html,
            report_html.page(
                "Software versions (results/report/software.tsv)",
                report_html.download_link(
                    "software.tsv", software_tsv(params.software), "text/tab-separated-values"
                )
                + report_html.table(("package", "version"), list(params.software.items())),
            ),
        )
        note(f"{len(params.software)} package versions recorded")
