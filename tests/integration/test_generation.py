"""Descriptions and the LLM persona baseline on the real graph (chat endpoint: local stub)."""

from __future__ import annotations

from pathlib import Path

import neo4j

from kgstore.graph import Database, Graph
from learners.semantics import SentenceTransformerEmbedder
from learners.semantics.generators import OpenAIChatGenerator
from recommender.pipelines.semantics import describe_items, embed_dataset, llm_personas
from tests.integration.helpers import new_ingestor
from tests.integration.test_ingest import generated
from tests.openai_stub import openai_stub


def test_descriptions_are_stored_and_re_embed_exactly_those_items(
    db: Database,
    graph: Graph,
    driver: neo4j.Driver,
    database: str,
    namespace: str,
    tmp_path: Path,
    minilm: SentenceTransformerEmbedder,
) -> None:
    new_ingestor(db, tmp_path).ingest(generated(namespace))
    embed_dataset(graph, minilm, persona_dim=64, progress=False)
    with openai_stub() as (url, state):
        generator = OpenAIChatGenerator(url, "stub-chat")
        assert describe_items(graph, generator, limit=4, progress=False) == 4
        assert describe_items(graph, generator, progress=False) == 36
        assert describe_items(graph, generator, progress=False) == 0
        prompts = [r["messages"][0]["content"] for r in state.requests]
    assert len(prompts) == 40
    assert sum(p.endswith("following Movie and TV name: Item 3\nResponse:") for p in prompts) == 1
    records, _, _ = driver.execute_query(
        "MATCH (i:Item {dataset: $d, id: 'i3'}) RETURN i.description AS d, "
        "i.description_model AS m",
        d=namespace,
        database_=database,
    )
    assert records[0]["d"] == "echo: Response:"
    assert records[0]["m"] == "stub-chat"
    report = embed_dataset(graph, minilm, persona_dim=64, progress=False)
    assert dict(report.embedded) == {"Item": 40}


def test_llm_personas_are_embedded_on_users(
    db: Database,
    graph: Graph,
    driver: neo4j.Driver,
    database: str,
    namespace: str,
    tmp_path: Path,
    minilm: SentenceTransformerEmbedder,
) -> None:
    data = generated(namespace)
    new_ingestor(db, tmp_path).ingest(data)
    with openai_stub() as (url, state):
        generator = OpenAIChatGenerator(url, "stub-chat")
        count = llm_personas(graph, generator, minilm, max_history=3, progress=False)
        assert count == 30
        assert llm_personas(graph, generator, minilm, progress=False) == 0
        prompt = state.requests[0]["messages"][0]["content"]
    assert prompt.count("\n1. ") == 1 and "\n3. " in prompt and "\n4. " not in prompt
    records, _, _ = driver.execute_query(
        "MATCH (u:User {dataset: $d}) RETURN count(u.llm_persona) AS n, "
        "collect(DISTINCT size(u.llm_persona)) AS sizes, collect(u.llm_persona_text)[0] AS t",
        d=namespace,
        database_=database,
    )
    assert records[0]["n"] == 30 and records[0]["sizes"] == [384]
    assert records[0]["t"].startswith("echo: 3. ")
