"""What every command shares: the settings, the connection to the graph, and the options
declared alike everywhere (``--dataset``, ``--quiet``, ``--device``, SASRec's and HDGI's)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from kgstore.connection import DriverLimits, open_driver
from kgstore.graph import Database, Graph
from kgstore.server import LocalNeo4j
from kgstore.server.local import ServerStatus, port_open
from kgstore.settings import Neo4jSettings, kgrec_home
from recommender.config import HDGIConfig, KgrecSettings, SASRecConfig

MODELS = ("models", "recommender")  # under KGREC_HOME
Command = Callable[[argparse.Namespace], int]
Runner = Callable[[list[str]], int]  # runs another kgrec command line


@cache
def settings() -> KgrecSettings:
    """The environment's settings, read once per process."""
    return KgrecSettings()


def models_dir() -> Path:
    return kgrec_home().joinpath(*MODELS)


def local_server(neo4j_settings: Neo4jSettings) -> LocalNeo4j:
    return LocalNeo4j(
        kgrec_home() / "neo4j",
        neo4j_settings,
        heap=settings().neo4j_heap,
        page_cache_mb=settings().neo4j_pagecache_mb,
    )


def neo4j_settings() -> Neo4jSettings:
    """Where the graph is; a password is created for the project's own server when none
    is configured."""
    return Neo4jSettings.from_env(create_local_password="NEO4J_PASSWORD" not in os.environ)


def ensure_server(configured: Neo4jSettings) -> ServerStatus | None:
    """Start the project's local Neo4j when no server is configured (``NEO4J_URI`` unset)
    and its port is closed; its status when it was started. A configured URI is never
    replaced by the local server: writes meant for a server that is not up yet must fail,
    not go elsewhere."""
    if configured.is_local and not configured.configured and not port_open(configured.port):
        print(f"kgrec: starting the local Neo4j on {configured.uri} ...", file=sys.stderr)
        return local_server(configured).start()
    return None


@contextmanager
def database(limits: DriverLimits | None = None) -> Iterator[Database]:
    """The configured database, its driver closed on exit; the project's local server is
    started if needed. With ``limits`` (serving), connections, retries and every read are
    bounded in time."""
    configured = neo4j_settings()
    ensure_server(configured)
    with open_driver(configured, limits) as driver:
        yield Database(
            driver,
            configured.database,
            timeout_s=None if limits is None else limits.query_timeout_s,
        )


@contextmanager
def graph(dataset: str, limits: DriverLimits | None = None) -> Iterator[Graph]:
    """The namespace of ``dataset`` in the configured database (see :func:`database`)."""
    with database(limits) as db:
        yield db.graph(dataset)


def add_dataset(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="dataset name in the graph")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")


def add_hdgi_options(p: argparse.ArgumentParser, hidden_default: int, tuned: bool = False) -> None:
    """HDGI's options, with :class:`HDGIConfig`'s defaults; with ``tuned``, the training
    length is chosen on validation unless ``--epochs`` or ``--patience`` is given."""
    d = HDGIConfig()
    p.add_argument(
        "--hidden", type=int, default=hidden_default, help=f"persona size ({hidden_default})"
    )
    chosen = "chosen on validation, at most"
    p.add_argument(
        "--epochs",
        type=int,
        default=None if tuned else d.epochs,
        help=f"at most ({chosen} {d.epochs})" if tuned else f"at most ({d.epochs})",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=None if tuned else d.patience,
        help="stop after this many epochs without a lower loss "
        + (f"({chosen} {d.patience})" if tuned else f"({d.patience})"),
    )
    p.add_argument("--lr", type=float, default=d.lr, help=f"Adam learning rate ({d.lr:g})")
    p.add_argument(
        "--taste-weight",
        type=float,
        default=d.taste_weight,
        help="weight of the co-user taste reconstruction added to the HDGI loss; 0 trains "
        f"plain HDGI ({d.taste_weight:g})",
    )
    p.add_argument(
        "--profile-weight",
        type=float,
        default=d.profile_weight,
        help="weight of the attribute-profile reconstruction added to the HDGI loss; 0 "
        f"leaves it out ({d.profile_weight:g})",
    )


def add_metapath_options(p: argparse.ArgumentParser) -> None:
    """How HDGI fuses its metapaths (:class:`HDGIConfig`'s defaults)."""
    d = HDGIConfig()
    p.add_argument(
        "--fusion",
        choices=("attention", "mean"),
        default=d.fusion,
        help=f"fuse the metapaths by semantic attention or weigh them alike ({d.fusion})",
    )
    p.add_argument(
        "--path-dropout",
        type=float,
        default=d.path_dropout,
        help=f"chance a metapath is left out of a training pass ({d.path_dropout:g})",
    )
    p.add_argument(
        "--path-norm",
        choices=("auto", "on", "off"),
        default="auto",
        help="layer-normalise each metapath's output before fusing them: auto (default) "
        "chooses on the dataset's validation split where training lengths are chosen "
        "(kgrec personas --tune), and is off otherwise",
    )


def hdgi_config(args: argparse.Namespace) -> HDGIConfig:
    """The HDGI settings of :func:`add_hdgi_options`' options (a length not given keeps the
    default)."""
    given = {"epochs": args.epochs, "patience": args.patience}
    return HDGIConfig(
        hidden_channels=args.hidden,
        lr=args.lr,
        taste_weight=args.taste_weight,
        profile_weight=args.profile_weight,
        fusion=getattr(args, "fusion", "attention"),
        path_dropout=getattr(args, "path_dropout", 0.0),
        path_norm=getattr(args, "path_norm", "off") == "on",
        **{k: v for k, v in given.items() if v is not None},
    )


def add_sasrec_options(p: argparse.ArgumentParser, full: bool = True) -> None:
    """SASRec's options, with :class:`SASRecConfig`'s defaults; ``full=False`` offers only
    the training length and windows."""
    d = SASRecConfig()
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"at most ({d.epochs})")
    p.add_argument(
        "--patience", type=int, default=d.patience, help=f"early stopping ({d.patience})"
    )
    p.add_argument(
        "--window-stride",
        type=int,
        metavar="N",
        help="training windows start N targets apart: every target learned once, from at "
        "least max-len + 1 - N earlier items where the user has them, at about max-len / N "
        "times the work per epoch (default: max-len, windows overlapping by one item)",
    )
    if not full:
        return
    p.add_argument("--hidden", type=int, default=d.hidden, help=f"SASRec width ({d.hidden})")
    p.add_argument("--max-len", type=int, default=d.max_len, help=f"sequence length ({d.max_len})")
    p.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        help=f"windows (of up to max-len targets) per step ({d.batch_size})",
    )
    p.add_argument("--negatives", type=int, help="sampled negatives (default: full softmax)")
    p.add_argument(
        "--item-residual",
        action=argparse.BooleanOptionalAction,
        default=d.item_residual,
        help="text items: the projection plus a learned per-item offset (default); "
        "--no-item-residual: the text projection alone",
    )
    p.add_argument(
        "--user-dropout",
        type=float,
        default=d.user_dropout,
        help=f"chance of dropping a training sequence's user vector ({d.user_dropout:g})",
    )


def sasrec_config(args: argparse.Namespace) -> SASRecConfig:
    """The SASRec settings the options of :func:`add_sasrec_options` give."""
    given = {
        name: getattr(args, name)
        for name in SASRecConfig.model_fields
        if getattr(args, name, None) is not None
    }
    return SASRecConfig(**given)
