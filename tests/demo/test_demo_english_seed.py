"""demo-english is queued as an ordinary training job when the demo set is seeded, once per empty store."""
import hashlib
import json

from service.api.demo import seed
from service.demo.english import DEMO_ENGLISH_NAME, DEMO_ENGLISH_SETTINGS, TEXT_PATH, demo_english_texts
from service.jobs import job_texts
from service.store import Store


def _store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    store.ensure_schema()
    return store


def test_the_shipped_text_is_the_documented_novel():
    data = TEXT_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == "dfc684d4f857fa938268f9ab9c5567b64bd0691251eca959644adeabe6287a4d"
    assert len(data.decode("utf-8").split()) == 121_567
    assert (TEXT_PATH.parent / "NOTICE.md").read_text().count("public domain") >= 1


def test_paragraphs_keep_every_word_and_fold_line_breaks():
    texts = demo_english_texts()
    assert sum(len(t.split()) for t in texts) == 121_567 and len(texts) > 2_000
    assert all("\n" not in t and t == t.strip() and t for t in texts)
    assert texts[:3] == ["PRIDE AND PREJUDICE", "By Jane Austen", "Chapter 1"]
    assert texts[3] == "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife."


def test_seeding_an_empty_store_queues_one_training_of_the_novel(tmp_path):
    store = _store(tmp_path)
    seed(store, english=True)
    seed(store, english=True)  # a second worker, or a restart: the store is no longer empty
    jobs = store.list_jobs(10, target=DEMO_ENGLISH_NAME)
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.kind, job.state) == ("train", "queued")
    assert job.params["settings"] == DEMO_ENGLISH_SETTINGS.as_dict() and job.params["settings"]["seed"] == 1813
    assert job.params["expected_revision"] is None  # never replaces a demo-english someone stored meanwhile
    assert job_texts(store, job) == demo_english_texts()
    assert json.dumps(job.params)  # the job is an ordinary one: its parameters are JSON


def test_seeding_without_english_queues_nothing(tmp_path):
    store = _store(tmp_path)
    seed(store, english=False)
    assert store.list_jobs(10) == []
    assert store.current_revision("network", "neuron-language-model") == 1
