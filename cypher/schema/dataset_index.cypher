CREATE INDEX {{label}}_dataset IF NOT EXISTS
FOR (n:{{label}}) ON (n.dataset)
