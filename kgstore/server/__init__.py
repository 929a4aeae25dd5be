"""A real Neo4j 5.26 on 127.0.0.1 for machines without Docker: obtain, start, stop."""

from kgstore.server.local import LocalNeo4j, ServerError

__all__ = ["LocalNeo4j", "ServerError"]
