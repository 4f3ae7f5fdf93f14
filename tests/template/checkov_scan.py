"""Scans the templates as deployed with checkov; any failed check that the template does not suppress fails.

    python tests/template/checkov_scan.py CHECKOV RELEASE_DIR

CHECKOV is the checkov executable (its own venv: scripts/check-templates), RELEASE_DIR holds the release
templates (`scripts/release --templates-only`). checkov evaluates a template's conditions with the
parameters' defaults and leaves out resources whose condition is false, so each template is scanned in
several variants whose defaults switch every optional resource and property on. An accepted finding is
suppressed in the template itself, on the resource (`Metadata: checkov: skip:` with the reason), so it
travels with the template into every variant and into the release.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from cfn_render import load, with_defaults

STREAM = "arn:aws:kinesis:us-east-1:999988887777:stream/logrelay-central"
KEY = "arn:aws:kms:us-east-1:999988887777:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ROLE = "arn:aws:iam::999988887777:role/logrelay-writer"
TOPIC = "arn:aws:sns:us-east-1:111122223333:ops"

SOURCE_VARIANTS = {
    "defaults": {},
    "all-options": {
        "KinesisStreamArn": STREAM, "StreamKmsKeyArn": KEY, "MetricsMode": "put",
        "AdditionalMetricNamespaces": "Shop", "MetricFiltersFile": "metric-filters.json",
        "LogGroupNames": "/ecs/a,/ecs/b", "AlarmTopicArn": TOPIC, "ErrorCountAlarmThreshold": "5",
        "ReservedConcurrency": "10", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Boundary",
        "SubnetIds": "subnet-0123456789abcdef0", "SecurityGroupIds": "sg-0123456789abcdef0",
    },
    "account-wide-assumed-role": {
        "KinesisStreamArn": STREAM, "AssumeRoleArn": ROLE, "AccountWideSubscription": "true",
        "AccountPolicyExcludedLogGroups": "/ecs/noisy",
    },
}
RELEASE_EXTRA = {"ArtifactBucketPrefix": "org-logrelay"}
RELEASE_LAYER = {"MetricFiltersObjectKey": "config/metric-filters-1.zip"}

CENTRAL_VARIANTS = {
    "accounts": {"SourceAccountIds": "111111111111,222222222222"},
    "all-options": {
        "SourceAccountIds": "111111111111", "OrganizationId": "o-abcdef1234",
        "OrganizationPaths": "o-abcdef1234/r-ab12/ou-ab12-11111111/*", "CreateWriterRole": "true",
        "ArchiveToS3": "true", "ArchiveAccessLogBucket": "org-access-logs", "ArchiveObjectLockMode": "GOVERNANCE",
    },
    "own-key-messages": {"OrganizationId": "o-abcdef1234", "KmsKeyArn": KEY, "ArchiveToS3": "true",
                         "ArchiveFormat": "messages"},
}


def variants(release_dir: str) -> dict[str, dict]:
    out = {}
    for name, params in SOURCE_VARIANTS.items():
        out[f"template-{name}"] = with_defaults(load("template.yaml"), params)
        release = {**params, **RELEASE_EXTRA, **(RELEASE_LAYER if "MetricFiltersFile" in params else {})}
        out[f"source-{name}"] = with_defaults(load(os.path.join(release_dir, "source.yaml")), release)
    for name, params in CENTRAL_VARIANTS.items():
        out[f"central-{name}"] = with_defaults(load(os.path.join(release_dir, "central.yaml")), params)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    checkov, release_dir = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as scan_dir:
        for name, template in variants(release_dir).items():
            with open(os.path.join(scan_dir, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(template, f, indent=1)
        # --skip-download: no call to the vendor's platform (offline); one run over every variant.
        result = subprocess.run(
            [checkov, "--skip-download", "--framework", "cloudformation", "-o", "json", "-d", scan_dir],
            capture_output=True, text=True, env={**os.environ, "LOG_LEVEL": "ERROR"})
    if result.returncode not in (0, 1) or not result.stdout.strip():
        print(result.stdout + result.stderr, file=sys.stderr)
        print("checkov_scan: checkov did not run", file=sys.stderr)
        return 1
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed, passed, skipped = [], 0, {}
    for report in reports:
        if report.get("check_type") != "cloudformation":
            continue
        results = report["results"]
        passed += len(results.get("passed_checks", []))
        failed += results.get("failed_checks", [])
        for check in results.get("skipped_checks", []):
            skipped.setdefault((check["check_id"], check["resource"]), check.get("check_result", {}).get(
                "suppress_comment", ""))
    scanned = len(variants(release_dir))
    print(f"checkov: {scanned} template variants, {passed} passed, {len(failed)} failed, "
          f"{len(skipped)} suppressed (resource, check) pairs")
    for (check_id, resource), reason in sorted(skipped.items()):
        print(f"  suppressed {check_id} on {resource}: {reason}")
    for check in failed:
        print(f"  FAILED {check['check_id']} {check['check_name']}: {check['resource']} "
              f"in {os.path.basename(check['file_path'])}", file=sys.stderr)
    if failed:
        print("checkov_scan: fix the template, or suppress the finding on the resource with "
              "`Metadata: checkov: skip: [{id: CKV_..., comment: why}]`", file=sys.stderr)
        return 1
    if passed == 0:
        print("checkov_scan: no check ran", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
