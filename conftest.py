"""Root conftest: the sample system's fixtures (the plugin itself loads via its entry point)."""

pytest_plugins = ["fixtures.barrier", "fixtures.turns", "fixtures.system", "fixtures.plant"]
