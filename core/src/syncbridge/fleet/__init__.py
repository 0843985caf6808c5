"""A fleet: many tenants' syncs run by Celery workers over one PostgreSQL state store.

The modules, one job each: ``config`` (fleet.toml), ``tenants`` (tenant files, secrets and
schemas), ``schedule`` (the shared schedule: due, dispatch, claim, finish, nudge),
``scheduler`` (``syncbridge scheduler``), ``tasks`` (the Celery app and its task),
``runtime`` (what a worker process holds, and running a dispatched turn), ``receiver``
(``syncbridge webhooks serve``), ``status`` (``status --tenant``, ``tenants``) and ``metrics``
(Prometheus). docs/guides/running-at-scale.md tells the whole of it.

Importing this package imports neither Celery nor Redis: only the modules that need them do.
"""
