"""The sync engine: import -> map -> validate -> match -> stage -> plan -> commit.

Callers (CLI, HTTP API) use :mod:`connectkit.sync.service` only; the other modules are
its parts. ``docs/sync-engine.md`` describes how a run flows.
"""
