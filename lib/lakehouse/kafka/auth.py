"""How Kafka clients authenticate: nothing on the local broker, IAM on MSK (kafka.authentication).

MSK's IAM listener (SASL_SSL, port 9098) accepts a client that signs its login with the AWS
credentials of the machine (the EMR nodes' instance role); what it may then do is the role's
`kafka-cluster:*` grants (infra/modules/lakehouse/iam_emr.tf). Spark's Kafka source (the Java client)
signs through the `aws-msk-iam-auth` jar, shipped in spark.extra_jars; the Python clients
(librdkafka: offset look-ups at a stream's start) through an OAUTHBEARER token from
`aws-msk-iam-sasl-signer-python`, which signs the same way.
"""
from __future__ import annotations

from collections.abc import Callable

from lakehouse.config import Config

JAVA_IAM_PROPERTIES = {
    "sasl.mechanism": "AWS_MSK_IAM",
    "sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}


def java_client_properties(cfg: Config) -> dict[str, str]:
    """Security properties of a Java Kafka client (Spark's source takes them prefixed with `kafka.`)."""
    properties = {"security.protocol": cfg.kafka.security_protocol}
    if cfg.kafka.authentication == "iam":
        properties.update(JAVA_IAM_PROPERTIES)
    return properties


def librdkafka_properties(cfg: Config) -> dict:
    """Security settings of a confluent-kafka (librdkafka) client; with IAM, a token callback."""
    properties: dict = {"security.protocol": cfg.kafka.security_protocol}
    if cfg.kafka.authentication == "iam":
        properties.update({"sasl.mechanism": "OAUTHBEARER", "oauth_cb": msk_iam_token_callback(cfg.s3.region)})
    return properties


def msk_iam_token_callback(region: str) -> Callable[[str], tuple[str, float]]:
    """librdkafka's `oauth_cb`: a fresh MSK IAM token signed with the default AWS credentials, and
    its expiry in seconds since the epoch (librdkafka asks again before then)."""

    def token(_oauthbearer_config: str) -> tuple[str, float]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return value, expiry_ms / 1000

    return token
