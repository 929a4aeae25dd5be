CREATE CONSTRAINT {{label}}_key IF NOT EXISTS
FOR (n:{{label}}) REQUIRE (n.dataset, n.id) IS UNIQUE
