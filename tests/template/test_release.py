"""The release's source.yaml (deploy/make-source): template.yaml with only the code locations replaced, and
deployable in several Regions of one account from the per-Region artefact buckets."""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.machinery
import importlib.util
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile

import pytest

from cfn_render import ROOT, load, render

VERSION = "9.8.7"


def make_source_module():
    path = os.path.join(ROOT, "deploy", "make-source")
    loader = importlib.machinery.SourceFileLoader("make_source", path)
    spec = importlib.util.spec_from_loader("make_source", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


MAKE_SOURCE = make_source_module()


def template_text() -> str:
    with open(os.path.join(ROOT, "template.yaml"), encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def source_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("release") / "source.yaml"
    path.write_text(MAKE_SOURCE.make_source(template_text(), VERSION), encoding="utf-8")
    return str(path)


ADDED_PARAMETERS = {"ArtifactBucketPrefix", "MetricFiltersObjectKey"}
ADDED_RULES = {"MetricFiltersFileNeedsObject", "MetricFiltersObjectNeedsFile"}


def without_code(template: dict) -> dict:
    """The template with the two code locations and the cfn-lint packaging suppression taken out."""
    template = copy.deepcopy(template)
    resources = template["Resources"]
    resources["Function"]["Properties"].pop("Code")
    resources["MetricFiltersLayer"]["Properties"].pop("Content")
    for resource in resources.values():
        metadata = resource.get("Metadata", {})
        metadata.pop("cfn-lint", None)
        if "Metadata" in resource and not metadata:
            del resource["Metadata"]
    template["Parameters"] = {k: v for k, v in template["Parameters"].items() if k not in ADDED_PARAMETERS}
    template["Rules"] = {k: v for k, v in template["Rules"].items() if k not in ADDED_RULES}
    template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"] = [
        g for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        if not set(g["Parameters"]) <= ADDED_PARAMETERS]
    return template


def test_source_is_the_template_with_only_the_code_locations_replaced(source_path):
    source = load(source_path)
    template = load("template.yaml")
    assert "Transform" not in source
    # Resources, parameters, conditions, rules, mappings, outputs: identical once the code is taken out.
    assert without_code(source) == without_code(template)
    code = source["Resources"]["Function"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
                    "S3Key": {"Fn::Sub": f"logrelay/{VERSION}/logrelay-{VERSION}-${{Architecture}}.zip"}}
    content = source["Resources"]["MetricFiltersLayer"]["Properties"]["Content"]
    assert content == {"S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
                       "S3Key": {"Ref": "MetricFiltersObjectKey"}}


PARAMETER_SETS = [
    {},
    {"Architecture": "x86_64", "AsyncRetryAttempts": "0", "FunctionName": "relay-b", "MetricsMode": "put"},
    {"MetricFiltersFile": "metric-filters.json", "LogGroupNames": "/ecs/a,/ecs/b"},
    {"AccountWideSubscription": "true", "IamRolePath": "/org/logrelay/",
     "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Boundary",
     "SubnetIds": "subnet-0123456789abcdef0", "SecurityGroupIds": "sg-0123456789abcdef0"},
]


@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_source_behaves_as_the_template_for_the_same_parameters(source_path, params):
    from_template = render("template.yaml", params)
    extra = {"ArtifactBucketPrefix": "org-logrelay"}
    if params.get("MetricFiltersFile"):
        extra["MetricFiltersObjectKey"] = "config/prod/metric-filters-1.zip"
    from_source = render(source_path, {**params, **extra})
    assert from_source.rules_failed == from_template.rules_failed == []
    assert from_source.conditions == {**from_template.conditions}
    assert set(from_source.resources) == set(from_template.resources)
    for name, resource in from_template.resources.items():
        got = copy.deepcopy(from_source.resources[name])
        want = copy.deepcopy(resource)
        for r in (got, want):
            r["Properties"].pop("Code", None)
            r["Properties"].pop("Content", None)
            r.pop("Metadata", None)
        assert got == want, name
    assert from_source.outputs == from_template.outputs
    code = from_source.resources["Function"]["Properties"]["Code"]
    arch = params.get("Architecture", "arm64")
    assert code == {"S3Bucket": "org-logrelay-us-east-1", "S3Key": f"logrelay/{VERSION}/logrelay-{VERSION}-{arch}.zip"}


def test_the_metric_filter_layer_and_its_object_go_together(source_path):
    assert "MetricFiltersFileNeedsObject" in render(
        source_path, {"ArtifactBucketPrefix": "org-logrelay", "MetricFiltersFile": "f.json"}).rules_failed
    assert "MetricFiltersObjectNeedsFile" in render(
        source_path, {"ArtifactBucketPrefix": "org-logrelay", "MetricFiltersObjectKey": "c/f-1.zip"}).rules_failed


@pytest.mark.parametrize("anchor", ["      Code: .\n", "      Content: config/\n", "\nRules:\n"])
def test_a_template_change_the_generator_does_not_understand_stops_the_release(anchor):
    changed = template_text().replace(anchor, anchor.replace(":", ": # moved\n  #"), 1)
    assert changed != template_text()
    with pytest.raises(MAKE_SOURCE.SourceError):
        MAKE_SOURCE.make_source(changed, VERSION)


def test_a_transform_stops_the_release():
    with pytest.raises(MAKE_SOURCE.SourceError, match="Transform"):
        MAKE_SOURCE.make_source("Transform: AWS::Serverless-2016-10-31\n" + template_text(), VERSION)


# --- Two Regions of one account, in moto's CloudFormation -----------------------------------------------


def moto_server_binary() -> str:
    venv = os.environ.get("LOGRELAY_VENV") or os.environ.get("VENV") or os.path.join(ROOT, ".venv")
    path = os.path.join(venv, "bin", "moto_server")
    if os.path.exists(path):
        return path
    path = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if os.path.exists(path):
        return path
    pytest.fail("no moto_server: set LOGRELAY_VENV to a venv with moto[server]")


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    """A moto server of our own on a free loopback port (its state is not shared with other tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    process = subprocess.Popen([moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"moto_server exited with {process.returncode}")
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not answer within 15 s")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def client(service, region, endpoint):
    import boto3
    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def bootstrap_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, b"#!/bin/sh\n")
    return buffer.getvalue()


REGIONS = ["us-east-1", "eu-west-1"]


def test_source_creates_in_two_regions_of_one_account_with_only_the_bucket_prefix(source_path, moto_endpoint):
    prefix = f"logrelay-artefacts-{uuid.uuid4().hex[:8]}"
    body = open(source_path, encoding="utf-8").read()
    stacks = {}
    for region in REGIONS:
        s3 = client("s3", region, moto_endpoint)
        bucket = f"{prefix}-{region}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_object(Bucket=bucket, Key=f"logrelay/{VERSION}/logrelay-{VERSION}-arm64.zip", Body=bootstrap_zip())
        cfn = client("cloudformation", region, moto_endpoint)
        cfn.create_stack(StackName="logrelay", TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "ArtifactBucketPrefix", "ParameterValue": prefix}])
        (stack,) = cfn.describe_stacks(StackName="logrelay")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        stacks[region] = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                          for r in cfn.list_stack_resources(StackName="logrelay")["StackResourceSummaries"]}
        # The function's code came from this Region's bucket (moto does not keep Architectures).
        function = client("lambda", region, moto_endpoint).get_function(FunctionName=stacks[region]["Function"])
        assert function["Configuration"]["CodeSha256"] == base64.b64encode(
            hashlib.sha256(bootstrap_zip()).digest()).decode()

    # Account-global names: dashboards, and IAM roles (none named by the template; generated names differ).
    east, west = (stacks[r] for r in REGIONS)
    assert east["Dashboard"] != west["Dashboard"]
    dashboards = {d["DashboardName"] for r in REGIONS
                  for d in client("cloudwatch", r, moto_endpoint).list_dashboards()["DashboardEntries"]}
    assert {f"logrelay-logrelay-{r}" for r in REGIONS} <= dashboards
    assert east["FunctionRole"] != west["FunctionRole"]
    iam = client("iam", "us-east-1", moto_endpoint)
    roles = [r for r in iam.list_roles(PathPrefix="/logrelay/")["Roles"]
             if r["RoleName"] in (east["FunctionRole"], west["FunctionRole"])]
    assert len(roles) == 2


def test_source_fails_in_a_region_without_its_artefact_bucket(source_path, moto_endpoint):
    cfn = client("cloudformation", "ap-southeast-2", moto_endpoint)
    body = open(source_path, encoding="utf-8").read()
    # moto creates resources inside CreateStack and answers Lambda's error instead of a failed stack; AWS
    # would report CREATE_FAILED. Either way the code is looked up in <prefix>-<Region> of the stack's Region.
    with pytest.raises(Exception, match="NoSuchBucket"):
        cfn.create_stack(StackName="logrelay", TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "ArtifactBucketPrefix", "ParameterValue": "no-such-prefix"}])


def test_publish_release_uploads_to_org_readable_buckets_once(tmp_path, moto_endpoint):
    """scripts/publish-release with the AWS CLI against moto: buckets, policy, keys, immutability."""
    import shutil
    import json as _json
    if not shutil.which("aws"):
        pytest.skip("no AWS CLI on PATH (scripts/publish-release needs it)")
    out = tmp_path / "out"
    out.mkdir()
    (out / "source.yaml").write_text(MAKE_SOURCE.make_source(template_text(), VERSION), encoding="utf-8")
    (out / "central.yaml").write_text("Resources: {}\n", encoding="utf-8")
    for arch in ("arm64", "x86_64"):
        (out / f"logrelay-{VERSION}-{arch}.zip").write_bytes(bootstrap_zip())
    subprocess.run("sha256sum -- * > SHA256SUMS", shell=True, cwd=out, check=True)
    prefix = f"logrelay-publish-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_PROFILE", None)
    command = [os.path.join(ROOT, "scripts", "publish-release"), str(out), prefix, "o-abcdef1234", *REGIONS]
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    for region in REGIONS:
        s3 = client("s3", region, moto_endpoint)
        bucket = f"{prefix}-{region}"
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        assert keys == {f"logrelay/{VERSION}/{f.name}" for f in out.iterdir()}
        policy = _json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        (read,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        assert read["Action"] == "s3:GetObject"
        assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # A published version is never overwritten.
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode != 0 and "never overwritten" in again.stderr, again.stderr
    # A tampered release is refused before anything is uploaded.
    (out / f"logrelay-{VERSION}-arm64.zip").write_bytes(b"not the zip that was summed")
    tampered = subprocess.run(command[:3] + ["o-abcdef1234", "ap-southeast-2"], env=env, capture_output=True,
                              text=True)
    assert tampered.returncode != 0 and "SHA256SUMS" in tampered.stderr


def test_central_with_the_hub_creates_in_moto_with_its_event_source_mapping(moto_endpoint):
    """The central stack with `HubEnabled=true` as far as moto's CloudFormation goes: the stream, the
    hub function from the release bucket of its Region, and the event source mapping on the stream
    with partial batch responses, bisection, the retry bounds and the failure queue. (moto does not
    model `AWS::Logs::Destination`, so `LogsDestinationEnabled=true` cannot be created here.)"""
    region = "us-east-1"
    prefix = f"logrelay-artefacts-{uuid.uuid4().hex[:8]}"
    client("s3", region, moto_endpoint).create_bucket(Bucket=f"{prefix}-{region}")
    client("s3", region, moto_endpoint).put_object(
        Bucket=f"{prefix}-{region}", Key=f"logrelay/{VERSION}/logrelay-{VERSION}-arm64.zip", Body=bootstrap_zip())
    cfn = client("cloudformation", region, moto_endpoint)
    body = open(os.path.join(ROOT, "deploy", "central.yaml"), encoding="utf-8").read()
    stream = f"central-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(StackName=stream, TemplateBody=body, Capabilities=["CAPABILITY_IAM"], Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in {
            "StreamName": stream, "SourceAccountIds": "111111111111", "HubEnabled": "true",
            "ArtifactBucketPrefix": prefix, "HubVersion": VERSION}.items()])
    (stack,) = cfn.describe_stacks(StackName=stream)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                 for r in cfn.list_stack_resources(StackName=stream)["StackResourceSummaries"]}
    lam = client("lambda", region, moto_endpoint)
    function = lam.get_function(FunctionName=resources["HubFunction"])["Configuration"]
    assert function["Environment"]["Variables"]["LOGRELAY_MODE"] == "hub"
    assert function["CodeSha256"] == base64.b64encode(hashlib.sha256(bootstrap_zip()).digest()).decode()
    (mapping,) = lam.list_event_source_mappings(FunctionName=resources["HubFunction"])["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(f":stream/{stream}")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert (mapping["MaximumRetryAttempts"], mapping["MaximumRecordAgeInSeconds"]) == (5, 21600)
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{stream}-hub-failures")
