-- the replayed records inserted into monitor.prediction_pending, into log batches
SELECT monitor.pack_pending()
