"""Small helpers shared by the models (no ORM)."""

from datetime import datetime, timezone


def utcnow():
    """Now, naive UTC, to the microsecond (fields.Datetime.now() drops them)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_time(text):
    """An ISO 8601 time from a store, as a naive UTC datetime (None if unreadable)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def plain_words(message):
    """An error for a retailer to read: the first lines, without tracebacks
    or raw payloads."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    text = " ".join(lines[:3])
    return text if len(text) <= 300 else text[:297] + "..."


def seller_identity_key(key):
    """The queue_job identity key Seller Mode gives a job: ``seller_mode.<key>``
    (SQL that looks for a store's waiting job builds the same)."""
    return "seller_mode.%s" % key


def seller_delay(records, channel, key, description, **options):
    """``records.with_delay()`` on one of Seller Mode's job channels
    (``root.seller_mode.<channel>``: stock, catalog, orders or poll), keyed
    ``seller_mode.<key>`` so that a job already waiting absorbs the new one."""
    return records.with_delay(
        channel="root.seller_mode.%s" % channel,
        identity_key=seller_identity_key(key),
        description=description,
        **options,
    )
