"""The KRaft cluster id the local broker formats its storage with."""
from __future__ import annotations

import base64

from lakehouse.services.kafka_broker import new_cluster_id


def test_a_cluster_id_never_starts_with_a_dash_the_storage_tool_would_read_as_an_option():
    ids = [new_cluster_id() for _ in range(5000)]

    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]


def test_a_cluster_id_is_sixteen_random_bytes_in_url_safe_base64():
    cluster_id = new_cluster_id()

    assert len(cluster_id) == 22
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
