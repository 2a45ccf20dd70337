"""Layered, validated configuration (conf/base.yaml < conf/<env>.yaml < environment < --set)."""
from lakehouse.config.loader import describe, load_config
from lakehouse.config.model import Config
from lakehouse.config.secrets import SecretError, SecretRef
from lakehouse.config.typed import ConfigError

__all__ = ["Config", "ConfigError", "SecretError", "SecretRef", "describe", "load_config"]
