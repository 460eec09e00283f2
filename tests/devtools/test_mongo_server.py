"""The SecantusDB launcher corrects nested $project / $addFields / $set specs, and only those.

Raw pymongo against servers started here; no Django database is involved. Each server test
runs the same pipeline on plain SecantusDB (showing the bug is still there, so the patch is
still needed) and on the launcher (showing MongoDB's answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from pymongo.collection import Collection

from devtools.mongo_server import flatten_spec, running_server

DOCS: list[dict[str, Any]] = [
    {"_id": 1, "title": "Mug", "rel": {"name": "Kitchen", "slug": "kitchen"}},
    {"_id": 2, "title": "Lamp", "rel": {"name": "Living", "slug": "living"}},
]


def _seeded_collection(uri: str) -> Iterator[Collection[dict[str, Any]]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    collection = client["devtools_test"]["products"]
    collection.insert_many(DOCS)
    try:
        yield collection
    finally:
        client.close()


@pytest.fixture(scope="module")
def plain() -> Iterator[Collection[dict[str, Any]]]:
    with running_server(plain=True) as uri:
        yield from _seeded_collection(uri)


@pytest.fixture(scope="module")
def patched() -> Iterator[Collection[dict[str, Any]]]:
    with running_server() as uri:
        yield from _seeded_collection(uri)


def _run(collection: Collection[dict[str, Any]], *stages: dict[str, Any]) -> list[dict[str, Any]]:
    return list(collection.aggregate([*stages, {"$sort": {"_id": 1}}]))


# --- R1: $project with a nested inclusion ---------------------------------------------------

NESTED_INCLUSION = {"$project": {"rel": {"name": 1}}}
INCLUDED_NAMES = [{"_id": 1, "rel": {"name": "Kitchen"}}, {"_id": 2, "rel": {"name": "Living"}}]


def test_project_nested_inclusion_is_wrong_on_plain_secantus(plain: Collection[dict[str, Any]]) -> None:
    assert _run(plain, NESTED_INCLUSION) == [{"_id": 1, "rel": {"name": 1}}, {"_id": 2, "rel": {"name": 1}}]


def test_project_nested_inclusion_returns_the_subfield_on_launcher(patched: Collection[dict[str, Any]]) -> None:
    assert _run(patched, NESTED_INCLUSION) == INCLUDED_NAMES


def test_project_nested_inclusion_matches_dotted_form_on_launcher(patched: Collection[dict[str, Any]]) -> None:
    assert _run(patched, {"$project": {"rel.name": 1}}) == INCLUDED_NAMES


def test_project_nested_exclusion_drops_only_the_subfield_on_launcher(patched: Collection[dict[str, Any]]) -> None:
    assert _run(patched, {"$project": {"rel": {"slug": 0}}}) == [
        {"_id": 1, "title": "Mug", "rel": {"name": "Kitchen"}},
        {"_id": 2, "title": "Lamp", "rel": {"name": "Living"}},
    ]


def test_project_nested_expression_still_computes_on_launcher(patched: Collection[dict[str, Any]]) -> None:
    stage = {"$project": {"_id": 0, "rel": {"label": {"$concat": ["$rel.name", "/", "$title"]}}}}
    assert _run(patched, {"$sort": {"_id": 1}}, stage) == [
        {"rel": {"label": "Kitchen/Mug"}},
        {"rel": {"label": "Living/Lamp"}},
    ]


# --- R2: $addFields / $set with a nested spec merge into the sub-document ----------------------

MERGED = [
    {"_id": 1, "title": "Mug", "rel": {"name": "Kitchen", "slug": "kitchen", "label": "Mug"}},
    {"_id": 2, "title": "Lamp", "rel": {"name": "Living", "slug": "living", "label": "Lamp"}},
]
REPLACED = [
    {"_id": 1, "title": "Mug", "rel": {"label": "Mug"}},
    {"_id": 2, "title": "Lamp", "rel": {"label": "Lamp"}},
]


@pytest.mark.parametrize("stage_name", ["$addFields", "$set"])
def test_nested_add_fields_replaces_subdocument_on_plain_secantus(
    plain: Collection[dict[str, Any]], stage_name: str
) -> None:
    assert _run(plain, {stage_name: {"rel": {"label": "$title"}}}) == REPLACED


@pytest.mark.parametrize("stage_name", ["$addFields", "$set"])
def test_nested_add_fields_merges_into_subdocument_on_launcher(
    patched: Collection[dict[str, Any]], stage_name: str
) -> None:
    assert _run(patched, {stage_name: {"rel": {"label": "$title"}}}) == MERGED


def test_nested_add_fields_onto_null_parent_builds_new_subdocument_on_launcher(
    patched: Collection[dict[str, Any]],
) -> None:
    # MongoDB replaces a scalar/null parent with a document of the computed fields; SecantusDB's
    # dotted form would leave the null, so the launcher must not flatten there.
    stages = [{"$match": {"_id": 1}}, {"$set": {"rel": None}}, {"$set": {"rel": {"label": "$title"}}}]
    assert _run(patched, *stages) == [{"_id": 1, "title": "Mug", "rel": {"label": "Mug"}}]


# --- flatten_spec ---------------------------------------------------------------------------


def test_flatten_spec_turns_nested_plain_document_into_dotted_paths() -> None:
    assert flatten_spec({"rel": {"name": 1, "slug": 1}}) == {"rel.name": 1, "rel.slug": 1}


def test_flatten_spec_flattens_exclusions_too() -> None:
    assert flatten_spec({"rel": {"slug": 0}, "_id": False}) == {"rel.slug": 0, "_id": False}


def test_flatten_spec_keeps_operator_objects_whole() -> None:
    spec = {"label": {"$concat": ["$a", "$b"]}, "rel": {"up": {"$toUpper": "$rel.name"}}}
    assert flatten_spec(spec) == {"label": {"$concat": ["$a", "$b"]}, "rel.up": {"$toUpper": "$rel.name"}}


def test_flatten_spec_keeps_literal_whole() -> None:
    spec = {"rel": {"$literal": {"name": 1}}, "meta": {"raw": {"$literal": 1}}}
    assert flatten_spec(spec) == {"rel": {"$literal": {"name": 1}}, "meta.raw": {"$literal": 1}}


def test_flatten_spec_flattens_deep_nesting() -> None:
    assert flatten_spec({"a": {"b": {"c": {"d": "$x"}}}}) == {"a.b.c.d": "$x"}


def test_flatten_spec_handles_mixed_dotted_nested_and_scalar_values_in_order() -> None:
    spec = {"_id": 0, "a.b": 1, "rel": {"name": 1, "tags": ["$t"], "empty": {}}, "n": "$n"}
    flat = flatten_spec(spec)
    assert flat == {"_id": 0, "a.b": 1, "rel.name": 1, "rel.tags": ["$t"], "rel.empty": {}, "n": "$n"}
    assert list(flat) == ["_id", "a.b", "rel.name", "rel.tags", "rel.empty", "n"]


def test_flatten_spec_does_not_modify_its_input() -> None:
    spec = {"rel": {"name": 1}}
    flatten_spec(spec)
    assert spec == {"rel": {"name": 1}}


def test_flatten_spec_keeps_subdocument_whole_where_descend_says_no() -> None:
    spec = {"_id": {"a": "$x"}, "rel": {"name": 1}}
    assert flatten_spec(spec, descend=lambda path: path != "_id") == {"_id": {"a": "$x"}, "rel.name": 1}
