SELECT 1 FROM public.schema_migrations WHERE version = $1
