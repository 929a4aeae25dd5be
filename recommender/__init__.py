"""recommender: composes the graph store and the learners into the product (CLI, later API)."""
