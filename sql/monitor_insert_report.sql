INSERT INTO monitor.reports (model_name, last_prediction, predictions, labelled, summary)
VALUES ($1, $2, $3, $4, $5::jsonb)
