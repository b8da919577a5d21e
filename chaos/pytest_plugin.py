"""pytest plugin: proxy, broker and fault fixtures (registered through the pytest11 entry point)."""
