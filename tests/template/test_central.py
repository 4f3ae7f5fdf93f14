"""Wiring checks of deploy/central.yaml (the central-account stack) that cfn-lint cannot make."""

from __future__ import annotations

import fnmatch
import json

import pytest

from cfn_render import ACCOUNT_ID, REGION, load, render, statements

CENTRAL = "deploy/central.yaml"
ACCOUNTS = "111111111111,222222222222"
ORG = "o-abcdef1234"
OU_PATHS = "o-abcdef1234/r-ab12/ou-ab12-11111111/*,o-abcdef1234/r-ab12/ou-ab12-22222222/"
KEY_ARN = "arn:aws:kms:us-east-1:999988887777:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def policy(rendered):
    return statements(rendered.resources["StreamResourcePolicy"]["Properties"]["ResourcePolicy"])


def trust(rendered):
    return statements(rendered.resources["WriterRole"]["Properties"]["AssumeRolePolicyDocument"])


STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/logrelay-central"
# What a source stack's role looks like (template.yaml: FunctionRole with the logrelay path).
SOURCE_ROLE = "arn:aws:iam::111111111111:role/logrelay/logrelay-FunctionRole-AbCdEf123456"
OTHER_ROLES = ["arn:aws:iam::111111111111:role/admin", "arn:aws:iam::111111111111:role/ops/logrelay-x",
               "arn:aws:iam::111111111111:user/logrelay/someone"]


def key_policy(rendered):
    return statements(rendered.resources["StreamKey"]["Properties"]["KeyPolicy"])


def test_stream_is_on_demand_and_encrypted_with_a_customer_managed_key_of_the_stack_by_default():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    stream = rendered.resources["Stream"]
    assert stream["Type"] == "AWS::Kinesis::Stream"
    props = stream["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in props
    # Never the AWS managed key: other accounts cannot be allowed to use it.
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "<StreamKey.Arn>"}
    key = rendered.resources["StreamKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert rendered.outputs["StreamKeyArn"] == "<StreamKey.Arn>"


def test_a_key_brought_by_the_user_replaces_the_stacks_key():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "KmsKeyArn": KEY_ARN})
    assert rendered.resources["Stream"]["Properties"]["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": KEY_ARN}
    assert "StreamKey" not in rendered.resources
    assert rendered.outputs["StreamKeyArn"] == KEY_ARN


