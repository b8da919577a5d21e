"""Entry point: ``python -m sample_system.push_provider``."""

from sample_system.common.web import run_service
from sample_system.push_provider.app import create_app
from sample_system.push_provider.settings import Settings

if __name__ == "__main__":
    run_service("push-provider", Settings.from_env, create_app)
