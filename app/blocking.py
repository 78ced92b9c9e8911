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
