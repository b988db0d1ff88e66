"""The endpoint groups of [`qpi.client.QPIClient`][qpi.client.QPIClient], one mixin per module.

``QPIClient`` (in [`qpi.client`][qpi.server.LocalServer.client]) is the one client class: it holds
construction, settings,
the cache and plugin wiring, the lifecycle, and the framework-facing entry points (``run``,
``translate``, ``submit``, ``job``, ``get_backend``). Its REST endpoints live here, grouped by
what they touch, and reach HTTP only through the small surface `ClientBase`
declares:

| module | holds |
|---|---|
| ``base`` | ``ClientBase``: the attributes and request helpers the mixins may use |
| ``records`` | list envelopes, page size, collection record paths, optional body fields |
| ``submission`` | the no-duplicate job POST and its submission tag |
| ``jobs`` | job endpoints, polling, ``FINAL_STATUSES`` and ``raise_for_status`` |
| ``qpus`` | QPU endpoints and the QPU record memo |
| ``tokens`` | API tokens |
| ``notifications`` | notifications |
| ``bookings`` | booking slots and QPU time requests |
| ``users`` | users, QPU-time allocation, password login, server version |

The package is private: import the client from [`qpi.client`][qpi.server.LocalServer.client] (or
``qpi``).
"""
