SELECT current_database() AS database, current_user AS "user", current_setting('server_version') AS version
