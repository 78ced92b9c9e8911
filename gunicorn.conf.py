"""Read by gunicorn from the directory it starts in (the Procfile's web: line).

The hook runs in the worker, after gevent has patched it and the app is loaded,
so importing the app there is safe; the master never imports it.
"""


def post_worker_init(worker):
    from app.transport import serve

    serve(worker)
