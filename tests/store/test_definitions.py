import pickle
from datetime import timezone

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from service.store import NotFound, PreconditionFailed, Record, RecordSummary

WEIGHTS = [np.array([[0.5, -1.25], [2.0, 3.5]], dtype=np.float32), np.array([0.1, 0.2]), np.int64(3)]
SPEC = {"activation": "relu", "shape": [2, 2], "description": "ünïcode", "vocabulary": ["a", "b"]}


def assert_same_arrays(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == np.shape(w)
        assert g.tobytes() == np.asarray(w).tobytes()


def test_put_then_get_round_trips(store):
    record, created = store.put("neuron", "relu-1", SPEC, WEIGHTS)
    assert created is True
    assert (record.kind, record.name, record.revision, record.spec) == ("neuron", "relu-1", 1, SPEC)
    assert record.created_at == record.updated_at
    assert record.created_at.tzinfo is timezone.utc

    got = store.get("neuron", "relu-1")
    assert got == record
    assert_same_arrays(got.arrays, WEIGHTS)
    assert_same_arrays(record.arrays, WEIGHTS)
    assert all(not array.flags.writeable for array in got.arrays)


def test_put_returns_json_normalised_spec_and_does_not_alias_inputs(store):
    spec = {"shape": (2, 3), "nested": {"k": [1.5]}}
    weights = [np.zeros(3)]
    record, _ = store.put("network", "net", spec, weights)
    spec["nested"]["k"].append(9)
    weights[0][0] = 42.0
    assert record.spec == {"shape": [2, 3], "nested": {"k": [1.5]}}
    assert store.get("network", "net").spec == record.spec
    assert store.get("network", "net").arrays[0].tolist() == [0.0, 0.0, 0.0]


def test_kinds_are_separate_namespaces(store):
    store.put("neuron", "same", {"k": "neuron"}, [])
    store.put("network", "same", {"k": "network"}, [])
    assert store.get("neuron", "same").spec == {"k": "neuron"}
    assert store.get("network", "same").spec == {"k": "network"}


def test_unknown_kind_is_rejected(store):
    with pytest.raises(ValueError, match="unknown kind"):
        store.put("layer", "x", {}, [])
    with pytest.raises(ValueError, match="unknown kind"):
        store.current_revision("layer", "x")


def test_every_put_bumps_revision_and_keeps_created_at(store):
    first, _ = store.put("neuron", "n", {"v": 1}, [np.ones(2)])
    second, created = store.put("neuron", "n", {"v": 2}, [np.zeros(2)])
    assert created is False
    assert second.revision == 2
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    got = store.get("neuron", "n")
    assert got.spec == {"v": 2} and got.arrays[0].tolist() == [0.0, 0.0]
    assert store.current_revision("neuron", "n") == 2


def test_missing_records(store):
    assert store.get("neuron", "ghost") is None
    assert store.current_revision("neuron", "ghost") is None
    with pytest.raises(NotFound):
        store.delete("neuron", "ghost")


def test_delete_leaves_a_tombstone_and_recreate_never_reuses_a_revision(store):
    first, _ = store.put("neuron", "n", {"v": 1}, WEIGHTS)
    store.put("neuron", "n", {"v": 2}, WEIGHTS)
    assert store.delete("neuron", "n") == 3
    assert store.get("neuron", "n") is None
    assert store.current_revision("neuron", "n") is None
    assert store.list("neuron", 10) == []
    with pytest.raises(NotFound):
        store.delete("neuron", "n")

    again, created = store.put("neuron", "n", {"v": 3}, [])
    assert created is True
    assert again.revision == 4
    assert again.created_at > first.created_at
    assert again.created_at == again.updated_at
    assert store.get("neuron", "n").arrays == []
    assert store.delete("neuron", "n") == 5
    assert store.put("neuron", "n", {}, [])[0].revision == 6


def test_tombstone_blob_is_emptied(store):
    store.put("neuron", "n", SPEC, WEIGHTS)
    store.delete("neuron", "n")
    table = sa.Table("definitions", sa.MetaData(), autoload_with=store.engine)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.name == "n")).one()
    assert (row.revision, bool(row.deleted), bytes(row.arrays)) == (2, True, b"")


def test_create_only(store):
    store.put("neuron", "n", {"v": 1}, [], create_only=True)
    with pytest.raises(PreconditionFailed) as failure:
        store.put("neuron", "n", {"v": 2}, [], create_only=True)
    assert failure.value.current_revision == 1
    assert store.get("neuron", "n").spec == {"v": 1}
    store.delete("neuron", "n")
    record, created = store.put("neuron", "n", {"v": 3}, [], create_only=True)
    assert (record.revision, created) == (3, True)


