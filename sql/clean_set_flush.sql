-- The clean run's writes to the kernel (the pages the COPY's buffer ring
-- writes out as it goes: more than a third of the heap on the real data) are handed
-- to the disk as they are written, not all at the commit's fsync of the new
-- table (which then also waits behind other writers' dirty pages).
SET LOCAL backend_flush_after = '256kB'
