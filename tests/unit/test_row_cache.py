"""RowCache's rules, apart from any database: a value read before a change is refused,
the oldest goes first when full, and a cache that cannot tell keeps nothing."""

from app.db.row_cache import CHECK_SECONDS, RowCache, SQLiteRowCache


class Told(RowCache):
    """A cache whose engine always knows (as a listening PostgreSQL cache does)."""

    def current(self) -> bool:
        return True


def test_a_value_read_before_a_change_is_not_kept():
    cache = Told()
    seen = cache.generation
    cache.forget("A")  # the change's notice came while the row was being read
    cache.put("A", {"status": 1}, seen)
    assert cache.get("A") is None
    cache.put("A", {"status": 2}, cache.generation)  # read after it: kept
    assert cache.get("A") == {"status": 2}


def test_any_change_noticed_during_the_read_refuses_it():
    # One generation for all codes: a notice about another dossier refuses it too (the
    # cost of a few misses under writes, for a check that needs no per-code bookkeeping).
    cache = Told()
    seen = cache.generation
    cache.forget("B")
    cache.put("A", 1, seen)
    assert cache.get("A") is None


def test_forget_all_empties_and_refuses_reads_under_way():
    cache = Told()
    cache.put("A", 1, cache.generation)
    seen = cache.generation
    cache.forget_all()
    cache.put("B", 2, seen)
    assert cache.entries == {}


def test_the_oldest_goes_first_when_full():
    cache = Told(capacity=2)
    for code in "ABC":
        cache.put(code, code.lower(), cache.generation)
    assert list(cache.entries) == ["B", "C"]
    cache.put("B", "b2", cache.generation)  # replacing one evicts nothing
    assert cache.entries == {"B": "b2", "C": "c"}


def test_a_cache_that_cannot_tell_keeps_nothing():
    cache = RowCache()
    cache.put("A", 1, cache.generation)
    assert cache.get("A") is None and cache.entries == {}


def test_capacity_zero_keeps_nothing():
    cache = Told(capacity=0)
    cache.put("A", 1, cache.generation)
    assert cache.get("A") is None


class FakeSQLite:
    """What SQLiteRowCache asks of its engine: data_version (counted) and the transaction."""

    def __init__(self) -> None:
        self.version, self.asked = 1, 0
        self.current_transaction = _NoTransaction()

    def data_version(self) -> int | None:
        self.asked += 1
        return self.version


class _NoTransaction:
    def get(self):
        return None


def test_sqlite_asks_data_version_at_most_once_a_millisecond_and_forgets_on_a_change():
    now = [100.0]
    engine = FakeSQLite()
    cache = SQLiteRowCache(engine, monotonic=lambda: now[0])
    assert cache.get("A") is None  # a miss, as a look-up's first
    cache.put("A", 1, cache.generation)
    assert cache.get("A") == 1 and cache.get("A") == 1
    assert engine.asked == 1  # one question for the miss, the put and both gets
    engine.version = 2  # another connection committed
    assert cache.get("A") == 1  # not asked again yet: at most a millisecond behind
    now[0] += CHECK_SECONDS
    assert cache.get("A") is None and engine.asked == 2  # asked, told, forgotten
    seen = cache.generation
    engine.version = 3
    now[0] += CHECK_SECONDS
    cache.put("B", 2, seen)  # read before the commit the put's question learns of: refused
    assert cache.entries == {}


def test_sqlite_keeps_nothing_while_busy():
    now = [0.0]
    engine = FakeSQLite()
    cache = SQLiteRowCache(engine, monotonic=lambda: now[0])
    engine.version = None  # SQLite busy: the pragma could not read
    cache.put("A", 1, cache.generation)
    assert cache.get("A") is None
