"""Wiring checks of template.yaml (the source-account stack) that cfn-lint cannot make."""

from __future__ import annotations

import json
import os
import re
import warnings

import pytest

from cfn_render import ACCOUNT_ID, REGION, ROOT, Rendered, load, references, render, statements

TEMPLATE = "template.yaml"

# The variables the function reads and their defaults, as specified for the config layer. Used to check
# defaults always, and as the list of names only when src/config/env.rs does not name them yet (see below).
SPECIFIED_ENV = {
    "LOGRELAY_KINESIS_STREAM_ARN": "",
    "LOGRELAY_ASSUME_ROLE_ARN": "",
    "LOGRELAY_METRIC_NAMESPACE": "LogRelay",
    "LOGRELAY_FILTER_PATTERN": "ERROR",
    "LOGRELAY_METRIC_NAME": "ErrorCount",
    "LOGRELAY_METRICS": "emf",
    "LOGRELAY_FORWARD_FORMAT": "cwl",
    "LOGRELAY_FORWARD_PATTERN": "",
    "LOGRELAY_PARTITION_KEY": "stream",
    "LOGRELAY_CONFIG_FILE": "",
    "LOGRELAY_MAX_DECOMPRESSED_BYTES": "67108864",
    "LOGRELAY_KINESIS_MAX_RECORDS": "500",
    "LOGRELAY_KINESIS_MAX_BATCH_BYTES": "5242880",
    "LOGRELAY_KINESIS_MAX_RECORD_BYTES": "1048576",
}

STREAM_ARN = "arn:aws:kinesis:us-east-1:999988887777:stream/logrelay-central"
ROLE_ARN = "arn:aws:iam::999988887777:role/logrelay-writer"
KEY_ARN = "arn:aws:kms:us-east-1:999988887777:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

# Read by the function but deliberately never set by the template: the External ID is for a role in a third
# party's account (`replay --external-id`); in the function's environment it would be plain text
# (docs/security.md, "External ID").
NOT_SET_BY_TEMPLATE = {"LOGRELAY_EXTERNAL_ID"}


def env_names_read_by_function() -> tuple[set[str], bool]:
    """The LOGRELAY_* names src/config/env.rs reads, and whether they came from there (False = fallback to
    SPECIFIED_ENV because the file is missing or names none yet)."""
    path = os.path.join(ROOT, "src", "config", "env.rs")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            names = set(re.findall(r'"(LOGRELAY_[A-Z0-9_]+)"', f.read()))
        if names:
            return names, True
    return set(SPECIFIED_ENV), False


@pytest.fixture(scope="module")
def template():
    return load(TEMPLATE)


@pytest.fixture(scope="module")
def function(template):
    return template["Resources"]["Function"]


def role_statements(rendered: Rendered) -> list[dict]:
    role = rendered.resources["FunctionRole"]["Properties"]
    found = []
    for policy in role["Policies"]:
        found.extend(statements(policy["PolicyDocument"]))
    return found


def statement(rendered: Rendered, sid: str) -> dict | None:
    matches = [s for s in role_statements(rendered) if s.get("Sid") == sid]
    assert len(matches) <= 1
    return matches[0] if matches else None


# --- The function ----------------------------------------------------------------------------------


