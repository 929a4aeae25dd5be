"""kgstore: the knowledge graph in Neo4j — provisioning, schema, ingestion, statistics."""
