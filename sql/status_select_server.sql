SELECT current_database(), current_user, current_setting('server_version')
