"""Entry point: ``python -m sample_system.reactions``."""

import os
import sys

from sample_system.common.logs import configure_logging
from sample_system.common.settings import SettingsError
from sample_system.common.web import serve
from sample_system.reactions.app import create_app
from sample_system.reactions.settings import Settings


def main() -> None:
    """Read the environment and serve until terminated."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"reactions: bad configuration: {exc}")
    configure_logging("reactions", settings.log_level)
    try:
        app = create_app(settings)
    except RuntimeError as exc:  # e.g. the database cannot be opened
        sys.exit(f"reactions: cannot start: {exc}")
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