def test_if_match(store):
    store.put("neuron", "n", {"v": 1}, [])
    record, created = store.put("neuron", "n", {"v": 2}, [], if_match=1)
    assert (record.revision, created) == (2, False)
    with pytest.raises(PreconditionFailed) as failure:
        store.put("neuron", "n", {"v": 3}, [], if_match=1)
    assert failure.value.current_revision == 2
    assert store.get("neuron", "n").spec == {"v": 2}


def test_if_match_on_missing_or_deleted_record_fails_with_no_revision(store):
    with pytest.raises(PreconditionFailed) as failure:
        store.put("neuron", "n", {}, [], if_match=1)
    assert failure.value.current_revision is None
    assert store.current_revision("neuron", "n") is None
    store.put("neuron", "n", {}, [])
    store.delete("neuron", "n")
    with pytest.raises(PreconditionFailed) as failure:
        store.put("neuron", "n", {}, [], if_match=2)
    assert failure.value.current_revision is None


def test_delete_with_if_match(store):
    store.put("neuron", "n", {}, [])
    store.put("neuron", "n", {}, [])
    with pytest.raises(PreconditionFailed) as failure:
        store.delete("neuron", "n", if_match=1)
    assert failure.value.current_revision == 2
    assert store.current_revision("neuron", "n") == 2
    assert store.delete("neuron", "n", if_match=2) == 3


def test_list_sorts_by_name_and_pages_with_a_cursor(store):
    names = ["b", "a", "B", "a-2", "z", "é", "a_1", "m"]
    for name in names:
        store.put("neuron", name, {"name": name}, [np.ones(1)])
    store.put("network", "a0", {}, [])
    expected = sorted(names, key=lambda name: name.encode())  # bytewise on both backends

    first = store.list("neuron", 3)
    assert [s.name for s in first] == expected[:3]
    assert all(isinstance(s, RecordSummary) and not isinstance(s, Record) for s in first)
    assert first[0].spec == {"name": expected[0]} and first[0].revision == 1

    pages, after = [], None
    while page := store.list("neuron", 3, after=after):
        pages.append([s.name for s in page])
        after = page[-1].name
    assert [name for page in pages for name in page] == expected
    assert [len(page) for page in pages] == [3, 3, 2]
    assert store.list("neuron", 10, after=expected[-1]) == []
    assert [s.name for s in store.list("network", 10)] == ["a0"]


def test_list_skips_tombstones(store):
    for name in ["a", "b", "c"]:
        store.put("neuron", name, {}, [])
    store.delete("neuron", "b")
    assert [s.name for s in store.list("neuron", 10)] == ["a", "c"]
    assert [s.name for s in store.list("neuron", 1, after="a")] == ["c"]


def test_failure_inside_the_transaction_leaves_previous_record_intact(store):
    original, _ = store.put("neuron", "n", {"v": 1}, WEIGHTS)

    def fail_on_update(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE definitions"):
            raise RuntimeError("injected failure")

    event.listen(store.engine, "before_cursor_execute", fail_on_update)
    try:
        with pytest.raises(RuntimeError, match="injected failure"):
            store.put("neuron", "n", {"v": 2}, [np.zeros(1)])
        with pytest.raises(RuntimeError, match="injected failure"):
            store.put("neuron", "fresh", {"v": 2}, [])
        with pytest.raises(RuntimeError, match="injected failure"):
            store.delete("neuron", "n")
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_update)

    got = store.get("neuron", "n")
    assert got == original
    assert_same_arrays(got.arrays, WEIGHTS)
    assert store.get("neuron", "fresh") is None
    assert [s.name for s in store.list("neuron", 10)] == ["n"]
    assert store.put("neuron", "n", {"v": 3}, [])[0].revision == 2
    assert store.put("neuron", "fresh", {}, [], create_only=True)[0].revision == 1


def test_invalid_input_leaves_previous_record_intact(store):
    original, _ = store.put("neuron", "n", {"v": 1}, WEIGHTS)
    with pytest.raises(TypeError):
        store.put("neuron", "n", {"bad": object()}, [])
    with pytest.raises(ValueError, match="unsupported dtype"):
        store.put("neuron", "n", {}, [np.zeros(2, dtype=np.int32)])
    assert store.get("neuron", "n") == original


def test_names_are_bound_parameters(store):
    name = "x'); DROP TABLE definitions; --"
    store.put("neuron", name, {}, [])
    assert store.get("neuron", name).name == name
    assert store.current_revision("neuron", name) == 1


def test_precondition_failed_survives_pickling():
    failure = pickle.loads(pickle.dumps(PreconditionFailed(7)))
    assert failure.current_revision == 7
    assert str(failure) == "precondition failed; current revision is 7"
