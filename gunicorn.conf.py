"""Read by gunicorn from the directory it starts in (the Procfile's web: line).

The hooks run in the worker, after gevent has patched it and the app is loaded,
so importing the app there is safe; the master never imports it.
"""


def post_worker_init(worker):
    from app.realtime.shutdown import hand_over_when_stopping
    from app.transport import serve

    serve(worker)
    hand_over_when_stopping(worker)


def worker_exit(server, worker):
    # The master calls this too, for a worker that is already gone: only the worker
    # itself has sockets to withdraw (and the app to do it with).
    import os

    if os.getpid() == worker.pid and getattr(worker, "wsgi", None) is not None:
        from app.realtime.shutdown import withdraw_sockets

        withdraw_sockets(worker.wsgi)
