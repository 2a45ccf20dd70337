"""The streaming section of the config: shipped values load, and mistakes are named."""
from __future__ import annotations

import pytest

from lakehouse.config import ConfigError, load_config
from tests.conftest import CONF_DIR


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_environment_maps_the_three_contracts_and_thresholds_every_currency(env):
    from lakehouse.schemas.transaction_events import CURRENCIES

    streaming = load_config(env, CONF_DIR, environ={}).streaming
    assert sorted(streaming.topics) == ["system_metrics", "transaction_events", "user_events"]
    assert sorted(streaming.fraud.amount_thresholds) == sorted(CURRENCIES)
    assert streaming.checkpoint_lock == ("file" if env == "local" else "none")


@pytest.mark.parametrize(("override", "message"), [
    ("streaming.processing_time=soon", "streaming.processing_time: expected an interval like '30 seconds'"),
    ("streaming.max_offsets_per_trigger=0", "streaming.max_offsets_per_trigger: must be at least 1"),
    ("streaming.fraud.amount_thresholds.USD=-1", "streaming.fraud.amount_thresholds.USD: must be positive"),
    ("streaming.trigger=once", "streaming.trigger: expected one of available-now, processing-time"),
    ("streaming.topics.clicks=clicks", "streaming.topics: must map exactly user_events, transaction_events"),
])
def test_invalid_streaming_settings_are_refused_with_their_key(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("local", CONF_DIR, [override], environ={})
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["2 hours", "null"])
def test_the_removed_dedup_window_is_refused_with_the_reason(value):
    """Even null: a config that still names it was written for the streaming dedup that could drop rows."""
    with pytest.raises(ConfigError) as info:
        load_config("local", CONF_DIR, [f"streaming.dedup_window={value}"], environ={})
    message = str(info.value)
    assert "streaming.dedup_window: removed: its streaming dedup state dropped rows" in message
    assert "the keyed MERGE alone give exactly once; delete the key" in message