def test_the_key_policy_keeps_the_account_in_control():
    (root,) = [s for s in key_policy(render(CENTRAL, {"SourceAccountIds": ACCOUNTS})) if s["Sid"] == "ThisAccount"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert root["Action"] == ["kms:*"] and "Condition" not in root


@pytest.mark.parametrize("params, principal", [
    ({"SourceAccountIds": ACCOUNTS}, {"AWS": ["111111111111", "222222222222"]}),
    ({"OrganizationId": ORG}, {"AWS": "*"}),
])
def test_the_key_policy_lets_the_writers_generate_data_keys_for_this_stream_only(params, principal):
    rendered = render(CENTRAL, params)
    (writers,) = [s for s in key_policy(rendered) if s["Sid"] != "ThisAccount"]
    assert writers["Effect"] == "Allow"
    assert writers["Principal"] == principal
    assert writers["Action"] == ["kms:GenerateDataKey"]
    equals = writers["Condition"]["StringEquals"]
    # Only through Kinesis in this Region, only for this stream (the stream ARN is its encryption context).
    assert equals["kms:ViaService"] == f"kinesis.{REGION}.amazonaws.com"
    assert equals["kms:EncryptionContext:aws:kinesis:arn"] == STREAM_ARN
    assert STREAM_ARN.endswith(":stream/" + rendered.resources["Stream"]["Properties"]["Name"])
    if "OrganizationId" in params:
        assert equals["aws:PrincipalOrgID"] == ORG
    # The same principals the stream policy admits.
    (stream_statement,) = policy(rendered)
    assert stream_statement["Principal"] == writers["Principal"]
    assert stream_statement["Condition"]["ArnLike"] == writers["Condition"]["ArnLike"]


def test_the_stacks_key_and_the_stream_survive_the_stack_but_not_a_failed_first_create():
    template = load(CENTRAL)["Resources"]
    for name in ("Stream", "StreamKey", "ArchiveBucket"):
        assert template[name]["DeletionPolicy"] == "RetainExceptOnCreate", name
        assert template[name]["UpdateReplacePolicy"] == "Retain", name


def test_resource_policy_lets_the_source_accounts_put_records_only():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    assert rendered.resources["StreamResourcePolicy"]["Properties"]["ResourceArn"] == "<Stream.Arn>"
    (s,) = policy(rendered)
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    assert s["Action"] == ["kinesis:PutRecords"]
    assert s["Resource"] == ["<Stream.Arn>"]


def test_organization_access_is_conditioned_on_the_org_id():
    rendered = render(CENTRAL, {"OrganizationId": ORG})
    (s,) = policy(rendered)
    assert s["Principal"] == {"AWS": "*"}
    assert s["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG}
    assert s["Action"] == ["kinesis:PutRecords"]


@pytest.mark.parametrize("params", [{"SourceAccountIds": ACCOUNTS}, {"OrganizationId": ORG},
                                    {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG, "CreateWriterRole": "true"},
                                    {"OrganizationPaths": OU_PATHS, "CreateWriterRole": "true"}])
def test_writers_are_narrowed_to_logrelay_roles(params):
    rendered = render(CENTRAL, params)
    granted = policy(rendered) + [s for s in key_policy(rendered) if s["Sid"] != "ThisAccount"]
    if "WriterRole" in rendered.resources:
        granted += trust(rendered)
    assert granted
    for s in granted:
        (pattern,) = [s["Condition"]["ArnLike"]["aws:PrincipalArn"]]
        assert fnmatch.fnmatchcase(SOURCE_ROLE, pattern), (s["Sid"], pattern)
        for other in OTHER_ROLES:
            assert not fnmatch.fnmatchcase(other, pattern), (s["Sid"], other)


def test_the_writer_path_is_the_source_roles_path():
    central = load(CENTRAL)["Parameters"]["WriterRolePath"]["Default"]
    source = render("template.yaml").resources["FunctionRole"]["Properties"]["Path"]
    assert central == source == "/logrelay/"
    assert f":role{source}" in SOURCE_ROLE


def test_the_writer_pattern_follows_the_path_parameter():
    rendered = render(CENTRAL, {"OrganizationId": ORG, "WriterRolePath": "/platform/logrelay/",
                                "CreateWriterRole": "true"})
    granted = policy(rendered) + key_policy(rendered)[1:] + trust(rendered)
    for s in granted:
        assert s["Condition"]["ArnLike"]["aws:PrincipalArn"] == "arn:aws:iam::*:role/platform/logrelay/*"
    # "/" alone would admit every role of the admitted accounts.
    with pytest.raises(ValueError):
        render(CENTRAL, {"OrganizationId": ORG, "WriterRolePath": "/"})


def test_organizational_units_are_admitted_by_org_paths():
    rendered = render(CENTRAL, {"OrganizationPaths": OU_PATHS, "CreateWriterRole": "true"})
    assert rendered.rules_failed == []
    paths = OU_PATHS.split(",")
    for s in policy(rendered) + key_policy(rendered)[1:] + trust(rendered):
        assert s["Principal"] == {"AWS": "*"}
        # aws:PrincipalOrgPaths is multivalued: ForAnyValue, StringLike for the trailing *.
        assert s["Condition"]["ForAnyValue:StringLike"] == {"aws:PrincipalOrgPaths": paths}
    for bad in ["ou-ab12-11111111", "o-abcdef1234/ou-ab12-11111111/*", "o-abcdef1234/r-ab12/ou-ab12-1/*"]:
        with pytest.raises(ValueError):
            render(CENTRAL, {"OrganizationPaths": bad})


@pytest.mark.parametrize("params", [{"SourceAccountIds": ACCOUNTS}, {"OrganizationId": ORG},
                                    {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG, "CreateWriterRole": "true"},
                                    {"OrganizationPaths": OU_PATHS, "CreateWriterRole": "true"}])
def test_no_statement_grants_to_everyone_unconditionally(params):
    rendered = render(CENTRAL, params)
    granted = policy(rendered) + (trust(rendered) if "WriterRole" in rendered.resources else [])
    for s in granted:
        if s["Principal"] == {"AWS": "*"}:
            condition = s["Condition"]
            assert (condition.get("StringEquals", {}).get("aws:PrincipalOrgID") == ORG
                    or condition["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"] == OU_PATHS.split(","))


def test_someone_must_be_allowed_to_write():
    assert "SomeoneMayWrite" in render(CENTRAL).rules_failed
    assert render(CENTRAL, {"OrganizationPaths": OU_PATHS}).rules_failed == []
    assert render(CENTRAL, {"SourceAccountIds": ACCOUNTS}).rules_failed == []
    with pytest.raises(ValueError):
        render(CENTRAL, {"SourceAccountIds": "1111,2222"})


def test_no_role_unless_asked():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    assert "WriterRole" not in rendered.resources
    assert "CentralRoleArn" not in rendered.outputs


def test_role_trust_names_the_callers_without_an_external_id():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG, "CreateWriterRole": "true"})
    trusted = trust(rendered)
    assert len(trusted) == 2
    for s in trusted:
        assert s["Action"] == ["sts:AssumeRole"]
        assert "sts:ExternalId" not in json.dumps(s)
        assert s["Condition"]["ArnLike"]["aws:PrincipalArn"] == "arn:aws:iam::*:role/logrelay/*"
    assert trusted[0]["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    assert trusted[1]["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORG


@pytest.mark.parametrize("key_arn, key", [("", "<StreamKey.Arn>"), (KEY_ARN, KEY_ARN)])
def test_role_may_only_put_records_and_use_the_key(key_arn, key):
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "CreateWriterRole": "true", "KmsKeyArn": key_arn})
    (p,) = rendered.resources["WriterRole"]["Properties"]["Policies"]
    put, use_key = statements(p["PolicyDocument"])
    assert put == {"Sid": "PutRecords", "Effect": "Allow", "Action": ["kinesis:PutRecords"],
                   "Resource": ["<Stream.Arn>"]}
    assert use_key["Action"] == ["kms:GenerateDataKey"] and use_key["Resource"] == [key]
    assert use_key["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:kinesis:arn": "<Stream.Arn>"}}


