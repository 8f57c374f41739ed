-- Webhook endpoints, outbox and delivery attempts; filled in by the webhooks feature.
SELECT 1;
