"""Entry point: ``python -m sample_system.notifications``."""

from sample_system.common.web import run_service
from sample_system.notifications.app import create_app
from sample_system.notifications.settings import Settings

if __name__ == "__main__":
    run_service("notifications", Settings.from_env, create_app)
