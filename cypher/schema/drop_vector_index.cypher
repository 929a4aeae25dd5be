DROP INDEX {{label}}_{{property}} IF EXISTS
