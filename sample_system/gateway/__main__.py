"""Entry point: ``python -m sample_system.gateway``."""

import os
import sys

from sample_system.common.logs import configure_logging
from sample_system.common.settings import SettingsError
from sample_system.common.web import serve
from sample_system.gateway.app import create_app
from sample_system.gateway.settings import Settings


def main() -> None:
    """Read the environment and serve until terminated."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"gateway: bad configuration: {exc}")
    configure_logging("gateway", settings.log_level)
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