def test_outputs_are_what_the_source_stack_needs():
    outputs = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "CreateWriterRole": "true"}).outputs
    assert outputs["StreamArn"] == "<Stream.Arn>"
    assert outputs["CentralRoleArn"] == "<WriterRole.Arn>"
    source = load("template.yaml")["Parameters"]
    assert "KinesisStreamArn" in source and "AssumeRoleArn" in source and "IamRolePath" in source


# --- Dashboard -------------------------------------------------------------------------------------


def dashboard_metrics(rendered, name="Dashboard"):
    body = json.loads(rendered.resources[name]["Properties"]["DashboardBody"])
    found = []
    for widget in body["widgets"]:
        for metric in widget["properties"]["metrics"]:
            found.append(metric)
    return body, found


def test_the_central_dashboard_shows_what_arrives_and_what_is_throttled():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "StreamName": "central-7"})
    _, metrics = dashboard_metrics(rendered)
    shown = {(m[0], m[1]) for m in metrics}
    assert {("AWS/Kinesis", "IncomingBytes"), ("AWS/Kinesis", "IncomingRecords"),
            ("AWS/Kinesis", "WriteProvisionedThroughputExceeded"), ("AWS/Kinesis", "PutRecords.ThrottledRecords"),
            ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds")} <= shown
    for m in metrics:
        assert m[2:4] == ["StreamName", "central-7"], m
    assert not any(m[0] == "AWS/Firehose" for m in metrics)


# --- Archive ---------------------------------------------------------------------------------------

ARCHIVE_RESOURCES = {"ArchiveBucket", "ArchiveBucketPolicy", "ArchiveRole", "Archive", "ArchiveErrorLogGroup",
                     "ArchiveErrorLogStream"}


def test_no_archive_by_default():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    assert not ARCHIVE_RESOURCES & set(rendered.resources)
    assert "ArchiveBucketName" not in rendered.outputs


def archive_destination(params):
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true", **params})
    assert ARCHIVE_RESOURCES <= set(rendered.resources)
    props = rendered.resources["Archive"]["Properties"]
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == "<Stream.Arn>"
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["BucketARN"] == "<ArchiveBucket.Arn>"
    assert s3["ProcessingConfiguration"]["Enabled"] is True
    processors = [(p["Type"], {q["ParameterName"]: q["ParameterValue"] for q in p.get("Parameters", [])})
                  for p in s3["ProcessingConfiguration"]["Processors"]]
    # cwl records are gzip documents as CloudWatch Logs writes them: decompressed first, lines delimited last.
    assert processors[0] == ("Decompression", {"CompressionFormat": "GZIP"})
    assert processors[-1] == ("AppendDelimiterToRecord", {})
    assert "!{firehose:error-output-type}" in s3["ErrorOutputPrefix"]
    return s3, dict(processors)


def test_the_archive_decompresses_documents_and_partitions_them_by_account_log_group_and_day():
    s3, processors = archive_destination({})
    assert "CloudWatchLogProcessing" not in processors  # it would remove owner and logGroup
    query = processors["MetadataExtraction"]["MetadataExtractionQuery"]
    assert query == '{account: .owner, logGroup: (.logGroup | ltrimstr("/"))}'
    assert processors["MetadataExtraction"]["JsonParsingEngine"] == "JQ-1.6"
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert s3["BufferingHints"]["SizeInMBs"] >= 64  # the minimum with dynamic partitioning
    for key in ("partitionKeyFromQuery:account", "partitionKeyFromQuery:logGroup", "timestamp:yyyy/MM/dd"):
        assert "!{" + key + "}" in s3["Prefix"], key


def test_the_archive_of_messages_extracts_them_and_files_them_by_day():
    s3, processors = archive_destination({"ArchiveFormat": "messages"})
    assert processors["CloudWatchLogProcessing"] == {"DataMessageExtraction": "true"}
    assert "MetadataExtraction" not in processors
    assert "DynamicPartitioningConfiguration" not in s3
    assert s3["Prefix"] == "messages/!{timestamp:yyyy/MM/dd}/"


def test_the_archive_bucket_is_encrypted_private_and_expires_objects():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true", "ArchiveExpirationDays": "90"})
    bucket = rendered.resources["ArchiveBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "<StreamKey.Arn>"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    (lifecycle,) = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["ExpirationInDays"] == "90"
    (tls,) = statements(rendered.resources["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"])
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_archive_role_reads_the_stream_and_writes_the_bucket_only():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true"})
    (p,) = rendered.resources["ArchiveRole"]["Properties"]["Policies"]
    by_sid = {s["Sid"]: s for s in statements(p["PolicyDocument"])}
    assert by_sid["ReadStream"]["Resource"] == ["<Stream.Arn>"]
    assert all(a.startswith("kinesis:") and "Put" not in a for a in by_sid["ReadStream"]["Action"])
    assert by_sid["WriteBucket"]["Resource"] == ["<ArchiveBucket.Arn>", "<ArchiveBucket.Arn>/*"]
    assert by_sid["StreamAndBucketKey"]["Resource"] == ["<StreamKey.Arn>"]
    for s in by_sid.values():
        for resource in s["Resource"]:
            assert resource != "*"
    _, metrics = dashboard_metrics(rendered)
    assert any(m[0] == "AWS/Firehose" for m in metrics)


def test_the_archive_keeps_noncurrent_versions_for_the_given_days():
    bucket = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true"}).resources["ArchiveBucket"]
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": "30"}
    bucket = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true",
                              "ArchiveNoncurrentVersionDays": "7"}).resources["ArchiveBucket"]
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": "7"}


