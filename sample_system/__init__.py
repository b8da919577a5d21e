"""The system under test: a social network's reactions and notifications, one process per service.

Services (each started as ``python -m sample_system.<pkg>`` and configured by environment variables
documented in its package docstring): ``gateway``, ``reactions``, ``notifications``,
``notifier_worker`` and ``push_provider``. This package never imports ``chaos``.

Every protection is on by default and can be switched off, to prove it is needed: at start-up by
``<PREFIX>_<NAME>=off`` (e.g. ``WORKER_DEDUPE=off``), at run time by ``PUT /admin/protections``
``{"dedupe": false}`` on the service that owns it (see ``common.protections``).
"""
