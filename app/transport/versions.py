"""The library versions the fast path was verified against, and the check at start-up."""

from importlib import metadata

# Every library whose private code the fast path overrides or swaps, at the exact
# release it was read and tested against.
VERIFIED = {
    "python-engineio": "4.15.1",
    "gevent": "26.9.0",
    "gevent-websocket": "0.10.1",
}


def mismatches() -> list[str]:
    """Why the installed libraries are not the verified ones (empty when they are)."""
    found = []
    for name, verified in VERIFIED.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            found.append(f"{name} is not installed (verified with {verified})")
            continue
        if installed != verified:
            found.append(f"{name} {installed} is installed, verified with {verified}")
    return found
