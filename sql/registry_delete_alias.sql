DELETE FROM registry.aliases WHERE name = $1 AND alias = $2