def test_function_is_a_rust_custom_runtime_built_by_cargo_lambda(template, function):
    props = function["Properties"]
    # Plain CloudFormation (no SAM transform: StackSets with service-managed permissions cannot run it);
    # `sam build` still builds it from the Metadata.
    assert function["Type"] == "AWS::Lambda::Function"
    assert "Transform" not in template
    assert props["Code"] == "."
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert function["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert function["Metadata"]["BuildProperties"]["Binary"] == "logrelay"
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    architecture = template["Parameters"]["Architecture"]
    assert architecture["Default"] == "arm64"
    assert sorted(architecture["AllowedValues"]) == ["arm64", "x86_64"]
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    assert str(template["Parameters"]["MemorySize"]["Default"]) == "128"
    assert props["Timeout"] == {"Ref": "Timeout"}


def test_function_logs_to_its_own_log_group_with_retention(template, function):
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    log_group = template["Resources"]["FunctionLogGroup"]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    rendered = render(TEMPLATE, {"FunctionName": "relay-7"})
    # Lambda's default group name: AWS_LAMBDA_LOG_GROUP_NAME names this group whichever way it is derived.
    assert rendered.ref("FunctionLogGroup") == "/aws/lambda/relay-7"
    assert rendered.resources["Function"]["Properties"]["FunctionName"] == "relay-7"


def test_every_variable_the_function_reads_comes_from_a_parameter_or_resource(template, function):
    names, from_source = env_names_read_by_function()
    if not from_source:
        warnings.warn("FALLBACK: src/config/env.rs names no LOGRELAY_* variable yet; checked the specified list")
    variables = function["Properties"]["Environment"]["Variables"]
    declared = set(template["Parameters"]) | set(template["Resources"])
    assert not NOT_SET_BY_TEMPLATE & set(variables), "the External ID must not be in the environment"
    # Set by the central stack's hub, not here: the source function runs in the default mode (source).
    assert "LOGRELAY_MODE" not in variables
    hub = render("deploy/central.yaml", {"SourceAccountIds": "111111111111", "HubEnabled": "true",
                                         "ArtifactBucketPrefix": "releases", "HubVersion": "1.0.0"})
    assert hub.resources["HubFunction"]["Properties"]["Environment"]["Variables"]["LOGRELAY_MODE"] == "hub"
    for name in sorted(names - NOT_SET_BY_TEMPLATE - {"LOGRELAY_MODE"}):
        assert name in variables, f"{name} is read by the function but not set by the template"
        value = variables[name]
        assert isinstance(value, dict) and len(value) == 1, f"{name} is a literal: {value!r}"
        (function_name, _), = value.items()
        assert function_name in ("Ref", "Fn::GetAtt", "Fn::If"), f"{name} is set by {function_name}"
        assert references(value) & declared, f"{name} refers to no parameter or resource"
    unknown = {n for n in variables if n.startswith("LOGRELAY_")} - names
    assert not unknown, f"the template sets variables the function does not read: {sorted(unknown)}"
    assert "RUST_LOG" in variables


def test_environment_defaults_are_the_functions_defaults():
    env = render(TEMPLATE).resources["Function"]["Properties"]["Environment"]["Variables"]
    for name, default in SPECIFIED_ENV.items():
        assert str(env[name]) == default, f"{name}: template default {env[name]!r}, function default {default!r}"
    assert env["RUST_LOG"] == "info"


@pytest.mark.parametrize("level, application", [("trace", "TRACE"), ("debug", "DEBUG"), ("info", "INFO"),
                                                ("warn", "INFO"), ("error", "INFO")])
def test_log_level_sets_lambdas_application_log_level_and_rust_log(level, application):
    props = render(TEMPLATE, {"LogLevel": level}).resources["Function"]["Properties"]
    logging = props["LoggingConfig"]
    # Lambda filters application logs by level only with the JSON format (INFO when no level is set).
    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == application
    assert props["Environment"]["Variables"]["RUST_LOG"] == level
    # EMF lines have no "level": Lambda takes them as INFO, so its filter must never be stricter than INFO.
    assert application in ("TRACE", "DEBUG", "INFO")


def test_log_level_is_one_lambda_understands(template):
    assert sorted(template["Parameters"]["LogLevel"]["AllowedValues"]) == sorted(template["Mappings"]["LogLevels"])
    with pytest.raises(ValueError):
        render(TEMPLATE, {"LogLevel": "logrelay=debug"})


def test_reserved_concurrency_is_optional_and_never_zero():
    assert "ReservedConcurrentExecutions" not in render(TEMPLATE).resources["Function"]["Properties"]
    props = render(TEMPLATE, {"ReservedConcurrency": "25"}).resources["Function"]["Properties"]
    assert props["ReservedConcurrentExecutions"] == "25"
    # Zero would send every asynchronous event straight to the failure queue, without retries.
    for bad in ["0", "-1", "ten"]:
        with pytest.raises(ValueError):
            render(TEMPLATE, {"ReservedConcurrency": bad})


def test_the_dashboard_shows_metrics_by_log_group_throughput_failures_and_the_queue():
    rendered = render(TEMPLATE, {"FunctionName": "relay", "MetricNamespace": "Shop"})
    body = json.loads(rendered.resources["Dashboard"]["Properties"]["DashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    expressions = [m[0]["expression"] for m in metrics if isinstance(m[0], dict)]
    assert "SEARCH('{\"Shop\",LogGroup}', 'Sum', 300)" in expressions
    shown = {(m[0], m[1]) for m in metrics if isinstance(m[0], str)}
    for name in ("Events", "Records", "ForwardFailures", "PayloadFailures", "MetricsPublishFailures"):
        assert ("LogRelay/Function", name) in shown, name
    for name in ("Errors", "Throttles", "Duration", "Invocations", "AsyncEventAge", "AsyncEventsReceived",
                 "AsyncEventsDropped", "DestinationDeliveryFailures"):
        assert ("AWS/Lambda", name) in shown, name
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in shown
    for m in metrics:
        if isinstance(m[0], str) and m[0] in ("AWS/Lambda", "LogRelay/Function"):
            assert m[2:4] == ["FunctionName", "relay"], m
        if isinstance(m[0], str) and m[0] == "AWS/SQS":
            assert m[2:4] == ["QueueName", "<FailureQueue.QueueName>"], m
    assert rendered.outputs["DashboardName"] == "<Ref Dashboard>"
    # Dashboards are global per account: the Region in the name lets the stack live in every Region.
    assert rendered.resources["Dashboard"]["Properties"]["DashboardName"] == f"relay-logrelay-{REGION}"
    # logrelay's own counters are shown under the names the function writes in its EMF lines.
    source = ""
    for folder, _, files in os.walk(os.path.join(ROOT, "src")):
        for name in files:
            if name.endswith(".rs"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    source += f.read()
    assert '"LogRelay/Function"' in source
    for namespace, name in shown:
        if namespace == "LogRelay/Function":
            assert f'{{"Name": "{name}", "Unit": "Count"}}' in source, name


def test_no_external_id_parameter(template):
    # The central role's trust binds the caller by organization, OU, account and role path instead.
    assert not [p for p in template["Parameters"] if "external" in p.lower()]


def test_every_parameter_is_used(template):
    used = references(template["Resources"]) | references(template.get("Conditions", {}))
    used |= references(template.get("Outputs", {}))
    unused = set(template["Parameters"]) - used
    assert not unused, f"parameters that change nothing: {sorted(unused)}"


# --- Least privilege -------------------------------------------------------------------------------

FORWARDING_SETUPS = [
    {},
    {"KinesisStreamArn": STREAM_ARN, "StreamKmsKeyArn": KEY_ARN},
    {"KinesisStreamArn": STREAM_ARN, "AssumeRoleArn": ROLE_ARN},
    {"KinesisStreamArn": STREAM_ARN, "StreamKmsKeyArn": KEY_ARN, "MetricsMode": "emf"},
    {"MetricsMode": "off", "AdditionalMetricNamespaces": "Shop"},
    {"MetricsMode": "put", "AdditionalMetricNamespaces": "Shop"},
]


@pytest.mark.parametrize("params", FORWARDING_SETUPS)
def test_no_wildcard_actions_or_resources_except_put_metric_data(params):
    rendered = render(TEMPLATE, params)
    assert rendered.rules_failed == []
    for s in role_statements(rendered):
        assert s["Effect"] == "Allow"
        for action in s["Action"]:
            assert "*" not in action, f"wildcard action {action}"
        if s["Action"] == ["cloudwatch:PutMetricData"]:
            continue
        for resource in s["Resource"]:
            assert "*" not in resource, f"{s['Sid']}: wildcard resource {resource}"


def test_kinesis_and_sts_only_when_given_and_only_on_that_arn():
    nothing = render(TEMPLATE)
    actions = {a for s in role_statements(nothing) for a in s["Action"]}
    assert not {a for a in actions if a.startswith(("kinesis:", "sts:", "kms:"))}

    via_policy = render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN})
    put = statement(via_policy, "PutRecords")
    assert put["Action"] == ["kinesis:PutRecords"] and put["Resource"] == [STREAM_ARN]
    assert statement(via_policy, "AssumeCentralRole") is None

    via_role = render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN, "AssumeRoleArn": ROLE_ARN})
    assume = statement(via_role, "AssumeCentralRole")
    assert assume["Action"] == ["sts:AssumeRole"] and assume["Resource"] == [ROLE_ARN]

    with_key = render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN, "StreamKmsKeyArn": KEY_ARN})
    key = statement(with_key, "StreamKey")
    assert key["Action"] == ["kms:GenerateDataKey"] and key["Resource"] == [KEY_ARN]
    assert key["Condition"] == {"StringEquals": {
        "kms:ViaService": "kinesis.us-east-1.amazonaws.com",
        "kms:EncryptionContext:aws:kinesis:arn": STREAM_ARN,
    }}
    # With an assumed role the central role holds the key permission, not the function.
    assert statement(render(TEMPLATE, {
        "KinesisStreamArn": STREAM_ARN, "AssumeRoleArn": ROLE_ARN,
        "StreamKmsKeyArn": KEY_ARN}), "StreamKey") is None


