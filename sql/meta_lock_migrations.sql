LOCK TABLE public.schema_migrations IN EXCLUSIVE MODE
