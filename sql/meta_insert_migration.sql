INSERT INTO public.schema_migrations (version) VALUES ($1)
