SELECT from_version, to_version, action FROM registry.alias_history
WHERE name = $1 AND alias = 'champion' ORDER BY history_id
