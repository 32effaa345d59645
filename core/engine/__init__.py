"""The nightly sync engine: plan -> outbox -> deliver -> record, per tenant."""
