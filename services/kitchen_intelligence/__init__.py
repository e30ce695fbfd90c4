"""kitchen-intelligence (:8100; public prefix ``/api/kitchen/``): catalog, recommendations, compatibility.

Routes are thin (``routes.py``); the work is done by pure modules: ``index`` (the catalog precomputed once
at start), ``sky`` (the sky-dependent part of a request, computed once per request and cached per instant),
``scoring`` (the 0.4/0.3/0.2/0.1 recipe score), ``filters``, ``recommend``, ``ingredients``, ``compat`` and
``catalog_views``. See docs/kitchen.md.
"""
