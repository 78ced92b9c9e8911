"""Running CPU-heavy calls without stalling every socket of a gevent worker."""

import sys


def off_loop(func, *args):
    """Call func in gevent's thread pool when serving under gevent, else directly.

    Password hashing (scrypt, ~100 ms) releases the GIL; run on the event loop
    it would freeze every connection of the process for that long.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        import gevent

        return gevent.get_hub().threadpool.apply(func, args)
    return func(*args)


def let_others_run() -> None:
    """Between two pieces of a long job: wait until the event loop has nothing else to do.

    Under gevent, gevent.idle() lets every greenlet that is ready (a request's
    I/O, a database answer) run first, however many loop turns that takes; a
    sleep(0) would give them one turn only. Without gevent there is nothing to
    wait for (threads are preempted).
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        import gevent

        gevent.idle()