def test_archive_access_logging_and_object_lock_only_when_asked():
    plain = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true"}).resources["ArchiveBucket"]
    for absent in ("LoggingConfiguration", "ObjectLockEnabled", "ObjectLockConfiguration"):
        assert absent not in plain["Properties"], absent
    props = render(CENTRAL, {
        "SourceAccountIds": ACCOUNTS, "ArchiveToS3": "true", "StreamName": "central-7",
        "ArchiveAccessLogBucket": "org-s3-access-logs", "ArchiveObjectLockMode": "COMPLIANCE",
        "ArchiveObjectLockDays": "400"}).resources["ArchiveBucket"]["Properties"]
    assert props["LoggingConfiguration"] == {"DestinationBucketName": "org-s3-access-logs",
                                             "LogFilePrefix": "central-7-archive/"}
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": "400"}}}
    with pytest.raises(ValueError):
        render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveObjectLockMode": "LEGAL_HOLD"})
    # Without the archive there is no bucket to log or lock.
    none = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ArchiveObjectLockMode": "GOVERNANCE"})
    assert "ArchiveBucket" not in none.resources


def test_the_dashboard_name_holds_the_region():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "StreamName": "central-7"})
    assert rendered.resources["Dashboard"]["Properties"]["DashboardName"] == f"central-7-central-{REGION}"
