"""Small helpers of the Shopify emulator: gids, timestamps, money, cursors,
search-syntax queries and connections."""

import base64
import json
import re
import time
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from graphql import GraphQLError

MAX_PAGE = 250


def gid(kind, num):
    return "gid://shopify/%s/%d" % (kind, num)


_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(\?.*)?$")


def parse_gid(value, kind=None):
    """The numeric id of a gid of the given kind, or None. Raises a GraphQL
    error for something that is not a gid at all (as Shopify does)."""
    if value is None:
        return None
    m = _GID.match(str(value))
    if not m:
        raise GraphQLError("Invalid global id '%s'" % value, extensions={"code": "argumentLiteralsIncompatible"})
    if kind and m.group(1) != kind:
        return None
    return int(m.group(2))


def gid_kind(value):
    m = _GID.match(str(value or ""))
    return m.group(1) if m else None


def iso(t):
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(text):
    text = str(text).strip().strip("'\"")
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00Z"
    text = text.replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def money(value, default="0.00"):
    if value is None or value == "":
        return default
    try:
        return "%.2f" % Decimal(str(value))
    except InvalidOperation:
        raise GraphQLError("Invalid money value %r" % (value,))


def decimal_str(value):
    if value is None:
        return None
    d = Decimal(str(value))
    return str(d.normalize()) if d == d.to_integral() else str(d)


def slugify(text):
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return slug or "product"


# ---------------------------------------------------------------- cursors / connections
def encode_cursor(last_id, last_value=None):
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor):
    try:
        data = json.loads(base64.b64decode(cursor.encode()).decode())
        return data["last_id"], data.get("last_value")
    except Exception:
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"})


def connection(items, first=None, after=None, last=None, before=None, reverse=False, sort_value=None, **_):
    """Relay connection over ``items`` (objects with a ``num``), ordered by
    (sort_value(item), num), as a dict the default resolver can read."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, n in (("first", first), ("last", last)):
        if n is not None and (n < 0 or n > MAX_PAGE):
            raise GraphQLError(
                "The %s argument must be between 0 and %d." % (name, MAX_PAGE), extensions={"code": "BAD_REQUEST"}
            )
    key = (lambda o: (sort_value(o), o.num)) if sort_value else (lambda o: (0, o.num))
    seq = sorted(items, key=key, reverse=bool(reverse))

    def value_of(o):
        return sort_value(o) if sort_value else None

    def position(cursor):
        last_id, last_value = decode_cursor(cursor)
        mark = ((last_value if sort_value else 0), last_id)
        for i, o in enumerate(seq):
            k = key(o)
            if (k > mark) if not reverse else (k < mark):
                return i
        return len(seq)

    has_prev = has_next = False
    if after:
        start = position(after)
        has_prev = start > 0
        seq = seq[start:]
    if before:
        stop = position(before)
        # position() gives the first element after the cursor; the cursor's
        # own element (if present) is just before it.
        last_id, _ = decode_cursor(before)
        if stop > 0 and seq[stop - 1].num == last_id:
            stop -= 1
        has_next = stop < len(seq)
        seq = seq[:stop]
    if first is not None:
        has_next = has_next or len(seq) > first
        seq = seq[:first]
    if last is not None:
        has_prev = has_prev or len(seq) > last
        seq = seq[len(seq) - last:] if last else []
    edges = [{"cursor": encode_cursor(o.num, value_of(o)), "node": o} for o in seq]
    return {
        "edges": edges,
        "nodes": seq,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# ---------------------------------------------------------------- search syntax
_TERM = re.compile(r"""(-)?(?:(\w+):(>=|<=|>|<|=)?("[^"]*"|'[^']*'|[^\s]+)|("[^"]*"|'[^']*'|[^\s]+))""")


def parse_search(query):
    """Shopify search syntax (the subset used here): ``field:value``,
    ``field:>value`` (also >=, <, <=), ``-field:value`` (negation), quoted
    values, comma lists (``status:active,draft``), bare words (title
    search); ``AND`` is implied and ignored; ``OR`` is not supported."""
    terms = []
    for m in _TERM.finditer(query or ""):
        neg, field, op, value, bare = m.groups()
        if bare is not None:
            if bare.upper() in ("AND", "OR"):
                continue
            terms.append((bool(neg), None, "=", bare.strip("'\"")))
        else:
            terms.append((bool(neg), field.lower(), op or "=", value.strip("'\"")))
    return terms


def _compare(actual, op, wanted, kind):
    if actual is None:
        return False
    if kind == "time":
        w = parse_time(wanted)
        if w is None:
            return False
        a = actual
    elif kind == "num":
        try:
            w, a = float(wanted), float(actual)
        except ValueError:
            return False
    else:
        a = str(actual).lower()
        options = [x.strip().lower() for x in wanted.split(",")]
        if op != "=":
            return False
        for w in options:
            if w.endswith("*") and a.startswith(w[:-1]):
                return True
            if a == w:
                return True
        return False
    return {"=": a == w, ">": a > w, ">=": a >= w, "<": a < w, "<=": a <= w}[op]


def matches(obj, terms, fields, default_field="title"):
    """``fields``: name -> (getter, kind) with kind 'str', 'time' or 'num';
    a getter may return a list (any element matching is a match)."""
    for neg, field, op, value in terms:
        if field is None:
            getter, kind = fields[default_field]
            actual = getter(obj)
            ok = actual is not None and value.lower() in str(actual).lower()
        elif field in fields:
            getter, kind = fields[field]
            actual = getter(obj)
            values = actual if isinstance(actual, (list, tuple)) else [actual]
            ok = any(_compare(a, op, value, kind) for a in values)
        else:
            ok = True  # unknown filter fields are ignored, as Shopify does
        if ok == neg:
            return False
    return True
