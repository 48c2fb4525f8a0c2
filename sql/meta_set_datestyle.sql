SELECT pg_catalog.set_config('DateStyle', 'ISO', false)