# --- Hub (HubEnabled=true) -------------------------------------------------------------------------------

HUB = {"SourceAccountIds": ACCOUNTS, "HubEnabled": "true", "ArtifactBucketPrefix": "logrelay-releases",
       "HubVersion": "0.4.0"}
HUB_RESOURCES = {"HubLogGroup", "HubFailureQueue", "HubRole", "HubFunction", "HubEventSourceMapping",
                 "HubIteratorAgeAlarm", "HubErrorsAlarm", "HubFailureQueueAlarm"}
DESTINATION_RESOURCES = {"LogsDestinationRole", "LogsDestination"}


def hub_statements(rendered):
    (p,) = rendered.resources["HubRole"]["Properties"]["Policies"]
    return {s["Sid"]: s for s in statements(p["PolicyDocument"])}


def test_no_hub_and_no_destination_by_default():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    assert not (HUB_RESOURCES | DESTINATION_RESOURCES) & set(rendered.resources)
    assert not {"HubFunctionName", "HubFailureQueueUrl", "LogsDestinationArn"} & set(rendered.outputs)
    assert rendered.rules_failed == []


def test_the_hub_needs_its_release():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "HubEnabled": "true"})
    assert "HubNeedsItsCode" in rendered.rules_failed
    assert render(CENTRAL, HUB).rules_failed == []


@pytest.mark.parametrize("arch", ["arm64", "x86_64"])
def test_the_hub_runs_the_release_zip_in_hub_mode(arch):
    rendered = render(CENTRAL, dict(HUB, HubArchitecture=arch))
    assert HUB_RESOURCES <= set(rendered.resources)
    props = rendered.resources["HubFunction"]["Properties"]
    assert props["Code"] == {"S3Bucket": f"logrelay-releases-{REGION}",
                             "S3Key": f"logrelay/0.4.0/logrelay-0.4.0-{arch}.zip"}
    assert props["Architectures"] == [arch]
    assert props["Runtime"] == "provided.al2023" and props["Handler"] == "bootstrap"
    env = props["Environment"]["Variables"]
    assert env["LOGRELAY_MODE"] == "hub"
    # The hub forwards nothing: no stream, no role to assume (logrelay refuses a stream in hub mode).
    assert not {"LOGRELAY_KINESIS_STREAM_ARN", "LOGRELAY_ASSUME_ROLE_ARN", "LOGRELAY_EXTERNAL_ID"} & set(env)
    assert env["LOGRELAY_CONFIG_FILE"] == "" and "Layers" not in props
    assert props["LoggingConfig"]["LogGroup"] == rendered.resources["HubLogGroup"]["Properties"]["LogGroupName"]
    assert props["Role"] == "<HubRole.Arn>"
    assert props["FunctionName"] == "logrelay-central-hub"
    assert rendered.outputs["HubFunctionName"] == "<Ref HubFunction>"


