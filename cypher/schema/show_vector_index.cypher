SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, options
WHERE name = $name
RETURN name, labelsOrTypes, properties, options.indexConfig.`vector.dimensions` AS dimensions