def test_the_key_condition_names_the_streams_region():
    eu_stream = "arn:aws:kinesis:eu-west-1:999988887777:stream/logrelay-central"
    eu_key = "arn:aws:kms:eu-west-1:999988887777:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    key = statement(render(TEMPLATE, {"KinesisStreamArn": eu_stream, "StreamKmsKeyArn": eu_key}), "StreamKey")
    assert key["Condition"]["StringEquals"]["kms:ViaService"] == "kinesis.eu-west-1.amazonaws.com"


def test_writing_with_the_functions_own_role_needs_the_streams_key():
    # The central stream is encrypted with a customer managed key: its producers need kms:GenerateDataKey.
    assert "OwnRoleNeedsStreamKey" in render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN}).rules_failed
    assert render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN, "StreamKmsKeyArn": KEY_ARN}).rules_failed == []
    assert "KeyOnlyWithOwnRole" in render(TEMPLATE, {
        "KinesisStreamArn": STREAM_ARN, "AssumeRoleArn": ROLE_ARN,
        "StreamKmsKeyArn": KEY_ARN}).rules_failed
    assert "KeyOnlyWithOwnRole" in render(TEMPLATE, {"StreamKmsKeyArn": KEY_ARN}).rules_failed


def test_the_role_has_the_path_the_central_stack_admits():
    role = render(TEMPLATE).resources["FunctionRole"]["Properties"]
    assert role["Path"] == "/logrelay/"
    assert "RoleName" not in role  # generated: two stacks in one account never clash
    assert "PermissionsBoundary" not in role and "ManagedPolicyArns" not in role
    assert render(TEMPLATE, {"IamRolePath": "/platform/logrelay/"}).resources["FunctionRole"]["Properties"][
        "Path"] == "/platform/logrelay/"
    for bad in ["logrelay", "/logrelay", "/a b/"]:
        with pytest.raises(ValueError):
            render(TEMPLATE, {"IamRolePath": bad})


