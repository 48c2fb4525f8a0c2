COPY (SELECT count(*) FROM monitor.outcomes WHERE source LIKE 'raw batch %') TO STDOUT
