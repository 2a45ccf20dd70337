"""Kafka client authentication: IAM on MSK, nothing only on the local broker.

The config refuses PLAINTEXT and unauthenticated access for any broker that is not on this machine,
so no environment but the local stack can select them; dev and prod as shipped sign in with IAM, and
both kinds of client (Spark's Java source, the librdkafka offset look-ups) get the IAM settings.
"""
from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlparse

import pytest

from lakehouse.config import ConfigError, load_config
from lakehouse.kafka.client import client_config
from lakehouse.streaming.kafka_source import kafka_source_options
from tests.conftest import CONF_DIR, local_config

IAM_SOURCE_OPTIONS = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}


def env_config(env: str, *overrides: str):
    return load_config(env, CONF_DIR, overrides, environ={})


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("overrides", [
    ["kafka.security_protocol=PLAINTEXT", "kafka.authentication=none"],
    ["kafka.security_protocol=SSL", "kafka.authentication=none"],
    ["kafka.security_protocol=SASL_SSL", "kafka.authentication=none"],
], ids=["plaintext", "tls-unauthenticated", "sasl-without-mechanism"])
def test_no_environment_on_msk_can_select_plaintext_or_unauthenticated_access(env, overrides):
    with pytest.raises(ConfigError) as refused:
        env_config(env, *overrides)
    assert (f"kafka.authentication: must be iam (SASL_SSL) for brokers b-1.{env}-data-kafka.kafka.us-west-2"
            in str(refused.value))
    assert "allowed only on the local broker" in str(refused.value)


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL", "SASL_PLAINTEXT"])
def test_iam_needs_tls(env, protocol):
    with pytest.raises(ConfigError, match=rf"kafka.security_protocol: must be SASL_SSL with authentication iam, "
                                          rf"got {protocol}"):
        env_config(env, f"kafka.security_protocol={protocol}")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_dev_and_prod_as_shipped_sign_in_with_iam_on_port_9098(env):
    kafka = env_config(env).kafka
    assert (kafka.security_protocol, kafka.authentication) == ("SASL_SSL", "iam")
    assert all(server.endswith(".amazonaws.com:9098") for server in kafka.bootstrap_servers.split(","))


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_sparks_kafka_source_signs_in_with_iam_and_ships_the_jar(env):
    cfg = env_config(env)
    options = kafka_source_options(cfg, "user_events")
    assert {key: options[key] for key in IAM_SOURCE_OPTIONS} == IAM_SOURCE_OPTIONS
    assert options["groupIdPrefix"] == "lakehouse-bronze"
    assert [jar for jar in cfg.spark.extra_jars if "aws-msk-iam-auth" in jar] == [
        f"s3://{'company-artifacts-dev' if env == 'dev' else 'company-artifacts'}/lakehouse/jars/"
        "aws-msk-iam-auth-2.2.0-all.jar"]


def test_the_local_broker_alone_speaks_plaintext_without_sign_in():
    cfg = local_config()
    assert (cfg.kafka.security_protocol, cfg.kafka.authentication) == ("PLAINTEXT", "none")
    options = kafka_source_options(cfg, "user_events")
    assert options["kafka.security.protocol"] == "PLAINTEXT"
    assert not any(key.startswith("kafka.sasl.") for key in options)
    assert not [jar for jar in cfg.spark.extra_jars if "aws-msk-iam-auth" in jar]
    assert "sasl.mechanism" not in client_config(cfg)


def test_an_environment_pointed_at_the_local_broker_may_use_it_unauthenticated():
    # The EMR stand-in (tests/deploy) runs prod's config against the local broker.
    cfg = env_config("prod", "kafka.bootstrap_servers=127.0.0.1:19092,localhost:19093",
                     "kafka.security_protocol=PLAINTEXT", "kafka.authentication=none")
    assert cfg.kafka.brokers_are_local


MADE_UP_KEY_ID = "made-up-key-id"  # not a credential: signing is local, nothing reaches AWS


def test_the_python_clients_sign_in_with_an_msk_iam_token(monkeypatch):
    # The real signer with made-up keys: signing is local (SigV4), no AWS call is made.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MADE_UP_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "made-up-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings = client_config(env_config("prod"), **{"group.id": "g"})
    assert (settings["security.protocol"], settings["sasl.mechanism"]) == ("SASL_SSL", "OAUTHBEARER")
    token, expiry_s = settings["oauth_cb"]("")
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.netloc == "kafka.us-west-2.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith(f"{MADE_UP_KEY_ID}/")
    assert "/us-west-2/kafka-cluster/" in query["X-Amz-Credential"][0]
    assert time.time() < expiry_s < time.time() + 3600
