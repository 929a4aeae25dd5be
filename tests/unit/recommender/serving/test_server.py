import httpx

from recommender.config import ServingConfig
from recommender.serving.guards import Receive, Scope, Send
from recommender.serving.server import server_config


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("never called")


def test_the_server_keeps_idle_connections_longer_than_client_pools() -> None:
    """A client pool reusing a connection at the moment the server closes it gets a reset;
    the server must hold idle connections past the pool's expiry (httpx's default, and the
    default of uvicorn, is 5 s: they race)."""
    config = server_config(_app, "127.0.0.1", 8000, ServingConfig())
    pool_expiry = httpx.Limits().keepalive_expiry
    assert pool_expiry is not None
    assert config.timeout_keep_alive > pool_expiry
    assert config.timeout_keep_alive == ServingConfig().keep_alive_s


def test_the_keep_alive_is_configurable() -> None:
    config = server_config(_app, "::1", 9000, ServingConfig(keep_alive_s=120))
    assert (config.timeout_keep_alive, config.host, config.port) == (120, "::1", 9000)


def test_the_access_log_is_off_unless_asked_for() -> None:
    quiet = server_config(_app, "127.0.0.1", 8000, ServingConfig())
    assert (quiet.access_log, quiet.log_level) == (False, "warning")
    loud = server_config(_app, "127.0.0.1", 8000, ServingConfig(access_log=True))
    assert (loud.access_log, loud.log_level) == (True, "info")
