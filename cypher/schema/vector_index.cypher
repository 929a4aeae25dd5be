CREATE VECTOR INDEX {{label}}_{{property}} IF NOT EXISTS
FOR (n:{{label}}) ON n.{{property}}
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}