def test_the_hub_reads_a_metric_filter_file_from_a_layer():
    layer = "arn:aws:lambda:us-east-1:111122223333:layer:hub-filters:3"
    rendered = render(CENTRAL, dict(HUB, HubMetricFiltersLayerArn=layer, HubMetricFiltersFile="org/filters.json"))
    props = rendered.resources["HubFunction"]["Properties"]
    assert props["Layers"] == [layer]
    assert props["Environment"]["Variables"]["LOGRELAY_CONFIG_FILE"] == "/opt/org/filters.json"


def test_the_event_source_mapping_reports_batch_item_failures_and_parks_what_it_gives_up_on():
    rendered = render(CENTRAL, dict(HUB, HubBatchSize="1000", HubParallelizationFactor="4",
                                    HubMaximumRetryAttempts="3", HubMaximumRecordAgeSeconds="3600"))
    esm = rendered.resources["HubEventSourceMapping"]["Properties"]
    assert esm["EventSourceArn"] == "<Stream.Arn>"
    assert esm["FunctionName"] == "<Ref HubFunction>"
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["BisectBatchOnFunctionError"] is True
    assert esm["StartingPosition"] == "LATEST"
    assert (esm["BatchSize"], esm["ParallelizationFactor"]) == ("1000", "4")
    assert (esm["MaximumRetryAttempts"], esm["MaximumRecordAgeInSeconds"]) == ("3", "3600")
    assert esm["MaximumBatchingWindowInSeconds"] == "5"
    assert esm["DestinationConfig"] == {"OnFailure": {"Destination": "<HubFailureQueue.Arn>"}}
    queue = rendered.resources["HubFailureQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 1209600


def test_the_hub_role_reads_the_stream_and_publishes_its_namespaces_only():
    rendered = render(CENTRAL, dict(HUB, HubMetricNamespaces="Org,OrgLatency"))
    by_sid = hub_statements(rendered)
    assert set(by_sid) == {"OwnLogs", "ReadStream", "StreamKey", "FailureQueue", "PutMetricData"}
    granted = {a for s in by_sid.values() for a in s["Action"]}
    # Reads only: nothing that writes to the stream (the hub must not forward).
    assert not any(a.startswith("kinesis:Put") for a in granted)
    assert by_sid["ReadStream"]["Resource"] == ["<Stream.Arn>"]
    assert set(by_sid["ReadStream"]["Action"]) == {
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
        "kinesis:GetShardIterator", "kinesis:ListShards"}
    assert by_sid["StreamKey"]["Action"] == ["kms:Decrypt"]
    assert by_sid["StreamKey"]["Resource"] == ["<StreamKey.Arn>"]
    assert by_sid["StreamKey"]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:kinesis:arn"] == "<Stream.Arn>"
    assert by_sid["FailureQueue"] == {"Sid": "FailureQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                                      "Resource": ["<HubFailureQueue.Arn>"]}
    assert by_sid["PutMetricData"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["Org", "OrgLatency"]}}
    env = rendered.resources["HubFunction"]["Properties"]["Environment"]["Variables"]
    assert env["LOGRELAY_METRIC_NAMESPACE"] == "Org"
    # A key brought by the user is the one decrypted.
    by_sid = hub_statements(render(CENTRAL, dict(HUB, KmsKeyArn=KEY_ARN)))
    assert by_sid["StreamKey"]["Resource"] == [KEY_ARN]


def test_the_hub_alarms_on_iterator_age_errors_and_given_up_records():
    topic = "arn:aws:sns:us-east-1:111122223333:oncall"
    rendered = render(CENTRAL, dict(HUB, HubIteratorAgeAlarmMs="120000", HubAlarmTopicArn=topic))
    age = rendered.resources["HubIteratorAgeAlarm"]["Properties"]
    assert (age["Namespace"], age["MetricName"], age["Statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert age["Threshold"] == "120000"
    errors = rendered.resources["HubErrorsAlarm"]["Properties"]
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    for alarm in (age, errors):
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "<Ref HubFunction>"}]
        assert alarm["AlarmActions"] == [topic]
    queue = rendered.resources["HubFailureQueueAlarm"]["Properties"]
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": "<HubFailureQueue.QueueName>"}]
    assert "AlarmActions" not in render(CENTRAL, HUB).resources["HubIteratorAgeAlarm"]["Properties"]


def test_the_dashboard_gains_the_hub_row():
    rendered = render(CENTRAL, dict(HUB, StreamName="central-7"))
    _, metrics = dashboard_metrics(rendered)
    hub = [m for m in metrics if m[2:4] == ["FunctionName", "central-7-hub"]]
    shown = {(m[0], m[1]) for m in hub}
    assert {("AWS/Lambda", "IteratorAge"), ("AWS/Lambda", "Errors"), ("LogRelay/Function", "Events"),
            ("LogRelay/Function", "RetriedRecords"), ("LogRelay/Function", "PayloadFailures")} <= shown
    assert rendered.resources["HubFunction"]["Properties"]["FunctionName"] == "central-7-hub"


# --- CloudWatch Logs destination (LogsDestinationEnabled=true) --------------------------------------------

def destination_policy(rendered):
    return json.loads(rendered.resources["LogsDestination"]["Properties"]["DestinationPolicy"])


@pytest.mark.parametrize("params", [{"SourceAccountIds": ACCOUNTS}, {"OrganizationId": ORG},
                                    {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG}])
def test_the_destination_lets_the_writers_subscribe_and_writes_the_stream(params):
    rendered = render(CENTRAL, dict(params, LogsDestinationEnabled="true"))
    assert DESTINATION_RESOURCES <= set(rendered.resources) and "HubFunction" not in rendered.resources
    dest = rendered.resources["LogsDestination"]["Properties"]
    assert dest["TargetArn"] == "<Stream.Arn>" and dest["RoleArn"] == "<LogsDestinationRole.Arn>"
    name = dest["DestinationName"]
    policy_statements = {s["Sid"]: s for s in destination_policy(rendered)["Statement"]}
    for s in policy_statements.values():
        assert s["Action"] == ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"]
        assert s["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:destination:{name}"
    assert ("SourceAccounts" in policy_statements) == ("SourceAccountIds" in params)
    assert ("Organization" in policy_statements) == ("OrganizationId" in params)
    if "SourceAccountIds" in params:
        assert policy_statements["SourceAccounts"]["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    if "OrganizationId" in params:
        org = policy_statements["Organization"]
        assert org["Principal"] == "*"
        assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    # CloudWatch Logs assumes the role for the admitted accounts (and this one: its test message).
    role = rendered.resources["LogsDestinationRole"]["Properties"]
    trust_statements = statements(role["AssumeRolePolicyDocument"])
    for s in trust_statements:
        assert s["Principal"] == {"Service": "logs.amazonaws.com"}
        assert "Condition" in s
    accounts = trust_statements[0]["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert ACCOUNT_ID in accounts
    if "SourceAccountIds" in params:
        assert {"111111111111", "222222222222"} <= set(accounts)
    if "OrganizationId" in params:
        assert trust_statements[1]["Condition"] == {"StringEquals": {"aws:SourceOrgID": ORG}}
    (p,) = role["Policies"]
    granted = statements(p["PolicyDocument"])
    assert [(s["Action"], s["Resource"]) for s in granted][0] == (["kinesis:PutRecord"], ["<Stream.Arn>"])
    assert rendered.outputs["LogsDestinationArn"] == "<LogsDestination.Arn>"