def test_permissions_boundary_when_given():
    boundary = "arn:aws:iam::111122223333:policy/org/DeveloperBoundary"
    role = render(TEMPLATE, {"PermissionsBoundaryArn": boundary}).resources["FunctionRole"]["Properties"]
    assert role["PermissionsBoundary"] == boundary
    with pytest.raises(ValueError):
        render(TEMPLATE, {"PermissionsBoundaryArn": "DeveloperBoundary"})


def test_vpc_only_with_subnets_and_security_groups():
    assert "VpcConfig" not in render(TEMPLATE).resources["Function"]["Properties"]
    rendered = render(TEMPLATE, {"SubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
                                 "SecurityGroupIds": "sg-0123456789abcdef0"})
    assert rendered.rules_failed == []
    assert rendered.resources["Function"]["Properties"]["VpcConfig"] == {
        "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    # Lambda creates the network interfaces with the execution role.
    assert rendered.resources["FunctionRole"]["Properties"]["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"]
    assert "VpcNeedsSubnetsAndGroups" in render(TEMPLATE, {"SubnetIds": "subnet-0123456789abcdef0"}).rules_failed
    assert "VpcNeedsSubnetsAndGroups" in render(TEMPLATE, {"SecurityGroupIds": "sg-0123456789abcdef0"}).rules_failed


def test_forwarding_parameters_must_be_consistent():
    assert render(TEMPLATE, {"KinesisStreamArn": STREAM_ARN, "AssumeRoleArn": ROLE_ARN}).rules_failed == []
    assert "AssumeRoleNeedsStream" in render(TEMPLATE, {
        "AssumeRoleArn": ROLE_ARN}).rules_failed
    with pytest.raises(ValueError):
        render(TEMPLATE, {"KinesisStreamArn": "arn:aws:kinesis:us-east-1:999988887777:stream/*"})


@pytest.mark.parametrize(
    "extra, expected",
    [("", ["LogRelay"]), ("Shop", ["LogRelay", "Shop"]), ("Shop,Web/Edge", ["LogRelay", "Shop", "Web/Edge"])],
)
def test_put_metric_data_is_limited_to_the_namespaces(extra, expected):
    rendered = render(TEMPLATE, {"MetricsMode": "put", "AdditionalMetricNamespaces": extra})
    s = statement(rendered, "PutMetricData")
    assert s["Action"] == ["cloudwatch:PutMetricData"]
    assert s["Resource"] == ["*"]  # PutMetricData has no resource type
    assert s["Condition"] == {"StringEquals": {"cloudwatch:namespace": expected}}


def test_namespaces_are_checked():
    for bad in ["Shop, Web", "Shop;Web", "a" * 256]:
        with pytest.raises(ValueError):
            render(TEMPLATE, {"AdditionalMetricNamespaces": bad})
    with pytest.raises(ValueError):
        render(TEMPLATE, {"MetricNamespace": ""})


@pytest.mark.parametrize("mode", ["emf", "off"])
def test_no_put_metric_data_unless_metrics_are_put(mode):
    assert statement(render(TEMPLATE, {"MetricsMode": mode}), "PutMetricData") is None


def test_own_logs_only():
    s = statement(render(TEMPLATE), "OwnLogs")
    assert sorted(s["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert s["Resource"] == ["<FunctionLogGroup.Arn>"]


def test_one_role_the_templates_own():
    resources = load(TEMPLATE)["Resources"]
    assert resources["Function"]["Properties"]["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    assert [n for n, r in resources.items() if r["Type"] == "AWS::IAM::Role"] == ["FunctionRole"]


# --- No lost events --------------------------------------------------------------------------------


def test_the_failure_queue_takes_1_mib_messages_and_survives_the_stack_but_not_a_failed_first_create(template):
    queue = template["Resources"]["FailureQueue"]
    # A failure record holds the whole payload; 1 MiB is SQS's largest message.
    assert queue["Properties"]["MaximumMessageSize"] == 1048576
    assert queue["DeletionPolicy"] == "RetainExceptOnCreate"
    assert queue["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("metric, alarm", [("DestinationDeliveryFailures", "DestinationDeliveryFailuresAlarm"),
                                           ("AsyncEventsDropped", "AsyncEventsDroppedAlarm")])
def test_alarms_on_lost_async_events(metric, alarm):
    rendered = render(TEMPLATE, {"AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:ops", "FunctionName": "relay"})
    props = rendered.resources[alarm]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/Lambda", metric)
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": "<Ref Function>"}]
    assert props["Statistic"] == "Sum"
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 1
    assert props["AlarmActions"] == ["arn:aws:sns:us-east-1:111122223333:ops"]
    assert "AlarmActions" not in render(TEMPLATE).resources[alarm]["Properties"]


def test_failed_events_go_to_an_encrypted_queue_kept_14_days(template, function):
    config = template["Resources"]["FunctionEventInvokeConfig"]["Properties"]
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
    queue = template["Resources"]["FailureQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    props = queue["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    send = statement(render(TEMPLATE), "FailureQueue")
    assert send["Action"] == ["sqs:SendMessage"] and send["Resource"] == ["<FailureQueue.Arn>"]


def test_the_event_invoke_config_honours_the_retry_parameter():
    resources = render(TEMPLATE, {"AsyncRetryAttempts": "1"}).resources
    configs = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert len(configs) == 1
    props = configs[0]["Properties"]
    assert props["FunctionName"] == "<Ref Function>"
    assert props["Qualifier"] == "$LATEST"
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == "<FailureQueue.Arn>"
    assert props["MaximumRetryAttempts"] == "1"  # the parameter, never a literal
    assert props["MaximumEventAgeInSeconds"] == 21600


def test_alarm_on_failure_queue_depth():
    rendered = render(TEMPLATE, {"AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:ops"})
    alarm = rendered.resources["FailureQueueAlarm"]["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": "<FailureQueue.QueueName>"}]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:111122223333:ops"]
    assert "AlarmActions" not in render(TEMPLATE).resources["FailureQueueAlarm"]["Properties"]


def test_error_count_alarm_only_with_a_threshold():
    assert "ErrorCountAlarm" not in render(TEMPLATE).resources
    rendered = render(TEMPLATE, {"ErrorCountAlarmThreshold": "5", "MetricName": "Errors5xx"})
    alarm = rendered.resources["ErrorCountAlarm"]["Properties"]
    assert alarm["Threshold"] == "5"
    (query,) = alarm["Metrics"]
    # Sums the metric over every LogGroup dimension value the function publishes.
    assert query["Expression"] == 'SELECT SUM("Errors5xx") FROM SCHEMA("LogRelay", LogGroup)'
    with pytest.raises(ValueError):
        render(TEMPLATE, {"ErrorCountAlarmThreshold": "five"})


# --- Subscriptions ---------------------------------------------------------------------------------


def subscriptions(rendered: Rendered) -> list[dict]:
    return [r for r in rendered.resources.values() if r["Type"] == "AWS::Logs::SubscriptionFilter"]


def test_no_subscription_by_default():
    rendered = render(TEMPLATE)
    assert subscriptions(rendered) == []
    assert "AccountSubscriptionPolicy" not in rendered.resources


@pytest.mark.parametrize("count", [1, 3, 10])
def test_one_subscription_filter_per_listed_log_group(count):
    groups = [f"/ecs/service-{i}" for i in range(count)]
    rendered = render(TEMPLATE, {"LogGroupNames": ",".join(groups)})
    subs = subscriptions(rendered)
    assert [s["Properties"]["LogGroupName"] for s in subs] == groups
    for s in subs:
        assert s["Properties"]["DestinationArn"] == "<Function.Arn>"
        assert s["DependsOn"] == "LogsInvokePermission"
    # Named after the stack (logrelay-test in these tests) and the slot: distinct, never the function's name.
    assert [s["Properties"]["FilterName"] for s in subs] == [f"logrelay-test-{i}" for i in range(1, count + 1)]


def test_subscriptions_emit_the_system_fields_asked_for_and_none_by_default():
    groups = "/ecs/a,/ecs/b"
    for s in subscriptions(render(TEMPLATE, {"LogGroupNames": groups})):
        assert "EmitSystemFields" not in s["Properties"]
    asked = render(TEMPLATE, {"LogGroupNames": groups, "SubscriptionSystemFields": "@aws.account,@aws.region"})
    subs = subscriptions(asked)
    assert len(subs) == 2
    for s in subs:
        assert s["Properties"]["EmitSystemFields"] == ["@aws.account", "@aws.region"]


def test_a_log_group_moved_to_another_slot_gets_a_filter_of_another_name():
    before = {s["Properties"]["LogGroupName"]: s["Properties"]["FilterName"]
              for s in subscriptions(render(TEMPLATE, {"LogGroupNames": "/ecs/a,/ecs/b,/ecs/c"}))}
    after = {s["Properties"]["LogGroupName"]: s["Properties"]["FilterName"]
             for s in subscriptions(render(TEMPLATE, {"LogGroupNames": "/ecs/b,/ecs/c"}))}
    # /ecs/b moves from slot 2 to slot 1: its new filter is created before the old one is deleted, and the
    # two names differ, so the creation does not fail with "already exists".
    assert before["/ecs/b"] != after["/ecs/b"] and before["/ecs/c"] != after["/ecs/c"]


def test_the_deploy_guides_manual_subscription_uses_a_name_no_stack_slot_has():
    with open(os.path.join(ROOT, "docs", "deploy.md"), encoding="utf-8") as f:
        readme = f.read()
    names = re.findall(r"put-subscription-filter [^\n]*--filter-name (\S+)", readme)
    assert names, "docs/deploy.md shows no manual put-subscription-filter"
    for name in names:
        assert not re.fullmatch(r".*-\d+", name), name


def test_slots_match_the_allowed_number_of_log_groups(template):
    slots = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Logs::SubscriptionFilter"]
    pattern = template["Parameters"]["LogGroupNames"]["AllowedPattern"]
    names = [f"/ecs/s{i}" for i in range(len(slots) + 1)]
    assert re.fullmatch(pattern, ",".join(names[:-1]))
    assert not re.fullmatch(pattern, ",".join(names)), "more names allowed than there are slots"
    for bad in ["/ecs/a, /ecs/b", "/ecs/a,,/ecs/b", "/ecs/a,", "my group"]:
        assert not re.fullmatch(pattern, bad), bad


def test_account_wide_policy_excludes_the_functions_own_log_group():
    pattern = '{ $.level = "ERROR" || $.msg = "a\\\\b" }'
    rendered = render(TEMPLATE, {
        "AccountWideSubscription": "true",
        "FunctionName": "relay",
        "SubscriptionFilterPattern": pattern,
    })
    policy = rendered.resources["AccountSubscriptionPolicy"]
    assert policy["Type"] == "AWS::Logs::AccountPolicy"
    props = policy["Properties"]
    assert props["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    assert props["SelectionCriteria"] == 'LogGroupName NOT IN ["/aws/lambda/relay"]'
    document = json.loads(props["PolicyDocument"])
    assert document == {"DestinationArn": "<Function.Arn>", "FilterPattern": pattern}
    assert policy["DependsOn"] == "LogsInvokePermission"


def test_account_wide_policy_with_more_exclusions():
    rendered = render(TEMPLATE, {
        "AccountWideSubscription": "true",
        "AccountPolicyExcludedLogGroups": "/aws/lambda/noisy,/ecs/debug",
    })
    criteria = rendered.resources["AccountSubscriptionPolicy"]["Properties"]["SelectionCriteria"]
    assert criteria == 'LogGroupName NOT IN ["/aws/lambda/logrelay", "/aws/lambda/noisy", "/ecs/debug"]'


def test_account_wide_and_listed_groups_exclude_each_other():
    rendered = render(TEMPLATE, {"AccountWideSubscription": "true", "LogGroupNames": "/ecs/a"})
    assert "OneSubscriptionMode" in rendered.rules_failed


def test_logs_may_invoke_only_from_this_account():
    permission = render(TEMPLATE).resources["LogsInvokePermission"]["Properties"]
    assert permission["Principal"] == "logs.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceAccount"] == ACCOUNT_ID
    assert permission["SourceArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:*"
    assert permission["FunctionName"] == "<Function.Arn>"


# --- Many filters: the config layer ----------------------------------------------------------------


def test_metric_filter_file_ships_as_a_layer_only_when_asked():
    plain = render(TEMPLATE)
    assert "MetricFiltersLayer" not in plain.resources
    assert "Layers" not in plain.resources["Function"]["Properties"]
    assert plain.resources["Function"]["Properties"]["Environment"]["Variables"]["LOGRELAY_CONFIG_FILE"] == ""

    rendered = render(TEMPLATE, {"MetricFiltersFile": "metric-filters.json"})
    layer = rendered.resources["MetricFiltersLayer"]
    assert layer["Type"] == "AWS::Lambda::LayerVersion"
    content = layer["Properties"]["Content"]
    assert os.path.isfile(os.path.join(ROOT, content, "metric-filters.json"))
    props = rendered.resources["Function"]["Properties"]
    assert props["Layers"] == ["<Ref MetricFiltersLayer>"]
    # Layer contents are extracted under /opt.
    assert props["Environment"]["Variables"]["LOGRELAY_CONFIG_FILE"] == "/opt/metric-filters.json"
    with pytest.raises(ValueError):
        render(TEMPLATE, {"MetricFiltersFile": "../etc/passwd"})


def test_the_layer_is_named_after_the_function():
    layer = render(TEMPLATE, {"MetricFiltersFile": "metric-filters.json", "FunctionName": "relay-2"}).resources[
        "MetricFiltersLayer"]["Properties"]
    assert layer["LayerName"] == "relay-2-metric-filters"


# --- Outputs ---------------------------------------------------------------------------------------


def test_outputs():
    outputs = render(TEMPLATE).outputs
    assert outputs["FunctionArn"] == "<Function.Arn>"
    assert outputs["FailureQueueUrl"] == "<Ref FailureQueue>"
    assert outputs["FunctionRoleArn"] == "<FunctionRole.Arn>"
    assert outputs["FunctionLogGroupName"] == "/aws/lambda/logrelay"
    assert "MetricFiltersLayerArn" not in outputs
