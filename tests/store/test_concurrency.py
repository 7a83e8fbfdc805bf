"""Races between real processes (spawn), on SQLite and PostgreSQL."""

from collections import Counter

import pytest

from service.store import Store

from .workers import ProcessTeam

WORKERS = 16


@pytest.fixture(scope="module")
def team():
    team = ProcessTeam(WORKERS)
    yield team
    team.stop()


def winner_of(outcomes):
    assert Counter(outcome[0] for outcome in outcomes) == {"ok": 1, "precondition": WORKERS - 1}, outcomes
    return next(index for index, outcome in enumerate(outcomes) if outcome[0] == "ok")


def test_concurrent_create_only_puts_have_exactly_one_winner(team, store, db_url):
    outcomes = team.run("conditional_put", db_url, True, None)

    winner = winner_of(outcomes)
    assert outcomes[winner] == ("ok", 1, True)
    assert all(outcome == ("precondition", 1) for outcome in outcomes if outcome[0] == "precondition")
    record = store.get("neuron", "contested")
    assert (record.revision, record.spec) == (1, {"writer": winner})
    assert record.arrays[0].tolist() == [float(winner)] * 3
    assert [s.name for s in store.list("neuron", 100)] == ["contested"]


def test_concurrent_if_match_updates_have_exactly_one_winner(team, store, db_url):
    store.put("neuron", "contested", {"writer": "first"}, [])
    outcomes = team.run("conditional_put", db_url, False, 1)

    winner = winner_of(outcomes)
    assert outcomes[winner] == ("ok", 2, False)
    assert all(outcome == ("precondition", 2) for outcome in outcomes if outcome[0] == "precondition")
    record = store.get("neuron", "contested")
    assert (record.revision, record.spec) == (2, {"writer": winner})


def test_write_burst_from_many_processes_loses_nothing(team, db_url):
    writes = 20
    outcomes = team.run("write_burst", db_url, writes)

    assert [outcome for outcome in outcomes if outcome[0] != "ok"] == []  # no "database is locked"
    shared = sorted(revision for _, revisions, _ in outcomes for revision in revisions)
    assert shared == list(range(1, WORKERS * writes // 2 + 1))  # every write got its own revision
    assert [own for _, _, own in outcomes] == [writes // 2] * WORKERS

    store = Store(db_url)
    try:
        assert store.current_revision("network", "shared") == WORKERS * writes // 2
        assert store.get("network", "shared").arrays[0].tolist() == [0.0, 1.0, 2.0, 3.0]
        summaries = store.list("neuron", 100)
        assert [s.name for s in summaries] == sorted(f"own-{i}" for i in range(WORKERS))
        assert all(s.revision == writes // 2 for s in summaries)
    finally:
        store.dispose()


def test_concurrent_claims_take_each_job_exactly_once(team, store, db_url):
    made = {store.create_job("train", f"n{i}", {}).id for i in range(4 * WORKERS)}
    outcomes = team.run("claim_all", db_url, 30)
    assert [outcome for outcome in outcomes if outcome[0] != "ok"] == []
    claimed = [job_id for _, ids in outcomes for job_id in ids]
    assert sorted(claimed) == sorted(made)  # every job once, none twice
    assert {store.get_job(job_id).owner for job_id in claimed} <= {f"worker-{i}" for i in range(WORKERS)}


def test_concurrent_submissions_cannot_overshoot_the_active_job_limit(team, store, db_url):
    outcomes = team.run("submit_limited", db_url, 2)
    assert sorted(kind for kind, _ in outcomes) == ["ok"] * 2 + ["refused"] * (WORKERS - 2), outcomes
    assert all(active == 2 for kind, active in outcomes if kind == "refused")
    assert len(store.list_jobs(100)) == 2
