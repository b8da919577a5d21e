"""Entry point: ``python -m sample_system.reactions``."""

from sample_system.common.web import run_service
from sample_system.reactions.app import create_app
from sample_system.reactions.settings import Settings

if __name__ == "__main__":
    run_service("reactions", Settings.from_env, create_app)
