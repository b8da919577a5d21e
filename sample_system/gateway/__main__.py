"""Entry point: ``python -m sample_system.gateway``."""

from sample_system.common.web import run_service
from sample_system.gateway.app import create_app
from sample_system.gateway.settings import Settings

if __name__ == "__main__":
    run_service("gateway", Settings.from_env, create_app)
