"""Helpers shared by the sample services: settings parsing, metrics, health, JSON logging."""

from sample_system.common.ids import notification_id_for, recipient_for
from sample_system.common.logs import configure_logging
from sample_system.common.settings import Env, SettingsError

__all__ = ["Env", "SettingsError", "configure_logging", "notification_id_for", "recipient_for"]
