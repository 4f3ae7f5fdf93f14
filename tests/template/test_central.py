"""Wiring checks of deploy/central.yaml (the central-account stack) that cfn-lint cannot make."""

from __future__ import annotations

import pytest

from cfn_render import load, render, statements

CENTRAL = "deploy/central.yaml"
ACCOUNTS = "111111111111,222222222222"
ORG = "o-abcdef1234"
KEY_ARN = "arn:aws:kms:us-east-1:999988887777:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def policy(rendered):
    return statements(rendered.resources["StreamResourcePolicy"]["Properties"]["ResourcePolicy"])


def trust(rendered):
    return statements(rendered.resources["WriterRole"]["Properties"]["AssumeRolePolicyDocument"])


def test_stream_is_on_demand_and_encrypted_with_the_aws_managed_key_by_default():
    stream = render(CENTRAL, {"SourceAccountIds": ACCOUNTS}).resources["Stream"]
    assert stream["Type"] == "AWS::Kinesis::Stream"
    props = stream["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in props
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert stream["DeletionPolicy"] == "Retain"


def test_customer_key_encrypts_the_stream():
    props = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "KmsKeyArn": KEY_ARN}).resources["Stream"]["Properties"]
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": KEY_ARN}


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
    assert s["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    assert s["Action"] == ["kinesis:PutRecords"]


@pytest.mark.parametrize("params", [{"SourceAccountIds": ACCOUNTS}, {"OrganizationId": ORG},
                                    {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG, "ExternalId": "ext-1"}])
def test_no_statement_grants_to_everyone_unconditionally(params):
    rendered = render(CENTRAL, params)
    granted = policy(rendered) + (trust(rendered) if "WriterRole" in rendered.resources else [])
    for s in granted:
        if s["Principal"] == {"AWS": "*"}:
            assert s["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORG


def test_someone_must_be_allowed_to_write():
    assert "SomeoneMayWrite" in render(CENTRAL).rules_failed
    assert render(CENTRAL, {"SourceAccountIds": ACCOUNTS}).rules_failed == []
    with pytest.raises(ValueError):
        render(CENTRAL, {"SourceAccountIds": "1111,2222"})


def test_no_role_without_external_id():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS})
    assert "WriterRole" not in rendered.resources
    assert "CentralRoleArn" not in rendered.outputs


def test_role_trust_requires_the_external_id():
    rendered = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "OrganizationId": ORG, "ExternalId": "s3cret-id"})
    trusted = trust(rendered)
    assert len(trusted) == 2
    for s in trusted:
        assert s["Action"] == ["sts:AssumeRole"]
        assert s["Condition"]["StringEquals"]["sts:ExternalId"] == "s3cret-id"
    assert trusted[0]["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    assert trusted[1]["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORG


def test_role_may_only_put_records_and_use_the_key():
    plain = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ExternalId": "s3cret-id"})
    (p,) = plain.resources["WriterRole"]["Properties"]["Policies"]
    assert statements(p["PolicyDocument"]) == [
        {"Sid": "PutRecords", "Effect": "Allow", "Action": ["kinesis:PutRecords"], "Resource": ["<Stream.Arn>"]}
    ]
    keyed = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ExternalId": "s3cret-id", "KmsKeyArn": KEY_ARN})
    (p,) = keyed.resources["WriterRole"]["Properties"]["Policies"]
    key = statements(p["PolicyDocument"])[1]
    assert key["Action"] == ["kms:GenerateDataKey"] and key["Resource"] == [KEY_ARN]
    assert key["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:kinesis:arn": "<Stream.Arn>"}}


def test_outputs_are_what_the_source_stack_needs():
    outputs = render(CENTRAL, {"SourceAccountIds": ACCOUNTS, "ExternalId": "s3cret-id"}).outputs
    assert outputs["StreamArn"] == "<Stream.Arn>"
    assert outputs["CentralRoleArn"] == "<WriterRole.Arn>"
    source = load("template.yaml")["Parameters"]
    assert "KinesisStreamArn" in source and "AssumeRoleArn" in source and "ExternalId" in source


def test_external_id_is_not_echoed():
    assert load(CENTRAL)["Parameters"]["ExternalId"]["NoEcho"] is True
