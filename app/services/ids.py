"""The range of ids the database can hold, so an out-of-range id is "not found", not a 500."""

# users.id and conversations.id are 32-bit on PostgreSQL; a larger value in a
# query fails in the driver instead of matching nothing.
INT_ID_MAX = 2**31 - 1


def is_int_id(value: int) -> bool:
    """Whether a 32-bit id column could hold this value."""
    return 0 < value <= INT_ID_MAX
