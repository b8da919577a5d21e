"""The system under test: a social network's reactions and notifications, one process per service.

Services (each started as ``python -m sample_system.<pkg>`` and configured by environment variables
documented in its package docstring): ``gateway``, ``reactions``, ``notifications``,
``notifier_worker`` and ``push_provider``. This package never imports ``chaos``.
"""
