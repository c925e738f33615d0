"""Write SAM's transform of a template, as CloudFormation would receive it, without AWS.

Run with the SAM CLI's own Python (.sam-venv): scripts/sam_transform.py TEMPLATE OUT [REGION]."""

from __future__ import annotations

import sys

from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse


class NoManagedPoliciesByName:
    """SAM looks managed policies up by name in IAM; the template uses ARNs or policy templates."""

    def load(self) -> dict:
        raise SystemExit("the template names a managed policy by name; use an ARN or a policy template")


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    region = sys.argv[3] if len(sys.argv) > 3 else "eu-west-1"
    with open(source) as f:
        template = yaml_parse(f.read())
    translated = SamTemplateValidator(template, NoManagedPoliciesByName(), region=region)
    with open(out, "w") as f:
        f.write(translated.get_translated_template_if_valid())


if __name__ == "__main__":
    main()
