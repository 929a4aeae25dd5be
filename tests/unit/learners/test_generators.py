from __future__ import annotations

import time
from pathlib import Path

import pytest

from learners.semantics.generators import (
    CachedGenerator,
    GenerationError,
    OpenAIChatGenerator,
    TransformersGenerator,
)
from learners.semantics.prompts import item_description_prompt, user_preferences_prompt
from tests.openai_stub import openai_stub


def test_prompts_follow_the_method() -> None:
    prompt = item_description_prompt("  The Prophet ", kind="book")
    assert "book name and your general knowledge" in prompt
    assert prompt.endswith("Now, analyze the following book name: The Prophet\nResponse:")
    history = user_preferences_prompt(["Toy Story. Genres: Comedy.", "Heat."])
    assert "concise and precise keywords, separated by commas" in history
    assert history.endswith("1. Toy Story. Genres: Comedy.\n2. Heat.")
    with pytest.raises(ValueError, match="at least one item"):
        user_preferences_prompt([])


def test_chat_endpoint_is_deterministic_and_switches_thinking_off() -> None:
    with openai_stub() as (url, state):
        generator = OpenAIChatGenerator(url, "qwen3-8b")
        assert generator.generate("line one\nTitle: Heat", max_new_tokens=12) == "echo: Title: Heat"
        request = state.requests[-1]
        assert request["temperature"] == 0 and request["seed"] == 0
        assert request["max_tokens"] == 12 and request["model"] == "qwen3-8b"
        assert request["chat_template_kwargs"] == {"enable_thinking": False}


def test_chat_endpoint_errors_are_clear() -> None:
    with openai_stub() as (url, state):
        state.fail_with = 502
        with pytest.raises(GenerationError, match="HTTP 502"):
            OpenAIChatGenerator(url, "m").generate("x")
    with pytest.raises(GenerationError, match="cannot reach"):
        OpenAIChatGenerator("http://127.0.0.1:9/v1", "m", timeout_s=2).generate("x")


def test_chat_requests_overlap_and_answers_keep_the_prompts_order() -> None:
    prompts = [f"context\nTitle {i}" for i in range(8)]
    with openai_stub() as (url, state):
        state.delay_s = 0.3
        generator = OpenAIChatGenerator(url, "m", concurrency=4)
        started = time.perf_counter()
        assert generator.generate_many(prompts) == [f"echo: Title {i}" for i in range(8)]
        assert state.most_in_flight == 4  # never more than asked, and the server got 4
        assert time.perf_counter() - started < 8 * 0.3  # not one after another
        state.most_in_flight = 0
        one_at_a_time = OpenAIChatGenerator(url, "m", concurrency=1)
        assert one_at_a_time.generate_many(prompts[:3]) == [f"echo: Title {i}" for i in range(3)]
        assert state.most_in_flight == 1
    with pytest.raises(ValueError, match="at least 1"):
        OpenAIChatGenerator(url, "m", concurrency=0)


def test_a_failed_request_among_concurrent_ones_is_raised() -> None:
    with openai_stub() as (url, state):
        state.fail_with = 400  # not retried
        with pytest.raises(GenerationError, match="HTTP 400"):
            OpenAIChatGenerator(url, "m", concurrency=4).generate_many(["a", "b", "c"] * 4)


def test_outputs_are_cached_per_model_prompt_and_length(tmp_path: Path) -> None:
    with openai_stub() as (url, state):
        cached = CachedGenerator(OpenAIChatGenerator(url, "m"), tmp_path / "cache.sqlite")
        first = cached.generate("prompt", 16)
        assert cached.generate("prompt", 16) == first
        assert len(state.requests) == 1 and cached.hits == 1
        cached.generate("prompt", 32)
        assert len(state.requests) == 2
        cached.close()
        reopened = CachedGenerator(OpenAIChatGenerator(url, "m"), tmp_path / "cache.sqlite")
        assert reopened.generate("prompt", 16) == first and len(state.requests) == 2
        reopened.close()


def test_missing_generator_model_is_clear(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="does not exist"):
        TransformersGenerator(tmp_path / "missing.gguf")


def test_packaged_generator_runs_offline_and_deterministically() -> None:
    generator = TransformersGenerator(num_threads=1)
    assert generator.name == "SmolLM2-135M-Instruct.Q4_1"
    prompt = item_description_prompt("Toy Story")
    first = generator.generate(prompt, max_new_tokens=12)
    assert first and first == generator.generate(prompt, max_new_tokens=12)


def test_batched_generation_matches_one_at_a_time() -> None:
    """Left padding must not change greedy outputs: a batch equals the prompts one by one."""
    generator = TransformersGenerator(num_threads=1)
    prompts = [item_description_prompt("Toy Story"), item_description_prompt("Heat (1995)")]
    assert generator.generate_many(prompts, max_new_tokens=8) == [
        generator.generate(prompt, max_new_tokens=8) for prompt in prompts
    ]
    assert generator.generate_many([], max_new_tokens=8) == []


def test_cached_batches_generate_only_what_is_missing(tmp_path: Path) -> None:
    with openai_stub() as (url, state):
        cached = CachedGenerator(OpenAIChatGenerator(url, "m"), tmp_path / "cache.sqlite")
        first = cached.generate("a", 16)
        texts = cached.generate_many(["a", "b", "b", "c"], 16)
        assert texts[0] == first and texts[1] == texts[2]
        assert len(state.requests) == 3  # a once, then b and c; the repeated b is not asked
        assert cached.generate_many(["c", "b"], 16) == [texts[3], texts[1]]
        assert len(state.requests) == 3
        cached.close()
